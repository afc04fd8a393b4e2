"""`/sparql`: the SPARQL 1.1 Protocol (query only), a service description and the query page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from clkg.sparql import QueryError
from clkg.web import security
from clkg.web.context import service

blueprint = Blueprint("sparql", __name__)
PROTOCOL_PARAMS = {"query", "default-graph-uri", "named-graph-uri"}


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint():
    query, defaults, nameds = read_protocol_request()
    if query is None:
        return describe_service()
    accept = request.accept_mimetypes if request.headers.get("Accept") else None
    body, media_type = service().run(query, accept=accept, default_graphs=defaults, named_graphs=nameds)
    return body, 200, {"Content-Type": f"{media_type}; charset=utf-8", "Vary": "Accept"}


def read_protocol_request():
    """The query and dataset of a GET, a form POST or a direct POST; updates are refused."""
    if request.method == "GET":
        args = request.args
        if "update" in args:
            raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only.")
        return args.get("query"), args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
    content_type = (request.mimetype or "").lower()
    if content_type == "application/sparql-update" or "update" in request.form:
        raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only.")
    if content_type == "application/sparql-query":
        text = request.get_data(as_text=True)
        return text, request.args.getlist("default-graph-uri"), request.args.getlist("named-graph-uri")
    if content_type == "application/x-www-form-urlencoded":
        if "query" in request.args:  # never silently one of two queries
            raise QueryError(400, "A form POST gives its query in the body, not in the URL.")
        form = request.form
        if not form.get("query"):
            raise QueryError(400, "A POST needs a 'query' form field.")
        # the dataset may be in the body (as the protocol says) or in the URL (as for a direct POST): both count
        return (form["query"], request.args.getlist("default-graph-uri") + form.getlist("default-graph-uri"),
                request.args.getlist("named-graph-uri") + form.getlist("named-graph-uri"))
    raise QueryError(415, "POST a query as application/sparql-query or application/x-www-form-urlencoded.")


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
                           graphs=["ontology", "evidence", "illustrative", "inferred"])
    return body, 200, {"Content-Type": "text/turtle; charset=utf-8", "Vary": "Accept"}
