"""Hostile SPARQL against a real server: SERVICE spellings, depth, size, memory; the server must survive.

Each case asserts its status, that `ASK {}` answers within 1 s while the request is in flight and after,
and that the store is unchanged. A listener on 127.0.0.1 proves that no SERVICE reaches the network.
"""
from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import assert_alive, store_digest


@pytest.fixture(scope="module")
def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                accepted.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


HOSTILE_SERVER_ENV = {"CLKG_QUERY_WORKERS": "2", "CLKG_CACHE_MB": "0"}
ATTACKER = "127.0.0.2"  # another client than assert_alive's 127.0.0.1: the pool is fair per client


def connect(base: str, timeout: float = 60):
    import http.client

    url = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=timeout, source_address=(ATTACKER, 0))


def send(base: str, query: str, method: str = "POST", timeout: float = 60) -> tuple[int, str]:
    """Send a query from the attacker's address; (status, body)."""
    connection = connect(base, timeout)
    try:
        if method == "GET":
            connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}))
        else:
            connection.request("POST", "/sparql", body=query.encode("utf-8"),
                               headers={"Content-Type": "application/sparql-query"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def send_large(base: str, size: int) -> tuple[int, str]:
    """POST a `size`-byte query in chunks; a server that answers 413 early may close before the last one."""
    connection = connect(base)
    connection.putrequest("POST", "/sparql")
    connection.putheader("Content-Type", "application/sparql-query")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    chunk, sent = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * (1024 * 1024 - 29), 0
    try:
        while sent < size:
            part = chunk[: size - sent] if sent == 0 else b"x" * min(len(chunk), size - sent)
            connection.send(part)
            sent += len(part)
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = connection.getresponse()
    try:
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def hostile(base: str, query: str, method: str = "POST", large: int = 0) -> tuple[int, str]:
    """Send a hostile query in a thread, check ASK {} while it is in flight and after, and the store."""
    before = store_digest(base)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(
        reply=send_large(base, large) if large else send(base, query, method)))
    thread.start()
    assert_alive(base)
    thread.join(120)
    assert not thread.is_alive(), "the hostile request did not finish"
    assert_alive(base)
    assert store_digest(base) == before
    return outcome["reply"]


def service_spellings(port: int) -> dict[str, str]:
    target = f"http://127.0.0.1:{port}/internal"
    return {
        "issue-hash-bypass": f"PREFIX ex: <http://x/> SELECT * WHERE {{ {{BIND(ex:a\\# AS ?x)}} UNION "
                             f"{{SERVICE <{target}> {{?s ?p ?o}}}} }}",
        "quote-escape-bypass": f"PREFIX ex: <http://x/> SELECT * WHERE {{ {{BIND(ex:a\\' AS ?x)}} UNION "
                               f"{{SERVICE <{target}> {{?s ?p ?o}}}} }}",
        "plain": f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "lowercase": f"select * where {{ service <{target}> {{ ?s ?p ?o }} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        "unicode-escape": f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        "long-unicode-escape": f"SELECT * WHERE {{ \\U00000053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        "comment-between": f"SELECT * WHERE {{ SERVICE # a comment }}\n <{target}> {{ ?s ?p ?o }} }}",
        "prefixed-iri": f"PREFIX r: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE r:internal {{ ?s ?p ?o }} }}",
        "relative-iri": f"BASE <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE <internal> {{ ?s ?p ?o }} }}",
        "variable": f"SELECT * WHERE {{ VALUES ?x {{ <{target}> }} SERVICE ?x {{ ?s ?p ?o }} }}",
        "in-subquery": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        "in-exists": f"SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        "in-not-exists-nested": f"ASK {{ FILTER NOT EXISTS {{ FILTER(EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }}) }} }}",
        "in-optional-minus": f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ MINUS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        "in-construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "in-projection-exists": f"SELECT (EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} AS ?e) WHERE {{}}",
        "in-graph": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
    }


SPELLINGS = list(service_spellings(1))


@pytest.mark.parametrize("name", SPELLINGS)
def test_no_service_spelling_reaches_the_network(hostile_server, listener, name):
    port, accepted = listener
    query = service_spellings(port)[name]
    status, body = hostile(hostile_server, query)
    assert status in (400, 403), body
    assert "SERVICE is not allowed" in body or "Malformed" in body, body
    assert accepted == [], f"{name}: the listener saw a connection"


@pytest.mark.parametrize("depth", [10, 100, 1000, 5000, 10_000])
@pytest.mark.parametrize("shape", ["braces", "parens", "exists", "concat", "plus-chain", "union-chain"])
def test_deep_queries_get_a_400_that_says_depth(hostile_server, shape, depth):
    query = {
        "braces": "SELECT * WHERE " + "{" * depth + "?s ?p ?o" + "}" * depth,
        "parens": "SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }",
        "exists": "SELECT * WHERE { " + "FILTER EXISTS { " * depth + "?s ?p ?o" + " }" * depth + " }",
        "concat": "SELECT * WHERE { BIND(" + "CONCAT(" * depth + "'a'" + ",'a')" * depth + " AS ?x) }",
        "plus-chain": "SELECT * WHERE { FILTER(1" + " + 1" * depth + " > 0) }",
        "union-chain": "SELECT * WHERE { {?s ?p ?o}" + " UNION {?s ?p ?o}" * depth + " }",
    }[shape]
    status, body = hostile(hostile_server, query)
    if depth <= 10:
        assert status == 200, body
    elif depth >= 1000:
        assert status in (400, 503), body  # 503: the parse itself passed the time limit; never a dead worker
        if status == 400:
            assert "nested too deeply" in body, body
    else:
        assert status in (200, 400), body


@pytest.mark.parametrize("size", [256 * 1024 + 1, 1024 * 1024, 10 * 1024 * 1024, 100 * 1024 * 1024])
def test_a_query_over_the_size_limit_is_413(hostile_server, size):
    status, body = hostile(hostile_server, "", large=size)
    assert status == 413 and "limit" in body, body


def test_a_long_get_query_is_413(hostile_server):
    status, body = hostile(hostile_server, "ASK {} #" + "x" * (300 * 1024), method="GET")
    assert status in (413, 414), body


def test_a_query_just_under_the_limit_is_answered(hostile_server):
    query = "ASK { } #" + "x" * (200 * 1024)
    status, body = hostile(hostile_server, query)
    assert status == 200 and json.loads(body)["boolean"] is True


@pytest.mark.parametrize("query", [
    "LOAD <http://127.0.0.1:1/data.ttl>", "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }", "DROP ALL", "CLEAR DEFAULT", "COPY DEFAULT TO <urn:g>",
    "PREFIX ex: <http://x/> INSERT { ?s ex:p 1 } WHERE { ?s ?p ?o }",
])
def test_updates_are_403_on_the_parse(hostile_server, query):
    status, body = hostile(hostile_server, query)
    assert status == 403 and "read-only" in body, body


def test_malformed_query_is_400_with_line_and_column(hostile_server):
    status, body = hostile(hostile_server, "SELECT * WHERE {\n ?s ?p }")
    assert status == 400 and "line 2" in body and "column" in body, body


def test_named_query_values_cannot_change_the_structure(hostile_server):
    """A parameter value with SPARQL syntax in it stays one literal: no SERVICE, no extra rows."""
    port = 9
    for value in ['"} SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #', "') } UNION { ?s ?p ?o } #",
                  "\\u007D SERVICE", '"""', "x\nSELECT"]:
        url = f"{hostile_server}/api/queries/cases?" + urllib.parse.urlencode({"motive": value})
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        assert status in (200, 400), body
        if status == 200:
            assert json.loads(body)["results"]["bindings"] == [], (value, body)
    assert_alive(hostile_server)
    assert port


def test_relative_iris_resolve_against_the_base(hostile_server):
    status, body = send(hostile_server, "CONSTRUCT { <s> <p> 1 } WHERE {}")
    assert status == 200 and "<https://w3id.org/clkg/s>" in body, body


def try_to_connect(port: int, queue) -> None:
    """Run in a spawned process: raise the worker's walls, then try to reach the listener."""
    from clkg import sandbox

    sandbox.enter(1024)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        queue.put("connected")
    except OSError as error:
        queue.put(f"refused: {error.errno}")


def test_a_sandboxed_worker_cannot_open_a_connection(listener):
    import errno
    import multiprocessing

    port, accepted = listener
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=try_to_connect, args=(port, queue))
    process.start()
    outcome = queue.get(timeout=60)
    process.join(30)
    assert outcome == f"refused: {errno.EPERM}"
    assert accepted == []


def doubling_query(levels: int) -> str:
    """About 250 bytes that double a string `levels` times in BINDs: 2^levels bytes of memory."""
    binds = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(levels))
    return f'SELECT (STRLEN(?v{levels}) AS ?n) WHERE {{ BIND("xxxxxxxxxxxxxxxx" AS ?v0) {binds} }}'


def test_a_memory_bomb_ends_its_own_request_only(tmp_path_factory):
    """With a small memory cap, a query doubling a string 30 times (16 GiB) fails cleanly; others go on."""
    import os
    import subprocess
    import sys

    from conftest import DATA, SERVE_COMMAND, live_server

    from clkg import config

    data_dir = tmp_path_factory.mktemp("memory")
    dirs = {"ontology": [str(DATA / "ontology")], "evidence": [str(DATA / "evidence")],
            "illustrative": [str(DATA / "illustrative")]}
    env = {"CLKG_SOURCE_DIRS": json.dumps(dirs), "CLKG_WORKER_MEMORY": "1024", "CLKG_QUERY_TIMEOUT": "20"}
    subprocess.run([sys.executable, "-m", "clkg.cli", "build", "--no-reason"], cwd=config.ROOT, check=True,
                   capture_output=True, env=dict(os.environ, CLKG_DATA_DIR=str(data_dir), **env))
    with live_server(SERVE_COMMAND, data_dir, env=env) as base:
        status, body = hostile(base, doubling_query(30))
        assert status in (400, 500, 503), body
        status, body = send(base, doubling_query(4))
        assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(16 * 2 ** 4)
