"""The same product on a remote store: a real Virtuoso 7 answers every read, receives every write.

A copy of the real data directory (the real graph, built with the reasoner) is served with
CLKG_STORE=remote against the test Virtuoso (tests/virtuoso.py); the embedded app on the same data is
the reference. Reads are shown to come from the remote store by changing the remote store alone;
writes by reading the remote store alone. A write killed at any step is whole on both stores after the
next start.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import uuid

import pyoxigraph as ox
import pytest

from clkg import aggregates, config, server, store
from clkg.errors import QueryError
from clkg.sparql import QueryRequest
from clkg.stores import mirror
from clkg.stores.remote import RemoteStore
from clkg.stores.remote_reading import RemoteTarget
from conftest import REMOTE_WRITE_TOKEN, free_port
from test_ingest import new_study
from test_validation import ENTRIES

AUTH = {"Authorization": f"Bearer {REMOTE_WRITE_TOKEN}"}
CLO = config.CANONICAL_BASE + "ontology/"


def remote_fields(virtuoso) -> dict:
    return {"store": "remote", "store_query_url": virtuoso.update_url, "store_gsp_url": virtuoso.gsp_url,
            "store_user": virtuoso.user, "store_password": virtuoso.password}


@pytest.fixture(scope="module")
def client_store(virtuoso) -> RemoteStore:
    """The test's own hands on the remote store, beside the product's."""
    return RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user,
                       virtuoso.password, timeout=120)


@pytest.fixture(scope="module")
def remote_app(remote_real_app):
    return remote_real_app


@pytest.fixture()
def embedded(real_app):
    return real_app.test_client()  # one per test: the language a page sets is kept in a cookie


@pytest.fixture()
def remote(remote_app):
    return remote_app.test_client()


def canonical(body: bytes, fmt: ox.RdfFormat) -> set:
    dataset = ox.Dataset(ox.parse(body, format=fmt))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def evidence_graph(remote_app) -> str:
    return remote_app.config["CLKG"].graph_iri("evidence")


# --- reads ------------------------------------------------------------------------------------------------
def test_the_remote_store_holds_the_deployment_graphs_and_says_so(remote_app, client_store):
    settings = remote_app.config["CLKG"]
    held = mirror.mirrored(settings)
    assert held is not None and held.generation == store.generation_info(settings).token
    assert set(held.graphs) == {settings.graph_iri(name) for name in ("ontology", "evidence", "illustrative",
                                                                      "inferred", "aggregates")}
    reader = store.open_read_only(settings)
    for graph in held.graphs:
        local = sum(1 for _ in reader.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        _, rows = client_store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert int(rows[0]["n"].value) == local, graph


def test_reads_are_answered_by_the_remote_store(remote_app, remote, embedded, client_store):
    marker = f"only-in-the-remote-store-{uuid.uuid4().hex}"
    subject = f"<{config.CANONICAL_BASE}test/{marker}>"
    query = f'SELECT ?s WHERE {{ ?s <{CLO}note> "{marker}" }}'
    client_store.update(f'INSERT DATA {{ GRAPH <{evidence_graph(remote_app)}> {{ {subject} <{CLO}note> "{marker}" }} }}')
    try:
        answer = remote.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200
        assert [b["s"]["value"] for b in answer.get_json()["results"]["bindings"]] == [subject[1:-1]]
        local = embedded.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert local.get_json()["results"]["bindings"] == []
    finally:
        client_store.update(f'DELETE DATA {{ GRAPH <{evidence_graph(remote_app)}> {{ {subject} <{CLO}note> "{marker}" }} }}')


def test_a_query_without_a_dataset_sees_the_deployment_graphs_only(remote, embedded):
    """Virtuoso's own default graph also holds its system graphs; the product's does not."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    counts = [client.get("/sparql", query_string={"query": query},
                         headers={"Accept": "application/sparql-results+json"}).get_json()
              for client in (remote, embedded)]
    values = [int(c["results"]["bindings"][0]["n"]["value"]) for c in counts]
    assert values[0] == values[1] > 10000


def test_blank_nodes_and_booleans_come_back_as_the_embedded_store_gives_them(remote, embedded):
    """Virtuoso labels blank nodes `nodeID://...` in its JSON results and answers `true` as "1"."""
    query = ("SELECT ?list ?broker WHERE { { ?s <http://purl.org/ontology/bibo/authorList> ?list } UNION "
             "{ ?actor <https://w3id.org/clkg/ontology/broker> ?broker } }")
    answers = [client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
               for client in (remote, embedded)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].get_data(as_text=True)
    rows = [a.get_json()["results"]["bindings"] for a in answers]
    assert len(rows[0]) == len(rows[1]) > 100
    kinds = [sorted({row["list"]["type"] for row in found if "list" in row}) for found in rows]
    assert kinds == [["bnode"], ["bnode"]]
    brokers = [sorted({row["broker"]["value"] for row in found if "broker" in row}) for found in rows]
    assert brokers[0] == brokers[1] and set(brokers[0]) <= {"true", "false"} and brokers[0]


@pytest.mark.parametrize("path", ["/concept/M3.ttl", "/concept/C5.3.3.jsonld", "/study/feys-devos-2015.ttl",
                                  "/claim/1.1-feys-devos-2015-horizontal-learning.nt", "/case/example-1.ttl",
                                  "/ontology.ttl"])
def test_linked_data_documents_are_the_same_on_both_stores(remote, embedded, path):
    fmt = ox.RdfFormat.from_extension(path.rsplit(".", 1)[1])
    answers = [client.get(path) for client in (remote, embedded)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].get_data(as_text=True)[:500]
    assert canonical(answers[0].data, fmt) == canonical(answers[1].data, fmt)


@pytest.mark.parametrize("path", ["/", "/concept/M3", "/concept/C5.3.3?lang=nl", "/study/feys-devos-2015",
                                  "/claim/1.1-feys-devos-2015-horizontal-learning", "/evidence-map",
                                  "/evidence-map.csv?function=citesAsEvidence", "/concepts", "/studies", "/claims",
                                  "/cases", "/case/example-1", "/graphs", "/search?q=netwerk",
                                  "/api/queries/studies-for-concept?concept=M3"])
def test_pages_are_the_same_on_both_stores(remote, embedded, path):
    accept = "application/json" if path.startswith("/api/") else "text/html"
    answers = [client.get(path, follow_redirects=True, headers={"Accept": accept}) for client in (remote, embedded)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].get_data(as_text=True)[:500]
    assert answers[0].get_data(as_text=True) == answers[1].get_data(as_text=True)


def test_dumps_hold_the_same_quads(remote, embedded):
    answers = [client.get("/dumps/all.nq") for client in (remote, embedded)]
    assert [a.status_code for a in answers] == [200, 200]
    assert canonical(answers[0].data, ox.RdfFormat.N_QUADS) == canonical(answers[1].data, ox.RdfFormat.N_QUADS)


def test_an_unreachable_store_is_a_502_that_names_it():
    port = free_port()
    target = RemoteTarget(RemoteStore(f"http://127.0.0.1:{port}/sparql", timeout=2))
    with pytest.raises(QueryError) as raised:
        target.evaluate({}, QueryRequest(query="ASK {}", limit=10))
    assert raised.value.status == 502
    assert f"127.0.0.1:{port}/sparql" in raised.value.message and "cannot reach" in raised.value.message


def test_a_query_the_guard_refuses_never_reaches_the_store():
    """SERVICE is refused on the parse, before any request (the store here would not answer anyway)."""
    target = RemoteTarget(RemoteStore(f"http://127.0.0.1:{free_port()}/sparql", timeout=2))
    with pytest.raises(QueryError) as raised:
        target.evaluate({}, QueryRequest(query="SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", limit=10))
    assert raised.value.status == 403


def test_a_server_whose_store_cannot_be_reached_does_not_start(real_settings, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(real_settings.data_dir, data_dir, symlinks=True)
    url = f"http://127.0.0.1:{free_port()}/sparql"
    settings = dataclasses.replace(real_settings, data_dir=data_dir, store="remote", store_query_url=url,
                                   store_update_url=url)
    settings.source_dirs = real_settings.source_dirs
    with pytest.raises(server.StartupError) as raised:
        server.check(settings, progress=False)
    assert url in str(raised.value) and "cannot reach the store" in str(raised.value)


# --- writes -----------------------------------------------------------------------------------------------
def canonical_triples(triples) -> set:
    """Triples compared by structure: blank nodes are each store's own."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def remote_triples(client_store: RemoteStore, graph: str) -> set:
    return canonical_triples(client_store.get_graph(graph) or [])


def local_triples(settings, graph: str) -> set:
    reader = store.open_read_only(settings)
    return canonical_triples([q.triple for q in reader.quads_for_pattern(None, None, None, ox.NamedNode(graph))])


def studies_for(client, concept: str) -> list:
    answer = client.get("/api/queries/studies-for-concept", query_string={"concept": concept})
    assert answer.status_code == 200
    return sorted(b["study"]["value"] for b in answer.get_json()["results"]["bindings"])


def test_a_contribution_and_its_deletion_reach_the_remote_store(remote_app, remote, client_store):
    settings = remote_app.config["CLKG"]
    counts = aggregates.graph_iri(settings.base_iri)
    before = studies_for(remote, "M9")
    created = remote.post("/api/entries", data=new_study("remotely", "Stored far away", doi="10.1234/remote.1"),
                          headers={**AUTH, "Content-Type": "text/turtle"})
    assert created.status_code == 201, created.get_data(as_text=True)
    entry = created.get_json()
    study = config.CANONICAL_BASE + "study/remotely-2020"
    # in the remote store itself, as the embedded store has it; the counts changed alike
    assert len(remote_triples(client_store, entry["graph"])) == len(local_triples(settings, entry["graph"])) > 10
    assert remote_triples(client_store, counts) == local_triples(settings, counts)
    assert studies_for(remote, "M9") == sorted(before + [study])
    evidence_map = remote.get("/api/queries/evidence-map").get_json()["results"]["bindings"]
    assert any(row["concept"]["value"].endswith("/M9") for row in evidence_map)
    assert mirror.mirrored(settings).generation == store.generation_info(settings).token
    assert entry["graph"] in mirror.mirrored(settings).graphs

    deleted = remote.delete(f"/api/entries/{entry['id']}", headers=AUTH)
    assert deleted.status_code == 200, deleted.get_data(as_text=True)
    assert client_store.get_graph(entry["graph"]) in (None, [])
    assert remote_triples(client_store, counts) == local_triples(settings, counts)
    assert studies_for(remote, "M9") == before
    assert entry["graph"] not in mirror.mirrored(settings).graphs


def test_the_validation_context_is_read_from_the_remote_store(remote_app, remote, embedded, client_store):
    """A study with this DOI exists in the remote store only: the remote deployment calls the entry a
    duplicate, the embedded one does not."""
    doi = f"10.1234/only-remote.{uuid.uuid4().hex[:8]}"
    existing = f"<{config.CANONICAL_BASE}study/planted-{uuid.uuid4().hex[:8]}>"
    triples = f'{existing} a <{CLO}Study> ; <http://purl.org/ontology/bibo/doi> "{doi}" .'
    client_store.update(f"INSERT DATA {{ GRAPH <{evidence_graph(remote_app)}> {{ {triples} }} }}")
    try:
        entry = new_study("planted", "A study planted in the remote store", doi=doi)
        reports = [client.post("/api/validate", data=entry, headers={"Content-Type": "text/turtle"})
                   for client in (remote, embedded)]
        assert reports[1].status_code == 200 and reports[1].get_json()["conforms"] is True
        assert reports[0].status_code == 200, reports[0].get_data(as_text=True)
        report = reports[0].get_json()
        assert report["conforms"] is False
        duplicate = existing[1:-1].rsplit("/", 1)[1]
        assert [(r["field"], r["severity"]) for r in report["results"]] == [("bibo:doi", "violation")], report
        assert f"cls:{duplicate} has the same DOI" in report["results"][0]["message"]
    finally:
        client_store.update(f"DELETE DATA {{ GRAPH <{evidence_graph(remote_app)}> {{ {triples} }} }}")


# --- a write killed at any step: whole on both stores at the next start ---------------------------------------
CRASH_BASE = "https://example.org/crash-suite/"


@pytest.mark.parametrize("step", ["ingest:flushed", "ingest:pushed", "ingest:settled"])
def test_a_killed_ingest_is_whole_on_both_stores_after_the_next_start(virtuoso, client_store, tmp_path, step):
    dirs = {"ontology": [str(config.ROOT / "ontology")], "evidence": [str(ENTRIES / "context" / "evidence")],
            "illustrative": [str(ENTRIES / "context" / "illustrative")]}
    env = dict(os.environ, CLKG_DATA_DIR=str(tmp_path / "data"), CLKG_SOURCE_DIRS=json.dumps(dirs),
               CLKG_BASE_IRI=CRASH_BASE, CLKG_STORE="remote", CLKG_STORE_QUERY_URL=virtuoso.update_url,
               CLKG_STORE_GSP_URL=virtuoso.gsp_url, CLKG_STORE_USER=virtuoso.user,
               CLKG_STORE_PASSWORD=virtuoso.password)
    cli = [sys.executable, "-m", "clkg.cli"]
    built = subprocess.run(cli + ["build", "--no-reason"], env=env, capture_output=True, text=True, cwd=config.ROOT)
    assert built.returncode == 0, built.stderr
    entry = tmp_path / "entry.ttl"
    entry.write_bytes(new_study("crashed", "Written, then killed"))
    killed = subprocess.run(cli + ["ingest", str(entry), "--contributor", "Tester"], env=dict(env, CLKG_CRASH_AT=step),
                            capture_output=True, text=True, cwd=config.ROOT)
    assert killed.returncode == -9, killed.stderr
    listed = subprocess.run(cli + ["query", "--named", "studies-for-concept", "concept=M9", "--format", "csv"],
                            env=env, capture_output=True, text=True, cwd=config.ROOT)
    assert listed.returncode == 0, listed.stderr
    settings = dataclasses.replace(config.Settings(data_dir=tmp_path / "data"), base_iri=CRASH_BASE, **remote_fields(virtuoso))
    held = mirror.mirrored(settings)
    assert held is not None and held.generation == store.generation_info(settings).token
    contribution_graphs = sorted(g for g in held.graphs if "/contribution/" in g)
    reader = store.open_read_only(settings)
    local_graphs = sorted(g.value for g in reader.named_graphs() if "/contribution/" in g.value)
    del reader
    assert contribution_graphs == local_graphs  # wholly there or wholly absent, on both alike
    for graph in held.graphs:
        assert remote_triples(client_store, graph) == local_triples(settings, graph), graph
    study = CRASH_BASE + "study/crashed-2020"
    assert (study in listed.stdout) == bool(local_graphs)
