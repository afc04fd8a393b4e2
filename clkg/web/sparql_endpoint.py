"""`/sparql`: the SPARQL 1.1 Protocol (query only), a service description and the query page."""
from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, current_app, render_template, request

from clkg.sparql import QueryError
from clkg.web import security
from clkg.web.context import service

blueprint = Blueprint("sparql", __name__)
PROTOCOL_PARAMS = {"query", "default-graph-uri", "named-graph-uri"}


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint():
    query, defaults, nameds = read_protocol_request()
    defaults, nameds = graph_iris("default-graph-uri", defaults), graph_iris("named-graph-uri", nameds)
    if query is None:
        return describe_service()
    accept = request.headers.get("Accept") or None
    body, media_type = service().run(query, accept=accept, default_graphs=defaults, named_graphs=nameds)
    return body, 200, {"Content-Type": f"{media_type}; charset=utf-8", "Vary": "Accept"}


def read_protocol_request():
    """The query and dataset of a GET, a form POST or a direct POST (SPARQL 1.1 Protocol, queries only).

    Sizes are checked before anything is parsed; the query itself is parsed only in a query worker."""
    limit = current_app.config["CLKG"].max_query
    if len(request.query_string) > limit or (request.content_length or 0) > limit:
        raise QueryError(413, f"The request is larger than the limit of {limit} bytes for a query.")
    if request.method == "GET":
        if "update" in request.args:
            raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only.")
        return single_query(request.args), request.args.getlist("default-graph-uri"), request.args.getlist("named-graph-uri")
    content_type = (request.mimetype or "").lower()
    if content_type == "application/sparql-update":
        raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only.")
    if content_type == "application/sparql-query":
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise QueryError(415, f"A query must be sent in UTF-8, not {charset}.")
        if "query" in request.args:
            raise QueryError(400, "Send the query either in the URL or in the body, not both.")
        text = request.get_data(cache=False)
        if len(text) > limit:
            raise QueryError(413, f"The request is larger than the limit of {limit} bytes for a query.")
        try:
            query = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise QueryError(400, f"The query is not valid UTF-8 (byte {error.start}).") from None
        return query, request.args.getlist("default-graph-uri"), request.args.getlist("named-graph-uri")
    if content_type == "application/x-www-form-urlencoded":
        form = request.form
        if "update" in form:
            raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only.")
        if "query" in request.args:
            raise QueryError(400, "Send the query either in the URL or in the body, not both.")
        query = single_query(form)
        if not query:
            raise QueryError(400, "A POST needs a 'query' form field.")
        return (query, request.args.getlist("default-graph-uri") + form.getlist("default-graph-uri"),
                request.args.getlist("named-graph-uri") + form.getlist("named-graph-uri"))
    if not content_type:
        raise QueryError(400, "A POST needs a Content-Type: application/sparql-query or "
                              "application/x-www-form-urlencoded.")
    raise QueryError(415, "POST a query as application/sparql-query or application/x-www-form-urlencoded.")


def graph_iris(parameter: str, values: list[str]) -> list[str]:
    """The dataset's graph names as given, each checked to be an absolute IRI (400 naming it if not)."""
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError as error:
            shown = value if len(value) <= 200 else value[:200] + "…"
            raise QueryError(400, f"The {parameter} {shown!r} is not an absolute IRI: {error}") from None
    return values


def single_query(fields):
    """The one `query` parameter, or None; two or more are refused (SPARQL 1.1 Protocol 2.1.4)."""
    queries = fields.getlist("query")
    if len(queries) > 1:
        raise QueryError(400, f"Give one 'query' parameter, not {len(queries)}.")
    return queries[0] if queries else None


def describe_service():
    """Turtle service description for machines; the YASGUI query page for browsers."""
    settings = current_app.config["CLKG"]
    best = request.accept_mimetypes.best_match(["text/turtle", "text/html"]) if request.headers.get("Accept") else None
    if best == "text/html":
        queries = service().queries
        examples = {q.name: q.text for q in queries.values()}
        security.allow_style_hashes(*security.YASGUI_STYLE_HASHES)
        return render_template("query.html", queries=queries.values(), examples=examples)
    body = render_template("service-description.ttl", endpoint=request.base_url, settings=settings,
                           graphs=["ontology", "evidence", "illustrative", "inferred", "aggregates"])
    return body, 200, {"Content-Type": "text/turtle; charset=utf-8", "Vary": "Accept"}
