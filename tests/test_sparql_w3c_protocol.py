"""The read-only tests of the W3C SPARQL 1.1 Protocol test suite, as reconstructed from the specification
(https://www.w3.org/TR/sparql11-protocol/ and its test manifest's names), each asserting status and
content type, run against the app on the miniature graph."""
from __future__ import annotations

import pytest
import rdflib
from werkzeug.datastructures import MultiDict

EVIDENCE = "https://w3id.org/clkg/graph/evidence"
ONTOLOGY = "https://w3id.org/clkg/graph/ontology"
ASK = "ASK { ?s ?p ?o }"
RESULTS = {"application/sparql-results+json", "application/sparql-results+xml"}
COUNT_CLAIMS = "PREFIX clo: <https://w3id.org/clkg/ontology/> SELECT (COUNT(*) AS ?n) WHERE { ?c a clo:Claim }"


def count(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json(force=True)["results"]["bindings"][0]["n"]["value"])


def test_query_get(client):
    response = client.get("/sparql", query_string={"query": ASK})
    assert response.status_code == 200 and response.mimetype in RESULTS, response.get_data(as_text=True)


def test_query_post_form(client):
    response = client.post("/sparql", data={"query": ASK})
    assert response.status_code == 200 and response.mimetype in RESULTS


def test_query_post_direct(client):
    response = client.post("/sparql", data=ASK, content_type="application/sparql-query")
    assert response.status_code == 200 and response.mimetype in RESULTS


def test_query_post_direct_with_utf8_charset(client):
    response = client.post("/sparql", data=ASK.encode(), content_type="application/sparql-query; charset=UTF-8")
    assert response.status_code == 200 and response.mimetype in RESULTS


def test_query_dataset_default_graph(client):
    response = client.get("/sparql", query_string={"query": COUNT_CLAIMS, "default-graph-uri": EVIDENCE})
    assert count(response) == 5 and response.mimetype == "application/sparql-results+json"


def test_query_dataset_default_graphs_get(client):
    response = client.get("/sparql", query_string=MultiDict([("query", COUNT_CLAIMS), ("default-graph-uri", EVIDENCE),
                                                             ("default-graph-uri", ONTOLOGY)]))
    assert count(response) == 5


def test_query_dataset_default_graphs_post(client):
    response = client.post("/sparql", data=MultiDict([("query", COUNT_CLAIMS), ("default-graph-uri", EVIDENCE),
                                                      ("default-graph-uri", ONTOLOGY)]))
    assert count(response) == 5


def test_query_dataset_named_graphs_post(client):
    query = ("PREFIX clo: <https://w3id.org/clkg/ontology/> "
             "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c a clo:Claim } }")
    response = client.post("/sparql", data=MultiDict([("query", query), ("named-graph-uri", EVIDENCE)]))
    assert count(response) == 5


def test_query_dataset_full_protocol_overrides_from(client):
    """default-graph-uri given: the query's FROM is overridden (Protocol 2.1.4)."""
    query = ("PREFIX clo: <https://w3id.org/clkg/ontology/> "
             f"SELECT (COUNT(*) AS ?n) FROM <{EVIDENCE}> WHERE {{ ?c a clo:Claim }}")
    assert count(client.get("/sparql", query_string={"query": query, "default-graph-uri": ONTOLOGY})) == 0
    assert count(client.get("/sparql", query_string={"query": query})) == 5


@pytest.mark.parametrize("accept, mimetype", [("application/sparql-results+xml", "application/sparql-results+xml"),
                                              ("application/sparql-results+json", "application/sparql-results+json")])
def test_query_content_type_select_and_ask(client, accept, mimetype):
    for query in ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", ASK):
        response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and response.mimetype == mimetype


@pytest.mark.parametrize("query", ["DESCRIBE <https://w3id.org/clkg/claim/c1>",
                                   "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"])
def test_query_content_type_describe_and_construct(client, query):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")


def test_query_relative_iri_resolves_against_the_base(client):
    response = client.get("/sparql", query_string={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"},
                          headers={"Accept": "application/n-triples"})
    assert response.status_code == 200 and response.mimetype == "application/n-triples"
    assert response.get_data(as_text=True).startswith("<https://w3id.org/clkg/s> <https://w3id.org/clkg/p> ")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_bad_query_method(client, method):
    response = client.open("/sparql", method=method, query_string={"query": ASK})
    assert response.status_code == 405


def test_bad_multiple_queries(client):
    response = client.get("/sparql", query_string=MultiDict([("query", ASK), ("query", "ASK {}")]))
    assert response.status_code == 400 and response.mimetype == "text/plain"
    form = client.post("/sparql", data=MultiDict([("query", ASK), ("query", "ASK {}")]))
    assert form.status_code == 400


def test_bad_query_in_url_and_body(client):
    direct = client.post("/sparql?query=ASK%7B%7D", data=ASK, content_type="application/sparql-query")
    assert direct.status_code == 400 and "not both" in direct.get_data(as_text=True)
    form = client.post("/sparql?query=ASK%7B%7D", data={"query": ASK})
    assert form.status_code == 400


def test_bad_query_wrong_media_type(client):
    response = client.post("/sparql", data=ASK, content_type="text/plain")
    assert response.status_code == 415 and response.mimetype == "text/plain"


def test_bad_query_missing_form_type(client):
    response = client.post("/sparql", data="query=" + ASK, headers={"Content-Type": ""})
    assert response.status_code == 400 and "Content-Type" in response.get_data(as_text=True)


def test_bad_query_missing_direct_type(client):
    response = client.post("/sparql", data=ASK)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("charset", ["UTF-16", "ISO-8859-1", "utf-32"])
def test_bad_query_non_utf8(client, charset):
    response = client.post("/sparql", data=ASK.encode(charset.lower()),
                           content_type=f"application/sparql-query; charset={charset}")
    assert response.status_code == 415 and charset.lower() in response.get_data(as_text=True).lower()


def test_bad_query_invalid_utf8_bytes(client):
    response = client.post("/sparql", data=b"ASK { ?s ?p \xff\xfe }", content_type="application/sparql-query")
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)


def test_bad_query_syntax(client):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o"})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "line 1" in response.get_data(as_text=True)


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "query_string": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"},
    {"method": "POST", "data": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"query": "CLEAR ALL"}},
])
def test_bad_update_get_and_updates_on_a_read_only_endpoint(client, request_kwargs):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 403 and "read-only" in response.get_data(as_text=True)
