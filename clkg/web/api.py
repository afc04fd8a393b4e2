"""`/api/queries`: the named competency questions as a small REST API, and `/api/openapi.json`."""
from __future__ import annotations


from flask import Blueprint, abort, current_app, jsonify, request

from clkg import namedqueries, resources
from clkg.sparql import QueryError
from clkg.web import openapi
from clkg.web.context import service

blueprint = Blueprint("api", __name__, url_prefix="/api")


def queries() -> dict:
    return service().queries


@blueprint.get("/queries")
def list_queries():
    return jsonify([q.describe() | {"url": f"{request.url_root}api/queries/{q.name}"} for q in queries().values()])


@blueprint.get("/queries/<name>")
def run_named_query(name: str):
    query = queries().get(name)
    if query is None:
        abort(404)
    accept = request.accept_mimetypes if request.headers.get("Accept") else None
    try:
        body, media_type = service().run_named(name, request.args.to_dict(), accept=accept)
    except namedqueries.ParameterError as error:
        raise QueryError(400, str(error)) from None
    return body, 200, {"Content-Type": f"{media_type}; charset=utf-8", "Vary": "Accept"}


@blueprint.get("/openapi.json")
def openapi_description():
    """OpenAPI 3 description of the machine interface (clkg/web/openapi.py)."""
    return jsonify(openapi.describe(queries(), concept_values(), request.url_root.rstrip("/")))


def concept_values() -> list[str]:
    """What a concept parameter accepts: each concept's code, IRI and local name under clc:
    (queries/internal/resolve-concept.rq decides; this lists the same three forms)."""
    settings = current_app.config["CLKG"]
    text = namedqueries.parse(resources.internal_query("concept-values"), settings.base_iri).text
    namespace, values = settings.base_iri + "concept/", set()
    for row in service().select(text):
        iri = row["concept"].value
        values.add(iri)
        if "code" in row:
            values.add(row["code"].value)
        if iri.startswith(namespace) and len(iri) > len(namespace):
            values.add(iri[len(namespace):])
    values.discard("")
    return sorted(values)
