"""Contributing entries: POST /api/entries, DELETE /api/entries/<id>, the command line, all or nothing.

Real store, real validator, real worker processes: the app is built on the real ontology and the
corpus's context (tests/entries/context/). After every refusal the store (every quad of every graph),
the contribution files and the generation are compared with what they were before.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading

import pyoxigraph as ox
import pytest

from clkg import cli, config, contributions, store, validation
from test_validation import ENTRIES, INVALID, entries_settings, expectations

TOKENS = {"token-alice-0123456789": "Alice", "token-bob-9876543210": "Bob"}
ALICE = {"Authorization": "Bearer token-alice-0123456789"}
BOB = {"Authorization": "Bearer token-bob-9876543210"}
TURTLE = "text/turtle"
STUDY = (ENTRIES / "valid" / "study-and-claim.ttl").read_bytes()


def new_study(slug: str, title: str, year: int = 2020, doi: str | None = None) -> bytes:
    """A valid entry: one new study (by new persons) and one claim about M9 citing it."""
    doi_line = f'    bibo:doi "{doi}" ;\n' if doi else ""
    return f"""
@prefix clo:  <https://w3id.org/clkg/ontology/> .
@prefix clc:  <https://w3id.org/clkg/concept/> .
@prefix cls:  <https://w3id.org/clkg/study/> .
@prefix clm:  <https://w3id.org/clkg/claim/> .
@prefix clp:  <https://w3id.org/clkg/person/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
@prefix cito: <http://purl.org/spar/cito/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
cls:{slug}-{year} a clo:Study, bibo:Book ;
    dcterms:title "{title}"@en ;
    dcterms:issued "{year}"^^xsd:gYear ;
    bibo:authorList ( clp:{slug}-a ) ;
    dcterms:creator clp:{slug}-a ;
{doi_line}    clo:inTextCitation "{slug.title()} ({year})" .
clp:{slug}-a a foaf:Person ; foaf:familyName "{slug.title()}" ; foaf:givenName "A." .
clm:4.3-{slug}-{year}-M9 a clo:Claim ;
    cito:cites cls:{slug}-{year} ; cito:citesAsEvidence cls:{slug}-{year} ;
    clo:about clc:M9 ;
    clo:polarity clo:supports ;
    clo:section "4.3" ;
    clo:quote "{slug.title()} ({year}) toont dat netwerken vertrouwen opbouwen."@nl .
""".encode()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from clkg.web import create_app

    settings = entries_settings(tmp_path_factory.mktemp("ingest"), write_tokens=dict(TOKENS))
    application = create_app(settings, reason=False)
    yield application
    application.extensions["clkg"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def settings(app):
    return app.config["CLKG"]


def snapshot(settings) -> dict:
    """Everything a refusal must leave as it was: every quad, every contribution file, the generation."""
    reader = store.open_read_only(settings)
    quads = sorted(str(q) for q in reader.quads_for_pattern(None, None, None, None)
                   if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode))
    blanks = sum(1 for q in reader.quads_for_pattern(None, None, None, None))
    del reader
    folder = contributions.folder(settings)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.is_dir() else []
    return {"quads": quads, "count": blanks, "files": files, "generation": store.generation(settings)}


def graph_triples(settings, graph: str) -> set:
    reader = store.open_read_only(settings)
    triples = {(q.subject, q.predicate, q.object) for q in reader.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
    del reader
    return triples


def studies_for(client, concept: str) -> list:
    response = client.get(f"/api/queries/studies-for-concept?concept={concept}")
    assert response.status_code == 200
    return sorted(b["study"]["value"] for b in response.get_json()["results"]["bindings"])


# --- accepting an entry ----------------------------------------------------------------------------
def test_a_valid_entry_is_stored_in_its_own_graph_with_provenance(client, settings):
    before = set(studies_for(client, "M9"))
    response = client.post("/api/entries", data=STUDY, content_type=TURTLE, headers=ALICE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    cid, graph = body["id"], body["graph"]
    assert graph == f"https://w3id.org/clkg/graph/contribution/{cid}"
    assert response.headers["Location"].endswith(f"/api/entries/{cid}")
    assert body["contributor"] == "Alice" and body["report"]["conforms"] is True
    assert body["shapesVersion"] == validation.shapes_version()
    assert body["entries"] == ["https://w3id.org/clkg/claim/4.3-janssens-peeters-2021-M9",
                               "https://w3id.org/clkg/study/janssens-peeters-2021"]
    # the graph holds the entry (blank nodes renamed) and its provenance, nothing else
    stored = graph_triples(settings, graph)
    entry = validation.parse_entry(STUDY, ox.RdfFormat.TURTLE)
    ground = {t for t in stored if not isinstance(t[0], ox.BlankNode) and not isinstance(t[2], ox.BlankNode)}
    g = ox.NamedNode(graph)
    agent = ox.NamedNode("https://w3id.org/clkg/contributor/alice")
    prov = "http://www.w3.org/ns/prov#"
    provenance = {(g, ox.NamedNode(str(validation.RDF.type)), ox.NamedNode(prov + "Entity")),
                  (g, ox.NamedNode(prov + "wasAttributedTo"), agent),
                  (g, ox.NamedNode("http://purl.org/dc/terms/conformsTo"),
                   ox.NamedNode(f"https://w3id.org/clkg/shapes/{validation.shapes_version()}")),
                  (agent, ox.NamedNode(str(validation.RDF.type)), ox.NamedNode(prov + "Agent")),
                  (agent, ox.NamedNode("http://xmlns.com/foaf/0.1/name"), ox.Literal("Alice"))}
    (when,) = [t for t in ground if t[1].value == prov + "generatedAtTime"]
    assert when[2].datatype.value.endswith("#dateTime") and when[2].value == body["generatedAtTime"]
    expected_ground = {(t.subject, t.predicate, t.object) for t in entry
                       if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
    assert ground == expected_ground | provenance | {when}
    assert len(stored) == len(entry) + len(provenance) + 1
    # the file is the system of record: the same quads, canonical IRIs
    path = contributions.folder(settings) / f"{cid}.trig"
    assert len(list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG))) == len(stored)
    # visible in the very next named query, and listed
    assert set(studies_for(client, "M9")) == before | {"https://w3id.org/clkg/study/janssens-peeters-2021"}
    listing = client.get("/api/entries").get_json()
    assert any(item["id"] == cid and item["contributor"] == "Alice" for item in listing)
    assert client.get(f"/api/entries/{cid}").get_json()["graph"] == graph
    trig = client.get(f"/api/entries/{cid}", headers={"Accept": "application/trig"})
    assert trig.status_code == 200 and trig.data == path.read_bytes()
    # cleaning up also shows the delete
    assert client.delete(f"/api/entries/{cid}", headers=ALICE).status_code == 200
    assert set(studies_for(client, "M9")) == before
    assert graph_triples(settings, graph) == set()


def test_warnings_do_not_stop_an_entry(client, settings):
    response = client.post("/api/entries?lang=nl", data=(ENTRIES / "valid" / "study-with-warnings.ttl").read_bytes(),
                           content_type=TURTLE, headers=BOB)
    assert response.status_code == 201
    report = response.get_json()["report"]
    assert report["warnings"] == 2 and report["violations"] == 0
    assert report["results"][0]["message"].startswith("Deze studie heeft geen DOI")
    assert client.delete(f"/api/entries/{response.get_json()['id']}", headers=BOB).status_code == 200


def test_the_same_labels_in_two_entries_stay_two_nodes(client, settings):
    text = new_study("lambrecht", "Scholen leren samen").decode()
    text = text.replace("bibo:authorList ( clp:lambrecht-a ) ;", "bibo:authorList _:authors ;") + \
        "_:authors <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> clp:lambrecht-a ;\n" \
        "    <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> <http://www.w3.org/1999/02/22-rdf-syntax-ns#nil> .\n"
    other = text.replace("lambrecht", "verhoeven").replace("Lambrecht", "Verhoeven")
    first = client.post("/api/entries", data=text, content_type=TURTLE, headers=ALICE).get_json()
    second = client.post("/api/entries", data=other, content_type=TURTLE, headers=ALICE).get_json()
    blank = lambda graph: {t[0] for t in graph_triples(settings, graph) if isinstance(t[0], ox.BlankNode)}  # noqa: E731
    assert len(blank(first["graph"])) == len(blank(second["graph"])) == 1
    assert blank(first["graph"]) != blank(second["graph"])
    for item in (first, second):
        assert client.delete(f"/api/entries/{item['id']}", headers=ALICE).status_code == 200


# --- refusing: nothing is written -------------------------------------------------------------------
@pytest.mark.parametrize("path", [p for p in INVALID if any(e[0] == "violation" for e in expectations(p))],
                         ids=lambda p: p.stem)
def test_an_entry_with_a_violation_is_refused_and_nothing_changes(client, settings, path):
    before = snapshot(settings)
    response = client.post("/api/entries", data=path.read_bytes(), content_type=TURTLE, headers=ALICE)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["status"] == 422 and body["conforms"] is False
    assert body["error"] == f"The entry has {body['violations']} violation(s); nothing was stored."
    assert any(r["severity"] == "violation" for r in body["results"])
    assert snapshot(settings) == before


@pytest.mark.parametrize("query, data, content_type, status, fragment", [
    ("", b"@prefix cls: <https://w3id.org/clkg/study/> .\ncls:x cls:y", TURTLE, 400, "line 2 column"),
    ("", b'{"@id": "https://w3id.org/clkg/study/x"', "application/ld+json", 400, "line 1 column"),
    ("", b"<https://w3id.org/clkg/study/x> <http://purl.org/dc/terms/title> .", "application/n-triples", 400, "line 1"),
    ("", b"", TURTLE, 400, "The entry is empty"),
    ("", b"<a> <b> <c> .", "application/pdf", 415, "Cannot read an entry as"),
    ("", b"<a> <b> <c> .", None, 415, "Say which RDF format"),
    ("?lang=fr", STUDY, TURTLE, 400, "lang must be one of en, nl"),
    ("", b'{"@context": "https://schema.org/", "@id": "https://w3id.org/clkg/study/x", "name": "x"}',
     "application/ld+json", 400, "remote context"),
    ("", b"<https://w3id.org/clkg/validation/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
         b"<https://w3id.org/clkg/ontology/Study> .", "application/n-triples", 400, "reserved IRI"),
])
@pytest.mark.parametrize("route, auth", [("/api/entries", ALICE), ("/api/validate", {})])
def test_bad_requests_are_clear_4xx_and_change_nothing(client, settings, route, auth, query, data, content_type,
                                                      status, fragment):
    before = snapshot(settings)
    response = client.post(route + query, data=data, headers=auth,
                           **({"content_type": content_type} if content_type else {}))
    assert response.status_code == status
    body = response.get_json()
    assert body["status"] == status and fragment in body["error"]
    assert snapshot(settings) == before


def test_a_huge_body_is_refused(client, settings):
    before = snapshot(settings)
    huge = b"# padding\n" * (settings.max_body // 10 + 1) + STUDY
    for route, auth in (("/api/entries", ALICE), ("/api/validate", {})):
        response = client.post(route, data=huge, content_type=TURTLE, headers=auth)
        assert response.status_code == 413 and "larger than the limit" in response.get_json()["error"]
    # also without a Content-Length (a chunked body, which the server marks as terminated): the stream is
    # read up to the limit only
    response = client.post("/api/validate", input_stream=io.BytesIO(huge), content_type=TURTLE,
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and "larger than the limit" in response.get_json()["error"]
    assert snapshot(settings) == before


# --- tokens ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers, challenge", [
    ({}, 'Bearer realm="clkg"'),
    ({"Authorization": "Bearer not-a-token"}, 'Bearer realm="clkg", error="invalid_token"'),
    ({"Authorization": "Basic dG9rZW4tYWxpY2UtMDEyMzQ1Njc4OQ=="}, 'Bearer realm="clkg"'),
    ({"Authorization": "Bearer"}, 'Bearer realm="clkg"'),
])
def test_writes_need_a_valid_token(client, settings, headers, challenge):
    before = snapshot(settings)
    response = client.post("/api/entries", data=STUDY, content_type=TURTLE, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == challenge
    assert client.delete("/api/entries/20240101-000000-00000000", headers=headers).status_code == 401
    assert snapshot(settings) == before


def test_no_token_configured_means_writes_are_off_and_reads_stay_open(client, settings):
    saved = settings.write_tokens
    settings.write_tokens = {}
    try:
        before = snapshot(settings)
        response = client.post("/api/entries", data=STUDY, content_type=TURTLE, headers=ALICE)
        assert response.status_code == 403 and "Writes are turned off" in response.get_json()["error"]
        assert client.delete("/api/entries/20240101-000000-00000000", headers=ALICE).status_code == 403
        assert client.post("/api/validate", data=STUDY, content_type=TURTLE).status_code == 200
        assert client.get("/api/entries").status_code == 200
        assert snapshot(settings) == before
    finally:
        settings.write_tokens = saved


def test_tokens_from_the_environment():
    assert config.parse_tokens("only-one") == {"only-one": "contributor"}
    assert config.parse_tokens("", "a=Alice, b=Bob") == {"a": "Alice", "b": "Bob"}
    with pytest.raises(ValueError):
        config.parse_tokens("", "a=Alice,b=Alice")


# --- deleting --------------------------------------------------------------------------------------
def test_delete_only_by_the_same_token(client, settings):
    created = client.post("/api/entries", data=new_study("goossens", "Netwerken in beeld"), content_type=TURTLE,
                          headers=ALICE).get_json()
    cid = created["id"]
    before = snapshot(settings)
    response = client.delete(f"/api/entries/{cid}", headers=BOB)
    assert response.status_code == 403 and "another contributor" in response.get_json()["error"]
    assert snapshot(settings) == before
    assert client.delete("/api/entries/20240101-000000-00000000", headers=ALICE).status_code == 404
    assert client.delete("/api/entries/..%2F..%2Fstore", headers=ALICE).status_code == 404
    response = client.delete(f"/api/entries/{cid}", headers=ALICE)
    assert response.status_code == 200 and response.get_json()["deleted"] == cid
    assert graph_triples(settings, created["graph"]) == set()
    folder = contributions.folder(settings)
    assert not (folder / f"{cid}.trig").exists() and (folder / "deleted" / f"{cid}.trig").exists()
    assert client.delete(f"/api/entries/{cid}", headers=ALICE).status_code == 404
    assert client.get(f"/api/entries/{cid}").status_code == 404


def test_a_study_that_another_contribution_cites_cannot_be_deleted(client, settings):
    text = new_study("dewitte", "Leren over schoolgrenzen").decode()
    study_only = text.split("clm:4.3-")[0]
    study = client.post("/api/entries", data=study_only, content_type=TURTLE, headers=ALICE).get_json()
    claim_only = text.split("cls:dewitte-2020 a")[0] + "clm:4.3-" + text.split("clm:4.3-")[1]  # prefixes + claim
    claim = client.post("/api/entries", data=claim_only, content_type=TURTLE, headers=BOB)
    assert claim.status_code == 201, claim.get_json()
    before = snapshot(settings)
    response = client.delete(f"/api/entries/{study['id']}", headers=ALICE)
    assert response.status_code == 409
    assert "clm:4.3-dewitte-2020-M9" in response.get_json()["error"].replace("https://w3id.org/clkg/claim/", "clm:")
    assert snapshot(settings) == before
    assert client.delete(f"/api/entries/{claim.get_json()['id']}", headers=BOB).status_code == 200
    assert client.delete(f"/api/entries/{study['id']}", headers=ALICE).status_code == 200


# --- all or nothing under failure -----------------------------------------------------------------
@pytest.mark.parametrize("step", ["mark_written", "replace", "extend"])
def test_a_failure_at_any_step_leaves_no_file_and_no_quads(client, settings, monkeypatch, step):
    before = snapshot(settings)

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    if step == "mark_written":
        monkeypatch.setattr(store, "mark_written", fail)
    elif step == "replace":
        monkeypatch.setattr(os, "replace", fail)
    else:
        real_session = store.write_session

        class Failing:
            def __init__(self, handle):
                self.handle = handle

            def __getattr__(self, name):
                return fail if name == "extend" else getattr(self.handle, name)

        monkeypatch.setattr(store, "write_session", lambda s, work: real_session(s, lambda h: work(Failing(h))))
    response = client.post("/api/entries", data=new_study("fout", "Een mislukte schrijfbeurt"), content_type=TURTLE,
                           headers=ALICE)
    assert response.status_code == 503 and "nothing was stored" in response.get_json()["error"]
    monkeypatch.undo()
    after = snapshot(settings)
    assert after["quads"] == before["quads"] and after["files"] == before["files"]
    # and the store is still writable afterwards (the writer was closed, the lock released)
    ok = client.post("/api/entries", data=new_study("herstel", "Daarna lukt het"), content_type=TURTLE, headers=ALICE)
    assert ok.status_code == 201
    assert client.delete(f"/api/entries/{ok.get_json()['id']}", headers=ALICE).status_code == 200


@pytest.mark.parametrize("step", ["replace", "mark_written"])
def test_a_failed_delete_changes_nothing(client, settings, monkeypatch, step):
    created = client.post("/api/entries", data=new_study("wouters", "Blijft staan"), content_type=TURTLE,
                          headers=ALICE).get_json()
    before = snapshot(settings)
    real_replace = os.replace

    def fail(*args, **kwargs):
        raise OSError(5, "Input/output error")

    if step == "replace":
        monkeypatch.setattr(os, "replace", fail)
    else:
        monkeypatch.setattr(store, "mark_written", fail)
    response = client.delete(f"/api/entries/{created['id']}", headers=ALICE)
    assert response.status_code == 503 and "nothing was changed" in response.get_json()["error"]
    monkeypatch.undo()
    assert os.replace is real_replace
    after = snapshot(settings)
    assert (after["quads"], after["count"], after["files"]) == (before["quads"], before["count"], before["files"])
    assert client.delete(f"/api/entries/{created['id']}", headers=ALICE).status_code == 200


def test_two_deletes_at_once_delete_once(app, settings):
    created = app.test_client().post("/api/entries", data=new_study("jacobs", "Twee keer weg"), content_type=TURTLE,
                                     headers=ALICE).get_json()
    results, barrier = [], threading.Barrier(3)

    def delete():
        client = app.test_client()
        barrier.wait()
        results.append(client.delete(f"/api/entries/{created['id']}", headers=ALICE).status_code)

    threads = [threading.Thread(target=delete) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 404, 404]
    assert graph_triples(settings, created["graph"]) == set()


# --- concurrency -----------------------------------------------------------------------------------
def test_concurrent_ingests_neither_lose_nor_interleave_entries(app, settings):
    names = ["aerts", "bogaert", "claes", "dubois", "engels", "francken", "geerts", "hermans"]
    results, barrier = {}, threading.Barrier(len(names))

    def post(name):
        client = app.test_client()
        barrier.wait()
        results[name] = client.post("/api/entries", data=new_study(name, f"Study by {name}"), content_type=TURTLE,
                                    headers=ALICE)

    threads = [threading.Thread(target=post, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: r.status_code for n, r in results.items()} == {n: 201 for n in names}
    client = app.test_client()
    for name in names:
        body = results[name].get_json()
        stored = graph_triples(settings, body["graph"])
        subjects = {t[0].value for t in stored if isinstance(t[0], ox.NamedNode)}
        mine = {s for s in subjects if name in s} | {body["graph"], "https://w3id.org/clkg/contributor/alice"}
        assert subjects == mine, f"{name}'s graph holds someone else's triples"
        assert len(stored) == len(validation.parse_entry(new_study(name, f"Study by {name}"), ox.RdfFormat.TURTLE)) + 6
    assert set(studies_for(client, "M9")) >= {f"https://w3id.org/clkg/study/{n}-2020" for n in names}
    for name in names:
        assert client.delete(f"/api/entries/{results[name].get_json()['id']}", headers=ALICE).status_code == 200


def test_concurrent_ingests_of_the_same_work_accept_exactly_one(app, settings):
    entry = new_study("vermeulen", "Dezelfde studie", doi="10.9999/same.2020.1")
    results, barrier = [], threading.Barrier(5)

    def post():
        client = app.test_client()
        barrier.wait()
        results.append(client.post("/api/entries", data=entry, content_type=TURTLE, headers=BOB))

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [201, 422, 422, 422, 422]
    refused = next(r for r in results if r.status_code == 422).get_json()
    assert any(r["message"].startswith("A study with this IRI is already in the graph") for r in refused["results"])
    accepted = next(r for r in results if r.status_code == 201).get_json()
    assert app.test_client().delete(f"/api/entries/{accepted['id']}", headers=BOB).status_code == 200


def test_command_line_ingests_in_other_processes_while_the_server_answers(app, settings, tmp_path):
    """Two `clkg ingest` processes write the store the server reads: the file lock keeps one writer at
    a time, the workers reopen, and the very next named query sees both entries."""
    client = app.test_client()
    assert studies_for(client, "M7") == ["https://w3id.org/clkg/study/feys-devos-2015"]  # workers have it open
    env = dict(os.environ, CLKG_DATA_DIR=str(settings.data_dir), CLKG_SOURCE_DIRS=json.dumps(
        {graph: [str(d) for d in dirs] for graph, dirs in settings.source_dirs.items()}), CLKG_CONTRIBUTOR="Carol")
    files = []
    for name in ("mertens", "nys"):
        path = tmp_path / f"{name}.ttl"
        path.write_bytes(new_study(name, f"Study by {name}"))
        files.append(path)
    processes = [subprocess.Popen([sys.executable, "-m", "clkg.cli", "ingest", str(path)], env=env, cwd=config.ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in files]
    for _ in range(10):  # the server keeps answering while they write
        assert client.get("/api/queries/studies-for-concept?concept=M9").status_code == 200
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert all("stored as contribution" in out for out, _ in outputs)
    assert set(studies_for(client, "M9")) >= {"https://w3id.org/clkg/study/mertens-2020",
                                              "https://w3id.org/clkg/study/nys-2020"}
    for item in contributions.list_all(settings):
        if item.contributor == "Carol":
            contributions.delete(settings, item.id)


# --- the store's lifecycle and the command line ----------------------------------------------------
def test_a_rebuild_keeps_the_contributions(client, settings):
    created = client.post("/api/entries", data=new_study("peeters", "Na de herbouw"), content_type=TURTLE,
                          headers=ALICE).get_json()
    before = graph_triples(settings, created["graph"])
    assert store.build(settings, force=True, reason=False)
    after = graph_triples(settings, created["graph"])
    ground = lambda triples: {t for t in triples if not any(isinstance(x, ox.BlankNode) for x in t)}  # noqa: E731
    assert ground(after) == ground(before) and len(after) == len(before)
    assert "https://w3id.org/clkg/study/peeters-2020" in studies_for(client, "M9")
    assert client.delete(f"/api/entries/{created['id']}", headers=ALICE).status_code == 200


def test_command_line_ingest_refuse_list_and_delete(tmp_path, monkeypatch, capsys):
    settings = entries_settings(tmp_path / "data")
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: settings))
    store.build(settings, reason=False)
    assert cli.main(["ingest", str(ENTRIES / "valid" / "case.ttl"), "--contributor", "Dana"]) == 0
    out = capsys.readouterr().out
    cid = out.split("stored as contribution ")[1].split()[0]
    before = snapshot(settings)
    assert cli.main(["ingest", str(ENTRIES / "invalid" / "school-closed.ttl"), "--lang", "nl"]) == 1
    out = capsys.readouterr().out
    assert "refused, nothing was stored" in out and "Een school is geanonimiseerd" in out
    assert snapshot(settings) == before
    assert cli.main(["ingest", str(ENTRIES / "invalid" / "claim-no-quote.ttl"), "--format", "json"]) == 1
    (refusal,) = json.loads(capsys.readouterr().out)
    assert refusal["accepted"] is False and refusal["results"][0]["path"] == "https://w3id.org/clkg/ontology/quote"
    assert cli.main(["delete", "--list"]) == 0
    listing = capsys.readouterr().out
    assert cid in listing and "Dana" in listing and "https://w3id.org/clkg/case/s07" in listing
    assert cli.main(["delete", cid]) == 0
    assert cli.main(["delete", cid]) == 2
    assert "No contribution" in capsys.readouterr().err
    assert contributions.list_all(settings) == []


def test_contributions_under_another_base_are_kept_canonical(tmp_path):
    """The file keeps canonical IRIs; the store gets the deployment's."""
    settings = entries_settings(tmp_path / "data", base_iri="https://example.org/kg/")
    store.build(settings, reason=False)
    entry = validation.parse_entry(new_study("baert", "Elders gepubliceerd"), ox.RdfFormat.TURTLE, settings.base_iri)
    contribution, report = contributions.ingest(settings, entry, "Eve")
    assert report.conforms and contribution.graph.startswith("https://example.org/kg/graph/contribution/")
    path = contributions.folder(settings) / f"{contribution.id}.trig"
    in_file = list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG))
    assert ox.NamedNode("https://w3id.org/clkg/study/baert-2020") in {q.subject for q in in_file}
    assert "example.org" not in path.read_text()
    stored = graph_triples(settings, contribution.graph)
    assert ox.NamedNode("https://example.org/kg/study/baert-2020") in {t[0] for t in stored}
    # and a second, identical entry is a duplicate there too
    with pytest.raises(contributions.Refused):
        contributions.ingest(settings, entry, "Eve")
