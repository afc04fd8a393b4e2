"""Error answers: JSON for machines and `/api/`, plain text otherwise, and the helpful 404 page for
browsers; never a traceback. Server faults (5xx) carry the request id, so that a report can be
matched with the log."""
from __future__ import annotations

from flask import Response, jsonify, render_template, request

from clkg.web import i18n
from clkg.web.context import request_id
from clkg.web.links import iri_for_path
from clkg.web.negotiation import wants_html


def error_response(status: int, message: str) -> Response:
    best = request.accept_mimetypes.best_match(["application/json", "text/plain", "text/html"])
    if best == "application/json" or request.path.startswith("/api/"):
        body = {"error": message, "status": status}
        if status >= 500:
            body["request_id"] = request_id()
        response = jsonify(body)
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    return response


def not_found(what: str | None = None):
    """404 for an IRI nothing is published at: a helpful page for browsers, text or JSON otherwise."""
    message = i18n.t("notfound.message", path=request.path) if what is None else what
    if wants_html():
        body = render_template("notfound.html", message=message, path=request.path,
                               resource=iri_for_path(request.path))
        return body, 404, {"Content-Type": "text/html; charset=utf-8", "Vary": "Accept"}
    return error_response(404, f"Nothing is published at {request.path} (the IRI <{iri_for_path(request.path)}> "
                               "is unknown). Try /search?q=... or the SPARQL endpoint at /sparql.")
