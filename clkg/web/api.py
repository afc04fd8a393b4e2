"""`/api/queries`: the named competency questions as a small REST API (and its OpenAPI description)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from clkg import namedqueries
from clkg.sparql import QueryError
from clkg.web import service

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
def openapi():
    """OpenAPI 3 description of the named-query API, generated from the `.rq` headers."""
    paths = {"/api/queries": {"get": {"summary": "List the named queries", "responses": {
        "200": {"description": "name, summary and parameters of every named query"}}}}}
    for query in queries().values():
        parameters = [{"name": p.name, "in": "query", "required": p.required, "description": p.description,
                       "schema": {"type": "integer" if p.type == "integer" else "string"}
                       | ({"enum": p.enum} if p.enum else {})} for p in query.parameters]
        paths[f"/api/queries/{query.name}"] = {"get": {
            "summary": query.summary, "description": query.description, "parameters": parameters,
            "responses": {
                "200": {"description": "SPARQL 1.1 results", "content": {
                    "application/sparql-results+json": {}, "text/csv": {}, "text/tab-separated-values": {}}},
                "400": {"description": "a parameter is missing or bad; the message names it"},
                "406": {"description": "the Accept header asks for a format that cannot be served"}}}}
    return jsonify({"openapi": "3.0.3", "info": {"title": "Collective Learning Knowledge Graph: named queries",
                                                 "version": "0.1.0"},
                    "servers": [{"url": request.url_root.rstrip("/")}], "paths": paths})
