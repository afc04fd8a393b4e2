"""The SPARQL 1.1 Protocol at /sparql: formats, dataset selection, service description, refusals."""
from __future__ import annotations

import csv
import io
import json

import pytest
import rdflib

COUNT_CLAIMS = "PREFIX clo: <https://w3id.org/clkg/ontology/> SELECT (COUNT(*) AS ?n) WHERE { ?c a clo:Claim }"
EVIDENCE = "https://w3id.org/clkg/graph/evidence"
ONTOLOGY = "https://w3id.org/clkg/graph/ontology"


def count(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json(force=True)["results"]["bindings"][0]["n"]["value"])


def still_answers(client) -> None:
    """After a refusal the endpoint must answer the next query normally."""
    assert count(client.get("/sparql", query_string={"query": COUNT_CLAIMS})) == 6


def test_get_query_answers_json_by_default_over_the_union_of_graphs(client):
    response = client.get("/sparql", query_string={"query": COUNT_CLAIMS})
    assert response.mimetype == "application/sparql-results+json"
    assert count(response) == 6  # five evidence claims + one illustrative claim


@pytest.mark.parametrize("accept, mimetype", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
])
def test_select_results_in_every_format(client, accept, mimetype):
    query = "PREFIX clo: <https://w3id.org/clkg/ontology/> SELECT ?c WHERE { ?c a clo:Claim } ORDER BY ?c"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    body = response.get_data(as_text=True)
    if mimetype == "text/csv":
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0] == ["c"] and len(rows) == 7
    elif mimetype == "text/tab-separated-values":
        lines = body.strip().split("\n")
        assert lines[0] == "?c" and lines[1].startswith("<https://w3id.org/clkg/claim/")
    elif mimetype.endswith("xml"):
        assert "<sparql" in body and body.count("<result>") == 6
    else:
        assert len(json.loads(body)["results"]["bindings"]) == 6


def test_ask_query(client):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 200 and response.get_json(force=True)["boolean"] is True


@pytest.mark.parametrize("accept, mimetype, rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
])
def test_construct_in_every_rdf_format(client, accept, mimetype, rdflib_format):
    query = ("PREFIX clo: <https://w3id.org/clkg/ontology/> "
             "CONSTRUCT { ?c clo:about ?x } WHERE { ?c a clo:Claim ; clo:about ?x }")
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == mimetype
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format=rdflib_format)
    assert len(graph) == 6


def test_construct_defaults_to_turtle_and_refuses_csv(client):
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"
    assert client.get("/sparql", query_string={"query": query}).mimetype == "text/turtle"
    refused = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert refused.status_code == 406 and "text/turtle" in refused.get_data(as_text=True)
    still_answers(client)


def test_post_form_and_direct_post(client):
    assert count(client.post("/sparql", data={"query": COUNT_CLAIMS})) == 6
    direct = client.post("/sparql", data=COUNT_CLAIMS, content_type="application/sparql-query")
    assert count(direct) == 6


def test_default_graph_uri_and_named_graph_uri_select_graphs(client):
    only_ontology = client.get("/sparql", query_string={"query": COUNT_CLAIMS, "default-graph-uri": ONTOLOGY})
    assert count(only_ontology) == 0
    only_evidence = client.get("/sparql", query_string={"query": COUNT_CLAIMS, "default-graph-uri": EVIDENCE})
    assert count(only_evidence) == 5
    named = ("PREFIX clo: <https://w3id.org/clkg/ontology/> "
             "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c a clo:Claim } }")
    assert count(client.get("/sparql", query_string={"query": named, "named-graph-uri": EVIDENCE})) == 5


def test_from_selects_a_store_graph(client):
    query = ("PREFIX clo: <https://w3id.org/clkg/ontology/> "
             f"SELECT (COUNT(*) AS ?n) FROM <{EVIDENCE}> WHERE {{ ?c a clo:Claim }}")
    assert count(client.get("/sparql", query_string={"query": query})) == 5


@pytest.mark.parametrize("graph", ["file:///etc/passwd", "http://example.org/remote.ttl",
                                   "https://w3id.org/clkg/graph/not-there"])
def test_from_never_fetches_a_file_or_url(client, graph):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
    assert count(client.get("/sparql", query_string={"query": query})) == 0
    assert count(client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                                     "default-graph-uri": graph})) == 0
    named = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{graph}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count(client.get("/sparql", query_string={"query": named})) == 0


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "query_string": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "data": "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "content_type": "application/sparql-update"},
    {"method": "POST", "data": {"update": "DELETE WHERE { ?s ?p ?o }"}},
    {"method": "GET", "query_string": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "GET", "query_string": {"query": "DELETE WHERE { ?s ?p ?o }"}},
])
def test_updates_are_refused(client, request_kwargs):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)
    still_answers(client)


def test_load_is_refused(client):
    response = client.get("/sparql", query_string={"query": "LOAD <http://example.org/data.ttl>"})
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True) and "LOAD" in response.get_data(as_text=True)
    still_answers(client)


def test_service_is_refused(client):
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 403
    assert "SERVICE is not allowed" in response.get_data(as_text=True)
    still_answers(client)


def test_service_in_a_string_or_prefixed_name_is_not_a_refusal(client):
    query = ('PREFIX ex: <http://example.org/> SELECT ?x WHERE { BIND("SERVICE LOAD" AS ?x) '
             'OPTIONAL { ?x ex:service ?y } }')
    assert client.get("/sparql", query_string={"query": query}).status_code == 200


def test_malformed_query_gives_line_and_column(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert response.status_code == 400
    assert "line 2, column 3" in response.get_data(as_text=True)
    still_answers(client)


def test_time_limit_stops_a_runaway_query(client):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 503
    assert "time limit of 1.5 s" in response.get_data(as_text=True)
    still_answers(client)


def test_result_limit_refuses_a_too_large_answer(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 400
    assert "exceeds the limit of 50" in response.get_data(as_text=True)
    construct = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert construct.status_code == 400 and "limit of 50" in construct.get_data(as_text=True)
    still_answers(client)


def test_service_description_in_turtle(client):
    response = client.get("/sparql")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = next(graph.subjects(rdflib.RDF.type, sd.Service))
    assert str(graph.value(service, sd.endpoint)).endswith("/sparql")
    names = {str(o) for o in graph.objects(None, sd.name)}
    assert EVIDENCE in names and ONTOLOGY in names


def test_browser_gets_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "yasgui.min.js" in page and "studies-for-concept" in page
    assert client.get("/static/yasgui/yasgui.min.js").status_code == 200


def test_cors_on_get(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "http://elsewhere.test"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unsupported_post_body_is_a_clear_415(client):
    response = client.post("/sparql", data="{}", content_type="application/json")
    assert response.status_code == 415 and "application/sparql-query" in response.get_data(as_text=True)


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", ["AAA", "true", "", "http://x/ spaced", "<https://w3id.org/clkg/graph/evidence>"])
def test_a_dataset_graph_that_is_not_an_absolute_iri_is_refused_naming_it(client, parameter, value):
    response = client.get("/sparql", query_string={"query": "ASK {}", parameter: value})
    assert response.status_code == 400, response.get_data(as_text=True)
    message = response.get_data(as_text=True)
    assert parameter in message and "absolute IRI" in message
