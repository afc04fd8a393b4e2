"""The remote-store client (clkg/stores/remote.py) and the loader (clkg/stores/loading.py) against a real
Virtuoso 7 (tests/virtuoso.py): the SPARQL 1.1 query and update protocols, the Graph Store HTTP
Protocol, digest authentication, loading a built store graph by graph, and `clkg build` with
CLKG_STORE=remote. What Virtuoso never does (ask for Basic, redirect, hang, answer a partial result) is
shown by small real HTTP servers on 127.0.0.1 that do exactly that."""
from __future__ import annotations

import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pyoxigraph as ox
import pytest

from clkg import config, store
from clkg.config import Settings
from clkg.errors import QueryError
from clkg.sparql import QueryRequest
from clkg.stores import loading, mirror
from clkg.stores.remote import RemoteStore, RemoteStoreError, parse_challenges
from clkg.stores.remote_reading import RemoteTarget
from conftest import mini_settings

EX = "http://example.org/clkg-test/"


@pytest.fixture(scope="module")
def remote(virtuoso) -> RemoteStore:
    return RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user, virtuoso.password,
                       timeout=60)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    settings = mini_settings(tmp_path_factory.mktemp("remote-mini"))
    store.build(settings, reason=False)
    return settings


def local_dataset(settings) -> dict[str, ox.Dataset]:
    embedded = store.open_read_only(settings)
    return {g.value: canonical(q.triple for q in embedded.quads_for_pattern(None, None, None, g))
            for g in embedded.named_graphs()}


def canonical(triples) -> ox.Dataset:
    """Triples as a canonical dataset (RDFC-1.0), so that graphs with blank nodes compare by structure."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def same(a: ox.Dataset, b: ox.Dataset) -> bool:
    return set(a) == set(b)


# --- the protocols on Virtuoso ---------------------------------------------------------------------------
def test_graph_store_round_trip_keeps_every_term(remote):
    graph = EX + "round-trip"
    text = ('<http://example.org/clkg-test/a> <http://example.org/clkg-test/says> '
            '"Leraren zeggen: \\"samen leren\\" \\u2013 ook \\\\ en\\nnieuwe regels, ë, \\U0001F600"@nl .\n'
            '<http://example.org/clkg-test/a> <http://example.org/clkg-test/year> '
            '"2015"^^<http://www.w3.org/2001/XMLSchema#gYear> .\n'
            '<http://example.org/clkg-test/a> <http://example.org/clkg-test/score> '
            '"0.125"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
            '<http://example.org/clkg-test/a> <http://example.org/clkg-test/knows> _:b1 .\n'
            '_:b1 <http://example.org/clkg-test/name> "plain" .\n')
    sent = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]
    remote.put_graph(graph, text.encode())
    assert same(canonical(remote.get_graph(graph)), canonical(sent))
    remote.put_graph(graph, b'<http://example.org/clkg-test/a> <http://example.org/clkg-test/p> "replaced" .\n')
    assert [t.object.value for t in remote.get_graph(graph)] == ["replaced"]  # PUT replaces, never adds
    assert remote.delete_graph(graph) is True
    assert remote.get_graph(graph) is None and remote.delete_graph(graph) is False


def test_query_update_ask_and_construct(remote):
    graph = ox.NamedNode(EX + "protocol")
    remote.update(f'DROP SILENT GRAPH {graph} ; INSERT DATA {{ GRAPH {graph} {{ <{EX}s> <{EX}p> "o", 2 }} }}')
    variables, rows = remote.select(f"SELECT ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} ORDER BY STR(?o)")
    assert variables == ["o"] and [r["o"] for r in rows] == [ox.Literal("2", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")), ox.Literal("o")]
    assert remote.ask(f"ASK {{ GRAPH {graph} {{ <{EX}s> <{EX}p> 2 }} }}") is True
    assert remote.ask(f"ASK {{ GRAPH {graph} {{ <{EX}s> <{EX}p> 3 }} }}") is False
    triples = remote.construct(f"CONSTRUCT {{ ?s <{EX}q> ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    assert {t.object for t in triples} == {r["o"] for r in rows} and all(t.predicate.value == EX + "q" for t in triples)
    # the dataset of the protocol: default-graph-uri makes that graph the default graph
    _, rows = remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", default_graphs=[graph.value])
    assert int(rows[0]["n"].value) == 2
    remote.update(f"DROP SILENT GRAPH {graph}")
    assert remote.ask(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}") is False


def test_errors_name_the_endpoint_the_status_and_the_store_message(remote, virtuoso):
    with pytest.raises(RemoteStoreError) as error:
        remote.select("SELECT * WHERE { ?s ?p }")
    assert error.value.status == 400 and error.value.endpoint == virtuoso.query_url
    assert "syntax error" in error.value.message.lower() and virtuoso.query_url in str(error.value)

    wrong = RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user, "not-the-password")
    with pytest.raises(RemoteStoreError) as error:
        wrong.update(f"INSERT DATA {{ GRAPH <{EX}refused> {{ <{EX}s> <{EX}p> 1 }} }}")
    assert error.value.status == 401 and "refused the credentials of user 'clkg'" in error.value.message
    assert "not-the-password" not in str(error.value) and "not-the-password" not in repr(wrong)

    anonymous = RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url)
    with pytest.raises(RemoteStoreError) as error:
        anonymous.put_graph(EX + "refused", b"")
    assert error.value.status == 401 and "CLKG_STORE_USER" in error.value.message
    assert remote.ask(f"ASK {{ GRAPH <{EX}refused> {{ ?s ?p ?o }} }}") is False

    with pytest.raises(RemoteStoreError) as error:
        RemoteStore(f"http://127.0.0.1:{unused_port()}/sparql").select("ASK {}")
    assert error.value.status is None and "cannot reach" in error.value.message


def test_digest_answer_is_reused_without_a_second_challenge(remote, virtuoso):
    """After the first challenge the client answers at once (its nonce count goes up), and still works
    when the store changes the nonce."""
    client = RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user, virtuoso.password)
    for value in range(3):
        client.put_graph(EX + "digest", f'<{EX}s> <{EX}p> "{value}" .\n'.encode())
    assert [t.object.value for t in client.get_graph(EX + "digest")] == ["2"]
    assert client._credentials.counts[virtuoso.gsp_url] >= 2  # one nonce answered several requests
    client.delete_graph(EX + "digest")


def test_a_large_first_request_learns_the_challenge_before_sending(virtuoso):
    """Virtuoso answers a request without credentials with 401 and closes the connection, which resets
    a client still sending a large body (about 8 MB here); the client asks with HEAD first."""
    client = RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user, virtuoso.password,
                         timeout=120)
    body = "".join(f'<{EX}s{i}> <{EX}p> "a value long enough to make the body large, number {i}" .\n'
                   for i in range(100_000)).encode()
    assert len(body) > 8_000_000
    client.put_graph(EX + "large", body)
    assert loading.count_triples(client, EX + "large") == 100_000  # left in place: Virtuoso drops large graphs slowly


# --- loading a built store --------------------------------------------------------------------------------
def test_load_replaces_every_graph_by_gsp(remote, mini):
    expected = local_dataset(mini)
    report = loading.load_graphs(mini, remote)
    assert set(report.graphs) == set(expected) and report.triples == sum(len(d) for d in expected.values())
    for graph, dataset in expected.items():
        assert same(canonical(remote.get_graph(graph)), dataset), graph
    again = loading.load_graphs(mini, remote)  # replacing, not adding: loading twice changes nothing
    assert again.graphs == report.graphs
    for graph, dataset in expected.items():
        assert same(canonical(remote.get_graph(graph)), dataset), graph


def test_load_through_the_update_endpoint_in_chunks_keeps_blank_nodes_whole(remote, virtuoso, real_settings):
    """Only an update endpoint, and requests of at most 500 triples: the real graphs (the ontology's OWL
    restrictions and lists are blank nodes) are still equal, as the chunks never split the triples that
    share a blank node."""
    expected = local_dataset(real_settings)
    blank = sum(1 for d in expected.values() for q in d if isinstance(q.subject, ox.BlankNode)
                or isinstance(q.object, ox.BlankNode))
    assert blank > 500, "the real graph has blank nodes to keep whole"
    updates_only = RemoteStore(virtuoso.query_url, virtuoso.update_url, None, virtuoso.user, virtuoso.password,
                               timeout=120)
    loading.load_graphs(real_settings, updates_only, chunk=500)
    for graph, dataset in expected.items():
        assert same(canonical(remote.get_graph(graph)), dataset), graph


def test_chunks_never_split_blank_node_groups():
    text = "".join(f"<{EX}s{i}> <{EX}p> <{EX}o{i}> .\n" for i in range(5)) + \
        f"<{EX}a> <{EX}p> _:x .\n_:x <{EX}p> _:y .\n_:y <{EX}p> \"end\" .\n<{EX}b> <{EX}p> _:z .\n"
    triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]
    pieces = loading.chunks(triples, 2)
    assert sorted(map(str, (t for piece in pieces for t in piece))) == sorted(map(str, triples))
    for piece in pieces:
        nodes = {n for t in piece for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)}
        others = {n for other in pieces if other is not piece for t in other for n in (t.subject, t.object)}
        assert not nodes & others
    assert max(len(p) for p in pieces) == 3  # the x-y chain travels whole, larger than the chunk


def test_load_drops_only_stale_graphs_of_the_deployment(remote, mini):
    stale, foreign = mini.graph_iri("contribution/deleted-one"), EX + "someone-elses"
    loading.load_graphs(mini, remote)  # the store now holds the miniature graph's graphs only
    for graph in (stale, foreign):
        remote.put_graph(graph, f'<{EX}s> <{EX}p> "kept?" .\n'.encode())
    report = loading.load_graphs(mini, remote)
    assert report.dropped == [stale]
    assert remote.get_graph(stale) is None and remote.get_graph(foreign) is not None
    remote.delete_graph(foreign)


def test_clkg_build_loads_the_remote_store(remote, virtuoso, tmp_path):
    data = config.ROOT / "tests" / "data"
    env = dict(os.environ, CLKG_DATA_DIR=str(tmp_path), CLKG_STORE="remote", CLKG_STORE_QUERY_URL=virtuoso.query_url,
               CLKG_STORE_GSP_URL=virtuoso.gsp_url, CLKG_STORE_USER=virtuoso.user, CLKG_STORE_PASSWORD=virtuoso.password,
               CLKG_SOURCE_DIRS=json.dumps({g: [str(data / g)] for g in ("ontology", "evidence", "illustrative")}),
               PYTHONPATH=os.pathsep.join(filter(None, [str(config.ROOT), os.environ.get("PYTHONPATH", "")])))
    remote.put_graph(f"{config.CANONICAL_BASE}graph/evidence", f'<{EX}s> <{EX}p> "old" .\n'.encode())
    done = subprocess.run([sys.executable, "-m", "clkg.cli", "build", "--no-reason"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # ontology, evidence, illustrative and the evidence counts (clkg/aggregates.py)
    assert "loaded 4 graphs" in done.stdout and virtuoso.gsp_url in done.stdout
    evidence = remote.get_graph(f"{config.CANONICAL_BASE}graph/evidence")
    assert evidence and not any(t.object == ox.Literal("old") for t in evidence)

    wrong = dict(env, CLKG_STORE_PASSWORD="wrong")
    done = subprocess.run([sys.executable, "-m", "clkg.cli", "build"], env=wrong, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "cannot load the remote store" in done.stderr and "HTTP 401" in done.stderr
    assert "Traceback" not in done.stderr
    for broken, says in ((dict(env, CLKG_STORE_QUERY_URL=""), "CLKG_STORE_QUERY_URL"),
                         (dict(env, CLKG_STORE_GSP_URL=""), "CLKG_STORE_GSP_URL or CLKG_STORE_UPDATE_URL"),
                         (dict(env, CLKG_STORE="oracle"), "CLKG_STORE: 'oracle' is not one of embedded, remote")):
        done = subprocess.run([sys.executable, "-m", "clkg.cli", "build"], env=broken, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and says in done.stderr and "Traceback" not in done.stderr


# --- what Virtuoso never does, from small real servers ----------------------------------------------------
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Behaviour(http.server.BaseHTTPRequestHandler):
    """Answers by path: /basic asks for Basic auth, /redirect sends elsewhere, /partial answers with
    Virtuoso's partial-result header, /slow never answers in time."""

    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Behaviour.seen.append((self.path, self.headers.get("Authorization")))
        ask_true = b'{"head":{},"boolean":true}'
        if self.path == "/basic":
            expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Newfangled token="x", Basic realm="test \\"store\\""')
                self.end_headers()
                return
            self._answer(ask_true)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
            self.end_headers()
        elif self.path == "/partial":
            self._answer(ask_true, {"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning incomplete results"})
        elif self.path == "/garbage":
            self._answer(b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": ')
        elif self.path == "/deep":
            self._answer(b'{"head": {"vars": ["s"]}, "results": {"bindings": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}}")
        elif self.path == "/slow":
            time.sleep(3)
            self._answer(ask_true)
        else:
            self._answer(ask_true)

    def _answer(self, body: bytes, headers: dict | None = None):
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (the slow path)
            pass


@pytest.fixture(scope="module")
def behaving():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Behaviour)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_basic_auth_when_the_store_asks_for_it(behaving):
    Behaviour.seen.clear()
    client = RemoteStore(f"{behaving}/basic", user="ann", password="s3cret")
    assert client.ask("ASK {}") is True and client.ask("ASK {}") is True
    assert [auth is None for _, auth in Behaviour.seen] == [True, False, False]  # asked once, then sent at once
    with pytest.raises(RemoteStoreError) as error:
        RemoteStore(f"{behaving}/basic", user="ann", password="wrong").ask("ASK {}")
    assert error.value.status == 401 and "'ann'" in error.value.message


def test_redirects_are_refused_and_credentials_stay_home(behaving):
    Behaviour.seen.clear()
    with pytest.raises(RemoteStoreError) as error:
        RemoteStore(f"{behaving}/redirect", user="ann", password="s3cret").ask("ASK {}")
    assert error.value.status == 302 and "/elsewhere" in error.value.message
    assert [path for path, _ in Behaviour.seen] == ["/redirect"]


def test_partial_results_are_an_error(behaving):
    with pytest.raises(RemoteStoreError) as error:
        RemoteStore(f"{behaving}/partial").ask("ASK {}")
    assert "partial result" in error.value.message and "S1TAT" in error.value.message


def test_a_store_that_does_not_answer_in_time(behaving):
    started = time.monotonic()
    with pytest.raises(RemoteStoreError) as error:
        RemoteStore(f"{behaving}/slow", timeout=0.5).ask("ASK {}")
    assert error.value.status is None and "within 0.5 s" in error.value.message
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("path", ["/garbage", "/deep"])
def test_an_answer_that_cannot_be_read_is_the_store_fault_502(behaving, path):
    """A truncated answer, and one nested 100,000 deep (past any JSON parser's depth), end the request
    with a 502 that says so: never a 500 of ours, never a worker's crash."""
    target = RemoteTarget(RemoteStore(f"{behaving}{path}", timeout=5))
    with pytest.raises(QueryError) as error:
        target.evaluate({}, QueryRequest(query="SELECT ?s WHERE { ?s ?p ?o }", limit=10))
    assert error.value.status == 502 and "could not be read" in error.value.message


def test_a_store_too_slow_for_the_query_is_a_503(behaving):
    target = RemoteTarget(RemoteStore(f"{behaving}/slow", timeout=0.5))
    with pytest.raises(QueryError) as error:
        target.evaluate({}, QueryRequest(query="ASK {}", limit=10))
    assert error.value.status == 503 and "did not answer in time" in error.value.message


def test_an_unreadable_mirror_record_means_a_whole_load(tmp_path):
    """remote.json is the server's own file, but a torn or edited one must not be trusted."""
    settings = Settings(data_dir=tmp_path)
    for content in (b"", b"{", b'{"endpoint": 1}', b"[]", b'{"endpoint": "x", "generation": "y", "graphs": 5}'):
        (tmp_path / mirror.STATE_FILE).write_bytes(content)
        assert mirror.mirrored(settings) is None, content
        assert not mirror.in_step(settings, RemoteStore("http://127.0.0.1:1/sparql")), content


def test_challenges_are_parsed_with_quoted_commas():
    challenges = parse_challenges(['Digest realm="a, b", nonce="n1", qop="auth,auth-int", algorithm=MD5',
                                   'Basic realm="x \\"y\\""'])
    assert challenges == [("digest", {"realm": "a, b", "nonce": "n1", "qop": "auth,auth-int", "algorithm": "MD5"}),
                          ("basic", {"realm": 'x "y"'})]
