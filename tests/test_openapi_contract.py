"""The OpenAPI description says exactly what the server does.

Schemathesis (every check, every phase: coverage, fuzzing and the stateful walk through the links) runs
against a real `clkg serve` process on the miniature graph with a write token, a bounded and
deterministic number of examples per operation; any mismatch fails the test with schemathesis' report.
The strategies for SPARQL queries and RDF entries are in tests/openapi_hooks.py. Around it: what the
description must say, and the parameter typing it describes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import HOSTILE_TOKEN, assert_alive

TESTS = Path(__file__).parent
MAX_EXAMPLES = 20  # per operation and phase: about a minute and a half on two cores


def get(base: str, path: str, **params):
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def spec(hostile_server):
    status, body = get(hostile_server, "/api/openapi.json")
    assert status == 200
    return body


def test_schemathesis_finds_no_mismatch(hostile_server, tmp_path):
    command = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
               "run", f"{hostile_server}/api/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
               "--seed", "20261203", "--generation-deterministic",
               "--workers", "1", "--request-timeout", "30", "--no-color",
               "-H", f"Authorization: Bearer {HOSTILE_TOKEN}"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="openapi_hooks",
               PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH", "")])))
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    report = run.stdout[-12000:] + run.stderr[-3000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout and "Stateful" in run.stdout, report
    assert_alive(hostile_server)
    status, entries = get(hostile_server, "/api/entries")
    assert status == 200 and entries, "no generated entry was ever stored: the positive bodies are not valid"


def test_every_operation_is_described_with_every_answer(spec, hostile_server):
    assert spec["servers"] == [{"url": hostile_server}]
    operations = {(path, method): op for path, item in spec["paths"].items() for method, op in item.items()}
    for key in [("/sparql", "get"), ("/sparql", "post"), ("/api/validate", "post"), ("/api/entries", "get"),
                ("/api/entries", "post"), ("/api/entries/{id}", "get"), ("/api/entries/{id}", "delete"),
                ("/api/queries", "get"), ("/api/queries/evidence-gaps", "get")]:
        assert key in operations, key
    for key, op in operations.items():
        assert "500" in op["responses"], key
        assert all("X-Request-Id" in answer["headers"] for answer in op["responses"].values()), key
    named = operations[("/api/queries/studies-for-concept", "get")]["responses"]
    assert {"200", "400", "406", "500", "503"} <= set(named)
    assert {"application/sparql-results+json", "text/csv", "text/tab-separated-values"} <= set(named["200"]["content"])
    assert set(operations[("/api/entries", "post")]["responses"]) >= {"201", "400", "401", "403", "413", "415", "422", "503"}
    assert operations[("/api/entries", "post")]["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a write token configured on the server"}
    post = operations[("/sparql", "post")]["requestBody"]["content"]
    assert set(post) == {"application/sparql-query", "application/x-www-form-urlencoded"}
    assert set(operations[("/api/validate", "post")]["requestBody"]["content"]) == {
        "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"}


def test_evidence_gaps_min_has_its_default_and_is_not_required(spec, hostile_server):
    (minimum,) = spec["paths"]["/api/queries/evidence-gaps"]["get"]["parameters"]
    assert minimum["name"] == "min" and minimum["required"] is False and minimum["schema"]["default"] == 3
    with_default, _ = get(hostile_server, "/api/queries/evidence-gaps")
    assert with_default == 200
    status, body = get(hostile_server, "/api/queries/evidence-gaps", min="")  # empty is absent: the default
    assert status == 200 and body == get(hostile_server, "/api/queries/evidence-gaps", min="3")[1]
    listed = {q["name"]: q for q in get(hostile_server, "/api/queries")[1]}
    assert listed["evidence-gaps"]["parameters"][0]["required"] is False


def test_concept_parameters_list_the_concepts_the_server_accepts(spec, hostile_server):
    values = spec["components"]["schemas"]["Concept"]["enum"]
    assert {"M1", "https://w3id.org/clkg/concept/M1", "D-TASK"} <= set(values)
    for value in values:
        assert get(hostile_server, "/api/queries/studies-for-concept", concept=value)[0] == 200, value
    assert get(hostile_server, "/api/queries/studies-for-concept", concept="M77")[0] == 400


@pytest.mark.parametrize("value", ["\u0663", "1\u0661", "\uff13", "3.0", "3e2", " 3", "0x10", "1_000", "",
                                   "9223372036854775808", "-9223372036854775809", "+", "--3"])
def test_integer_parameters_take_ascii_digits_within_range(hostile_server, value):
    status, body = get(hostile_server, "/api/queries/studies", **{"from": value})
    if value == "":
        assert status == 200  # no value
    else:
        assert status == 400 and "parameter 'from'" in body["error"], (value, body)


@pytest.mark.parametrize("value", ["2015", "+2015", "-5", "0", "9223372036854775807"])
def test_integer_parameters_accept_signed_ascii(hostile_server, value):
    assert get(hostile_server, "/api/queries/studies", **{"from": value})[0] == 200


@pytest.mark.parametrize("value, status", [("https://w3id.org/clkg/study/alpha-2015", 200), ("urn:x:y", 200),
                                           ("alpha-2015", 200),  # a local name in the parameter's namespace
                                           ("alpha 2015", 400), ("../alpha-2015", 400), ("https://x/a b", 400),
                                           ("http://x/<y>", 400), ("https://x/\u0000", 400)])
def test_iri_parameters_are_checked_by_the_iri_parser(hostile_server, value, status):
    answer, body = get(hostile_server, "/api/queries/study-profile", study=value)
    assert answer == status, body


def post_form(base: str, url_params: str, body: str):
    request = urllib.request.Request(f"{base}/sparql?{url_params}", method="POST", data=body.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/sparql-results+json, application/json;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_form_post_takes_the_dataset_from_url_and_body_but_one_query(hostile_server):
    count = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    evidence = urllib.parse.quote("https://w3id.org/clkg/graph/evidence", safe="")
    ontology = urllib.parse.quote("https://w3id.org/clkg/graph/ontology", safe="")

    def triples(url_params, body_params):
        status, body = post_form(hostile_server, url_params, f"query={count}&{body_params}")
        assert status == 200, body
        return int(body["results"]["bindings"][0]["n"]["value"])
    in_evidence, in_ontology = triples("", f"default-graph-uri={evidence}"), triples(f"default-graph-uri={ontology}", "")
    assert in_evidence > 0 and in_ontology > 0
    assert triples(f"default-graph-uri={ontology}", f"default-graph-uri={evidence}") == in_evidence + in_ontology
    assert post_form(hostile_server, "default-graph-uri=true", f"query={count}")[0] == 400  # not an IRI
    status, body = post_form(hostile_server, "query=ASK%7B%7D", f"query={count}")
    assert status == 400 and "query" in body["error"]


def test_conditional_reads_are_described_and_answered(spec, hostile_server):
    operation = spec["paths"]["/api/queries/studies-for-concept"]["get"]
    assert "304" in operation["responses"] and "ETag" in operation["responses"]["200"]["headers"]
    assert "304" not in spec["paths"]["/api/entries"]["get"]["responses"]  # contributions are never cached
    url = f"{hostile_server}/api/queries/studies-for-concept?concept=M1"
    with urllib.request.urlopen(url, timeout=30) as first:
        etag = first.headers["ETag"]
    with pytest.raises(urllib.error.HTTPError) as again:
        urllib.request.urlopen(urllib.request.Request(url, headers={"If-None-Match": etag}), timeout=30)
    assert again.value.code == 304 and again.value.headers["X-Request-Id"]
