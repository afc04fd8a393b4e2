"""End to end: the real server process on a free loopback port, queried by a real SPARQL client."""
from __future__ import annotations

import json
import sys
import urllib.request

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from clkg import config
from conftest import live_server as start_live_server

COMMANDS = {
    "gunicorn (clkg serve)": [sys.executable, "-m", "clkg.cli", "serve", "--host", "127.0.0.1", "--port"],
    "python server.py": [sys.executable, str(config.ROOT / "server.py"), "--host", "127.0.0.1", "--port"],
}


@pytest.fixture(params=sorted(COMMANDS), scope="module")
def live_server(request, real_settings):
    with start_live_server(COMMANDS[request.param], real_settings.data_dir) as base:
        yield base


def test_sparql_client_queries_the_live_endpoint(live_server):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setQuery("PREFIX clo: <https://w3id.org/clkg/ontology/> "
                    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a clo:Study }")
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) > 100


def test_named_query_on_the_live_server(live_server):
    with urllib.request.urlopen(f"{live_server}/api/queries/studies-for-concept?concept=M3") as response:
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
        rows = json.load(response)["results"]["bindings"]
    assert rows and all(r["study"]["value"].startswith("https://w3id.org/clkg/study/") for r in rows)


def test_live_server_refuses_update_and_keeps_serving(live_server):
    request = urllib.request.Request(f"{live_server}/sparql", data=b"DROP ALL",
                                     headers={"Content-Type": "application/sparql-update"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"{live_server}/sparql?query=ASK%7B%7D") as response:
        assert json.load(response)["boolean"] is True
