"""`/api/validate` and `/api/entries`: validate an entry, contribute it, list and delete contributions.

- POST /api/validate: an RDF body (Content-Type picks the parser: text/turtle, application/n-triples,
  application/ld+json, application/rdf+xml) -> the validation report as JSON (conforms, results with
  focus node, path, value, severity and message in the asked language: ?lang=en|nl or Accept-Language),
  or the SHACL validation report itself as Turtle on Accept: text/turtle. Open to everyone.
- POST /api/entries: the same body, with `Authorization: Bearer <token>`; stored when it has no
  violation (201, its id, graph and report), otherwise 422 with the report and nothing stored.
- DELETE /api/entries/<id>: with the token that made the contribution.
- GET /api/entries, GET /api/entries/<id>: the contributions (open); the latter as TriG on
  Accept: application/trig.
Writes are off (403) when the server has no token configured (CLKG_WRITE_TOKEN / CLKG_WRITE_TOKENS).

This process only checks the body's size and media type: reading the entry (its limits), the context and
pyshacl run in worker processes with a time and memory limit (clkg/entryworker.py).
"""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, g, jsonify, make_response, request

from clkg import contributions, fulltext, validation
from clkg.entryworker import EntryWorkers
from clkg.validation import EntryError
from clkg.web.errors import error_response

blueprint = Blueprint("entries", __name__, url_prefix="/api")


@blueprint.record_once
def _start_workers(state) -> None:
    """Entries are read and validated in worker processes (clkg/entryworker.py): start their fork server
    now, in the background, so that the first request is not slower than the rest."""
    state.app.extensions["clkg-entries"] = workers = EntryWorkers(state.app.config["CLKG"])
    workers.start()


def settings():
    return current_app.config["CLKG"]


def workers() -> EntryWorkers:
    return current_app.extensions["clkg-entries"]


def _request_id() -> str | None:
    return g.get("request_id")


@blueprint.errorhandler(EntryError)
def entry_error(error: EntryError):
    response = make_response(error_response(error.status, error.message))
    response.headers.update(error.headers)
    return response


def _contributor() -> str:
    """The contributor behind the request's bearer token; refuses before the body is read."""
    tokens = settings().write_tokens
    if not tokens:
        raise EntryError(403, "Writes are turned off on this server: no write token is configured "
                              "(CLKG_WRITE_TOKEN or CLKG_WRITE_TOKENS). Reads stay open.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise EntryError(401, "Writing needs a token: send the header 'Authorization: Bearer <token>'.",
                         {"WWW-Authenticate": 'Bearer realm="clkg"'})
    for known, name in tokens.items():
        if hmac.compare_digest(known.encode("utf-8"), token.encode("utf-8")):
            return name
    raise EntryError(401, "The token is not valid for writing.",
                     {"WWW-Authenticate": 'Bearer realm="clkg", error="invalid_token"'})


def _body():
    """The request body and its syntax, its size checked; reading it is the workers' job."""
    fmt = validation.format_for(media_type=request.content_type or None)
    limit = settings().max_body
    if request.content_length is not None and request.content_length > limit:
        raise EntryError(413, f"The entry is larger than the limit of {limit} bytes (CLKG_MAX_BODY).")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise EntryError(413, f"The entry is larger than the limit of {limit} bytes (CLKG_MAX_BODY).")
    return data, fmt


def _language() -> str:
    return validation.negotiate_language(request.args.get("lang"), request.accept_languages)


@blueprint.post("/validate")
def validate():
    lang = _language()
    data, fmt = _body()
    as_turtle = request.accept_mimetypes.best_match(["application/json", "text/turtle"]) == "text/turtle"
    report = workers().validate(data, fmt, with_turtle=as_turtle, request_id=_request_id())
    if as_turtle:
        return report.to_turtle(), 200, {"Content-Type": "text/turtle; charset=utf-8", "Vary": "Accept"}
    response = jsonify(report.to_json(lang))
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    return response


@blueprint.post("/entries")
def contribute():
    contributor = _contributor()
    lang = _language()
    data, fmt = _body()
    entry = workers().read(data, fmt, request_id=_request_id(), queue=True)  # a contributor waits its turn
    try:
        contribution, report = contributions.ingest(settings(), entry, contributor,
                                                    workers().runner(_request_id(), queue=True))
    except contributions.Refused as refused:
        body = {"error": f"The entry has {len(refused.report.violations)} violation(s); nothing was stored.",
                "status": 422} | refused.report.to_json(lang)
        return jsonify(body), 422
    except OSError as error:
        return error_response(503, f"The entry could not be stored ({error}); nothing was stored.")
    fulltext.refresh_in_background(settings())
    body = contribution.to_json(request.url_root) | {"report": report.to_json(lang)}
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"{request.url_root}api/entries/{contribution.id}"
    return response


@blueprint.get("/entries")
def list_entries():
    return jsonify([c.to_json(request.url_root) for c in contributions.list_all(settings())])


@blueprint.get("/entries/<contribution_id>")
def show_entry(contribution_id: str):
    try:
        contribution, _quads = contributions.read(settings(), contribution_id)
    except contributions.NotFound as error:
        return error_response(404, str(error))
    if request.accept_mimetypes.best_match(["application/json", "application/trig"]) == "application/trig":
        return contributions.trig(settings(), contribution.id), 200, {"Content-Type": "application/trig; charset=utf-8"}
    return jsonify(contribution.to_json(request.url_root))


@blueprint.delete("/entries/<contribution_id>")
def delete_entry(contribution_id: str):
    contributor = _contributor()
    try:
        contribution = contributions.delete(settings(), contribution_id, contributor)
    except contributions.NotFound as error:
        return error_response(404, str(error))
    except contributions.Forbidden as error:
        return error_response(403, str(error))
    except contributions.Conflict as error:
        return error_response(409, str(error))
    except OSError as error:
        return error_response(503, f"The contribution could not be deleted ({error}); nothing was changed.")
    fulltext.refresh_in_background(settings())
    return jsonify({"deleted": contribution.id, "graph": contribution.graph})
