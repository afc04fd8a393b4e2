"""The OpenAPI 3 description of the machine interface: the named queries, the SPARQL endpoint, entry
validation and contributions. It says what the server does, no more and no less (tests run
schemathesis against it): every status an operation can answer with its media types, the parameter
values it accepts (concept parameters as the list of the store's concepts, integers within the
engine's range, an empty value as absent), bodies, and the bearer token of writes.
"""
from __future__ import annotations

from clkg import namedqueries
from clkg.sparql import RESULT_TYPES

SPARQL_RESULTS = RESULT_TYPES["SELECT"] + ["application/json", "application/xml", "text/xml"]
RDF_DOCUMENTS = RESULT_TYPES["CONSTRUCT"]
ENTRY_TYPES = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
TEXT = {"type": "string"}
REF = "#/components/"

# Why a request failed: JSON for /api/ and for clients that prefer JSON, plain text otherwise.
ERROR = {"type": "object", "required": ["error", "status"], "properties": {
    "error": {"type": "string", "description": "what is wrong and where"},
    "status": {"type": "integer"},
    "request_id": {"type": "string", "description": "on server faults (5xx): the id in the server's log"}}}
SPARQL_JSON = {"type": "object", "required": ["head"], "properties": {
    "head": {"type": "object", "properties": {"vars": {"type": "array", "items": TEXT}}},
    "results": {"type": "object", "required": ["bindings"], "properties": {
        "bindings": {"type": "array", "items": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["type", "value"], "properties": {
                "type": {"enum": ["uri", "literal", "bnode", "triple"]}, "value": {}}}}}}},
    "boolean": {"type": "boolean"}}}
REPORT = {"type": "object", "required": ["conforms", "violations", "warnings", "lang", "results"], "properties": {
    "conforms": {"type": "boolean"}, "violations": {"type": "integer"}, "warnings": {"type": "integer"},
    "lang": {"enum": ["en", "nl"]}, "shapes_version": TEXT,
    "results": {"type": "array", "items": {"type": "object", "required": ["severity", "message"], "properties": {
        "severity": {"enum": ["violation", "warning", "info"]}, "message": TEXT, "focus_node": TEXT}}}}}
CONTRIBUTION = {"type": "object", "required": ["id", "graph", "contributor", "generatedAtTime"], "properties": {
    "id": TEXT, "graph": TEXT, "contributor": TEXT, "generatedAtTime": TEXT, "shapesVersion": TEXT,
    "entries": {"type": "array", "items": TEXT}, "url": TEXT}}
QUERY_INFO = {"type": "object", "required": ["name", "summary", "parameters", "url"], "properties": {
    "name": TEXT, "summary": TEXT, "description": TEXT, "url": TEXT,
    "parameters": {"type": "array", "items": {"type": "object", "required": ["name", "required", "type"], "properties": {
        "name": TEXT, "required": {"type": "boolean"}, "type": {"enum": sorted(namedqueries.TYPES)},
        "description": TEXT, "enum": {"type": "array", "items": TEXT}, "default": TEXT}}}}}
# ?lang= of the validation report: the first two letters of the trimmed value, in any case, are en or nl
# (clkg.validation.negotiate_language); empty means "by Accept-Language".
LANGUAGE = {"type": "string", "pattern": "^(?:[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
                                          "\\u2028\\u2029\\u202f\\u205f\\u3000]*(?:[Ee][Nn]|[Nn][Ll])|$)"}
STATUS = {
    200: "the answer", 201: "stored", 304: "not changed since the ETag (If-None-Match) or date "
    "(If-Modified-Since) the request gives: the store is still the same", 400: "a bad parameter, query or body; the message says what and where",
    401: "no token, or not a valid one", 403: "not allowed: updates and SERVICE, writes turned off, "
    "another contributor's entry", 404: "nothing by that name", 406: "the Accept header asks only for "
    "formats this answer cannot be given in", 409: "the contribution cannot be deleted now",
    413: "the body is larger than the limit", 415: "a body in a media type that cannot be read",
    422: "the entry has violations; nothing was stored", 500: "a fault of the server (logged with the request id)",
    503: "the time limit passed, or no worker is free; try again later",
}


def describe(queries: dict, concepts: list[str], server_url: str) -> dict:
    """The OpenAPI document; `concepts`: every value a concept parameter accepts (codes, local names, IRIs)."""
    paths = {"/api/queries": {"get": operation(
        "listQueries", "The named queries: name, summary and parameters", {200: {"application/json": {
            "type": "array", "items": {"$ref": REF + "schemas/QueryInfo"}}}}, tags=["named queries"], cached=True)},
             "/api/openapi.json": {"get": operation("openapi", "This description", {200: {"application/json": {
                 "type": "object"}}}, tags=["named queries"], cached=True)}}
    for query in queries.values():
        paths[f"/api/queries/{query.name}"] = {"get": operation(
            f"query-{query.name}", query.summary, {200: results_media(), 400: None, 406: None, 503: None},
            description=query.description, parameters=[parameter(p) for p in query.parameters],
            tags=["named queries"], cached=True)}
    paths["/sparql"] = sparql_operations()
    paths.update(entry_operations())
    return {
        "openapi": "3.0.3",
        "info": {"title": "Collective Learning Knowledge Graph", "version": "0.1.0",
                 "description": "Named competency questions, a read-only SPARQL 1.1 endpoint, validation "
                                "and contribution of entries. Every response carries an X-Request-Id."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR, "SparqlJson": SPARQL_JSON, "Report": REPORT, "Contribution": CONTRIBUTION,
                        "QueryInfo": QUERY_INFO, "Concept": {"type": "string", "enum": sorted(set(concepts))}},
            "headers": {"X-Request-Id": {"description": "the request's id, as in the server's log",
                                         "schema": TEXT, "required": True},
                        "Retry-After": {"description": "seconds to wait before trying again", "schema": TEXT},
                        "ETag": {"description": "the answer's validator, for If-None-Match", "schema": TEXT},
                        "Last-Modified": {"description": "when the store last changed", "schema": TEXT}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a write token configured on the server"}},
        },
    }


def operation(operation_id: str, summary: str, answers: dict, *, description: str = "", parameters=(),
              body: dict | None = None, secured: bool = False, tags=(), links: dict | None = None,
              cached: bool = False) -> dict:
    """One operation; `answers` maps a status to {media type: schema} (None: the error shapes);
    `links` maps a status to the OpenAPI links of that response (what a client can do next); a `cached`
    read carries validators and answers 304 to a request that still holds (clkg/web/caching.py)."""
    responses = {}
    if cached:
        answers = {**answers, 304: {}}
    for status, media in {**answers, 500: None}.items():
        content = media if media is not None else error_media()
        response = {"description": STATUS.get(status, ""), "headers": {"X-Request-Id": {"$ref": REF + "headers/X-Request-Id"}}}
        if status == 503:
            response["headers"]["Retry-After"] = {"$ref": REF + "headers/Retry-After"}
        if cached and status in (200, 304):
            response["headers"]["ETag"] = {"$ref": REF + "headers/ETag"}
            response["headers"]["Last-Modified"] = {"$ref": REF + "headers/Last-Modified"}
        if status == 401:
            response["headers"]["WWW-Authenticate"] = {"schema": TEXT, "required": True}
        if links and status in links:
            response["links"] = links[status]
        if content:
            response["content"] = {name: ({"schema": schema} if schema else {}) for name, schema in content.items()}
        responses[str(status)] = response
    result = {"operationId": operation_id, "summary": summary, "responses": responses}
    if description:
        result["description"] = description
    if parameters:
        result["parameters"] = list(parameters)
    if body is not None:
        result["requestBody"] = body
    if secured:
        result["security"] = [{"bearer": []}]
    if tags:
        result["tags"] = list(tags)
    return result


def error_media(text: bool = False) -> dict:
    return {"application/json": {"$ref": REF + "schemas/Error"}} | ({"text/plain": TEXT} if text else {})


def results_media() -> dict:
    return {name: ({"$ref": REF + "schemas/SparqlJson"} if name.endswith("json") else TEXT) for name in SPARQL_RESULTS}


def parameter(p: namedqueries.Parameter) -> dict:
    """A named query's parameter: its values as the server reads them (an empty value is no value)."""
    if p.type == "concept":
        schema = {"$ref": REF + "schemas/Concept"}
    elif p.type == "integer":
        schema = {"type": "integer", "format": "int64", "minimum": namedqueries.INTEGER_MIN,
                  "maximum": namedqueries.INTEGER_MAX}
    elif p.type == "iri":
        schema = {"type": "string", "format": "iri"}
        if p.namespace:  # or a local name in its namespace (clkg/namedqueries.py)
            schema = {"anyOf": [schema, {"type": "string", "pattern": f"^{namedqueries.LOCAL_NAME.pattern}$"}]}
    else:
        schema = {"type": "string", "minLength": 1}
    if p.enum:
        schema = {"type": "string", "enum": list(p.enum)}
    if not p.must_be_given:
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}  # "" means: not given
    if p.default is not None:
        schema["default"] = int(p.default) if p.type == "integer" else p.default
    return {"name": p.name, "in": "query", "required": p.must_be_given, "description": p.description,
            "schema": schema}


def sparql_operations() -> dict:
    graphs = [{"name": name, "in": "query", "required": False, "style": "form", "explode": True,
               "description": description, "schema": {"type": "array", "items": {"type": "string", "format": "iri"}}}
              for name, description in (("default-graph-uri", "a named graph of the store as (part of) the default graph"),
                                        ("named-graph-uri", "a named graph of the store the query may name"))]
    answers = {200: results_media() | {name: TEXT for name in RDF_DOCUMENTS}, 400: error_media(True),
               403: error_media(True), 406: error_media(True), 413: error_media(True), 503: error_media(True)}
    query = {"type": "string", "format": "sparql-query", "minLength": 1}
    get = operation("sparqlGet", "SPARQL 1.1 query by GET; without a query, the service description",
                    {**answers, 200: answers[200] | {"text/html": TEXT}},
                    description="With `query`: the results in the format the Accept header asks for. Without: the "
                                "service description (Turtle), or the query page for browsers.",
                    parameters=[{"name": "query", "in": "query", "required": False, "schema": query}] + graphs,
                    tags=["SPARQL"], cached=True)
    form = {"type": "object", "required": ["query"], "properties": {
        "query": query, "default-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "named-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}}}}
    post = operation("sparqlPost", "SPARQL 1.1 query by POST (directly, or as a form)",
                     {**answers, 415: error_media(True)}, parameters=graphs, tags=["SPARQL"],
                     description="The dataset (default-graph-uri, named-graph-uri) may be given in the URL, and for a "
                                 "form POST in its body too (both count); a form POST gives its query in the body only.",
                     body={"required": True, "content": {"application/sparql-query": {"schema": query},
                                                         "application/x-www-form-urlencoded": {"schema": form}}})
    return {"get": get, "post": post}


def entry_operations() -> dict:
    body = {"required": True, "description": "one RDF graph describing studies, claims or cases",
            "content": {name: {"schema": {"type": "string", "format": "rdf-entry"}} for name in ENTRY_TYPES}}
    language = [{"name": "lang", "in": "query", "required": False, "schema": LANGUAGE,
                 "description": "language of the messages, en or nl (else by Accept-Language)"}]
    entry_id = [{"name": "id", "in": "path", "required": True, "schema": TEXT}]
    refused = {"application/json": {"allOf": [{"$ref": REF + "schemas/Error"}, {"$ref": REF + "schemas/Report"}]}}
    reading = {400: None, 413: None, 415: None, 503: None}
    return {
        "/api/validate": {"post": operation(
            "validateEntry", "Validate an entry with the SHACL shapes (nothing is stored)",
            {200: {"application/json": {"$ref": REF + "schemas/Report"}, "text/turtle": TEXT}, **reading},
            parameters=language, body=body, tags=["entries"])},
        "/api/entries": {
            "get": operation("listEntries", "The contributions", {200: {"application/json": {
                "type": "array", "items": {"$ref": REF + "schemas/Contribution"}}}}, tags=["entries"]),
            "post": operation(
                "contributeEntry", "Store a valid entry in its own named graph (all or nothing)",
                {201: {"application/json": {"allOf": [{"$ref": REF + "schemas/Contribution"}, {
                    "type": "object", "required": ["report"], "properties": {"report": {"$ref": REF + "schemas/Report"}}}]}},
                 401: None, 403: None, 422: refused, **reading},
                parameters=language, body=body, secured=True, tags=["entries"],
                links={201: {"showEntry": {"operationId": "showEntry", "parameters": {"id": "$response.body#/id"}},
                             "deleteEntry": {"operationId": "deleteEntry", "parameters": {"id": "$response.body#/id"}}}})},
        "/api/entries/{id}": {
            "get": operation("showEntry", "One contribution (as TriG on Accept: application/trig)",
                             {200: {"application/json": {"$ref": REF + "schemas/Contribution"}, "application/trig": TEXT},
                              404: None}, parameters=entry_id, tags=["entries"]),
            "delete": operation("deleteEntry", "Delete a contribution (the token that made it only)",
                                {200: {"application/json": {"type": "object", "required": ["deleted", "graph"]}},
                                 401: None, 403: None, 404: None, 409: None, 503: None},
                                parameters=entry_id, secured=True, tags=["entries"])},
    }
