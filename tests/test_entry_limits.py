"""Reading entries within limits (clkg/entryparse.py), the worker processes that read and validate them
(clkg/entryworker.py), the report's cost, and item 12: the graph's own studies and claims validate.

The hostile bodies themselves against a live server are in test_hostile_entries.py.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, RDFS, SH

from clkg import config, validation
from clkg.config import Settings
from clkg.entryparse import EntryError, Limits, nesting_depth, parse_entry
from clkg.entryworker import EntryWorkers
from clkg.report import entry_owners

STUDY = "https://w3id.org/clkg/study/x-2000"
HEAD = "@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def nested_turtle(depth: int, opening: str = "[ dcterms:title ", closing: str = " ]") -> bytes:
    return (HEAD + f"<{STUDY}> a clo:Study ; dcterms:title " + opening * depth + "1" + closing * depth + " .").encode()


def nested_json(depth: int) -> bytes:
    return (f'{{"@id": "{STUDY}", "http://purl.org/dc/terms/title": ' + '{"http://purl.org/dc/terms/title": ' * depth
            + '"t"' + "}" * depth + "}").encode()


def nested_xml(depth: int) -> bytes:
    return (f'<?xml version="1.0"?><rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:dcterms="http://purl.org/dc/terms/">'
            f'<rdf:Description rdf:about="{STUDY}">' + "<dcterms:title><rdf:Description>" * depth
            + "</rdf:Description></dcterms:title>" * depth + "</rdf:Description></rdf:RDF>").encode()


def refused(data: bytes, fmt, limits: Limits | None = None) -> EntryError:
    with pytest.raises(EntryError) as error:
        parse_entry(data, fmt, limits=limits)
    return error.value


# --- limits before the parsers ------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [49, 50])
def test_nesting_up_to_the_limit_is_read(depth):
    for data, fmt in ((nested_turtle(depth), ox.RdfFormat.TURTLE), (nested_json(depth), ox.RdfFormat.JSON_LD),
                      (nested_xml(depth), ox.RdfFormat.RDF_XML)):
        triples = parse_entry(data, fmt)
        assert nesting_depth(triples)[0] == depth, fmt


@pytest.mark.parametrize("depth", [51, 400, 4_000])
def test_turtle_blank_nodes_nested_too_deep_are_refused(depth):
    error = refused(nested_turtle(depth), ox.RdfFormat.TURTLE)
    assert error.status == 400
    assert f"nests blank nodes {depth} deep" in error.message and "CLKG_MAX_DEPTH" in error.message


@pytest.mark.parametrize("depth", [51, 2_000])
def test_turtle_collections_nested_too_deep_are_refused(depth):
    error = refused(nested_turtle(depth, "( ", " )"), ox.RdfFormat.TURTLE)
    assert error.status == 400 and f"nests blank nodes {depth} deep" in error.message


@pytest.mark.parametrize("opening, closing", [("[ dcterms:title ", " ]"), ("( ", " )")])
def test_turtle_nested_beyond_the_triples_limit_stops_at_the_count(opening, closing):
    error = refused(nested_turtle(10_000, opening, closing), ox.RdfFormat.TURTLE)
    assert error.status == 413 and "more than 5000 triples" in error.message


def test_a_long_flat_list_is_not_nesting():
    authors = " ".join(f"<https://w3id.org/clkg/person/p{i}>" for i in range(300))
    triples = parse_entry((HEAD + f"<{STUDY}> <http://purl.org/ontology/bibo/authorList> ( {authors} ) .").encode(),
                          ox.RdfFormat.TURTLE)
    assert nesting_depth(triples)[0] == 1


@pytest.mark.parametrize("depth", [200, 5_000, 100_000])
def test_json_ld_nested_too_deep_is_refused_before_oxigraph(depth):
    error = refused(nested_json(depth), ox.RdfFormat.JSON_LD)
    assert error.status == 400 and "JSON-LD entry is nested" in error.message


def test_json_ld_arrays_count_as_nesting():
    data = f'{{"@id": "{STUDY}", "http://x/p": '.encode() + b"[" * 150 + b'"t"' + b"]" * 150 + b"}"
    error = refused(data, ox.RdfFormat.JSON_LD)
    assert "nested more than 104 levels" in error.message and "$." in error.message


@pytest.mark.parametrize("depth", [200, 20_000])
def test_rdf_xml_elements_nested_too_deep_are_refused(depth):
    error = refused(nested_xml(depth), ox.RdfFormat.RDF_XML)
    assert error.status == 400 and "nests elements more than 104 deep" in error.message and "line 1" in error.message


def billion_laughs(levels: int) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{"".join(entities)}]>\n<rdf:RDF xmlns:rdf="{RDF_NS}" '
            f'xmlns:dcterms="http://purl.org/dc/terms/"><rdf:Description rdf:about="{STUDY}"><dcterms:title>'
            f"&lol{levels};</dcterms:title></rdf:Description></rdf:RDF>").encode()


@pytest.mark.parametrize("body", [
    billion_laughs(3), billion_laughs(9),
    f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rdf:RDF xmlns:rdf="{RDF_NS}">'
    f'<rdf:Description rdf:about="{STUDY}"><rdf:value>&x;</rdf:value></rdf:Description></rdf:RDF>'.encode(),
    f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><rdf:RDF xmlns:rdf="{RDF_NS}"/>'.encode(),
    f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'
    f'<rdf:RDF xmlns:rdf="{RDF_NS}"/>'.encode(),
], ids=["laughs-3", "laughs-9", "system-file", "external-dtd", "parameter-entity"])
def test_rdf_xml_with_any_document_type_declaration_is_refused(body):
    started = time.monotonic()
    error = refused(body, ox.RdfFormat.RDF_XML)
    assert error.status == 400 and "declares a document type" in error.message and "line" in error.message
    assert time.monotonic() - started < 5  # nothing was expanded (a generous bound: expansion takes minutes)


def test_an_undeclared_entity_is_refused_by_the_xml_parser():
    body = f'<rdf:RDF xmlns:rdf="{RDF_NS}"><rdf:Description rdf:about="{STUDY}"><rdf:value>&x;</rdf:value>' \
           "</rdf:Description></rdf:RDF>"
    error = refused(body.encode(), ox.RdfFormat.RDF_XML)
    assert error.status == 400 and "not valid RDF/XML: undefined entity" in error.message


def test_too_many_triples_are_refused_while_parsing():
    body = "".join(f'<{STUDY}> <http://x/p> "{i}" .\n' for i in range(120)).encode()
    error = refused(body, ox.RdfFormat.N_TRIPLES, Limits(triples=100))
    assert error.status == 413 and "more than 100 triples" in error.message and "CLKG_MAX_TRIPLES" in error.message
    assert len(parse_entry(body, ox.RdfFormat.N_TRIPLES, limits=Limits(triples=120))) == 120


def test_bytes_that_are_not_utf8_are_refused_with_their_place():
    error = refused(f'<{STUDY}> <http://x/p> "caf'.encode() + b"\xe9" + b'" .', ox.RdfFormat.N_TRIPLES)
    assert error.status == 400 and "not UTF-8" in error.message and "0xe9" in error.message and "line 1" in error.message


@pytest.mark.parametrize("media_type", ["text/turtle; charset=utf-16", "application/ld+json;charset=ISO-8859-1"])
def test_a_charset_other_than_utf8_is_refused(media_type):
    with pytest.raises(EntryError) as error:
        validation.format_for(media_type=media_type)
    assert error.value.status == 415 and "UTF-8" in error.value.message
    assert validation.format_for(media_type="text/turtle; charset=UTF-8") == ox.RdfFormat.TURTLE


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("CLKG_MAX_TRIPLES", "7")
    monkeypatch.setenv("CLKG_MAX_DEPTH", "3")
    settings = Settings.from_env()
    assert Limits.of(settings) == Limits(triples=7, depth=3)
    assert refused(nested_turtle(4), ox.RdfFormat.TURTLE, Limits.of(settings)).status == 400


# --- the report's cost: one walk, whatever the depth ------------------------------------------------------
def test_owners_are_the_nearest_root_first_by_iri():
    study_a, study_b = "https://w3id.org/clkg/study/a-2000", "https://w3id.org/clkg/study/b-2000"
    entry = parse_entry(f"""
        <{study_b}> <{RDF_NS}type> <https://w3id.org/clkg/ontology/Study> .
        <{study_b}> <http://x/p> _:shared .
        <{study_a}> <{RDF_NS}type> <https://w3id.org/clkg/ontology/Study> .
        <{study_a}> <http://x/p> _:mid .
        <{study_a}> <http://x/p> _:tie .
        <{study_b}> <http://x/p> _:tie .
        _:mid <http://x/p> _:shared .
        _:shared <http://x/p> _:leaf .
        _:leaf <http://x/q> "1" .
        _:tie <http://x/q> "1" .
        _:alone <http://x/q> "1" .""".encode(), ox.RdfFormat.N_TRIPLES)
    owners = entry_owners(entry)
    assert owners[study_a] == (study_a, "study") and owners[study_b] == (study_b, "study")
    assert owners["_:mid"] == (study_a, "study")
    assert owners["_:shared"] == (study_b, "study")  # one step from b, two from a
    assert owners["_:leaf"] == (study_b, "study")
    assert owners["_:tie"] == (study_a, "study")  # as near to both: the first by IRI
    assert owners["_:alone"] == ("_:alone", "node")


def test_deep_entries_cost_about_linearly_to_validate():
    """The report no longer walks the entry once per result: 8x the depth costs far less than 8^2 x.
    (Not a timing goal: a bound that only a quadratic or cubic report would cross.)"""
    validation.warm_up()
    deep = Limits(depth=1000)

    def seconds(depth: int) -> float:
        entry = parse_entry(nested_turtle(depth), ox.RdfFormat.TURTLE, limits=deep)
        started = time.perf_counter()
        report = validation.check(entry, [])
        assert len(report.violations) >= depth  # every nested node is reported (none is lost)
        return time.perf_counter() - started

    shallow, deeper = min(seconds(25) for _ in range(2)), min(seconds(200) for _ in range(2))
    assert deeper / shallow < 8 * 4, (shallow, deeper)


# --- the worker processes -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def worker_settings(tmp_path_factory):
    return Settings(data_dir=tmp_path_factory.mktemp("workers"), validation_timeout=20.0)


def test_a_worker_reads_an_entry_and_refuses_a_deep_one(worker_settings):
    workers = EntryWorkers(worker_settings)
    triples = workers.read(nested_turtle(3), ox.RdfFormat.TURTLE)
    assert len(triples) == 5 and nesting_depth(triples)[0] == 3
    with pytest.raises(EntryError) as error:
        workers.read(nested_json(5000), ox.RdfFormat.JSON_LD)
    assert error.value.status == 400 and "nested" in error.value.message


def test_a_worker_checks_entry_and_context_like_the_web_process(worker_settings):
    workers = EntryWorkers(worker_settings)
    entry = parse_entry(nested_turtle(2), ox.RdfFormat.TURTLE)
    here, there = validation.check(entry, []), workers.runner()(entry, [], "x.ttl")
    assert [r.to_json("nl") for r in there.results] == [r.to_json("nl") for r in here.results]
    assert there.source == "x.ttl" and there.turtle is None and not there.conforms


def test_a_validation_past_the_time_limit_is_stopped(worker_settings):
    workers = EntryWorkers(replace(worker_settings, validation_timeout=0.3))
    entry = parse_entry(nested_turtle(300), ox.RdfFormat.TURTLE, limits=Limits(depth=1000))
    started = time.monotonic()
    with pytest.raises(EntryError) as error:
        workers.runner()(entry, [], None)
    assert error.value.status == 503 and "limit of 0.3 s" in error.value.message
    assert time.monotonic() - started < 5


def test_a_validation_past_the_memory_limit_costs_its_own_request(worker_settings):
    workers = EntryWorkers(replace(worker_settings, validation_memory=1))
    entry = parse_entry(nested_turtle(300), ox.RdfFormat.TURTLE, limits=Limits(depth=1000))
    with pytest.raises(EntryError) as error:
        workers.runner()(entry, [], None)
    assert error.value.status in (413, 503) and "memory" in error.value.message
    assert len(EntryWorkers(worker_settings).read(nested_turtle(1), ox.RdfFormat.TURTLE)) == 3  # the next one works


def test_when_every_worker_is_busy_the_request_is_told_to_come_back(worker_settings):
    workers = EntryWorkers(replace(worker_settings, validation_workers=1))
    # about 2 s of validation with warm workers (clkg/forking.py): still running when the next one comes
    entry = parse_entry(nested_turtle(2000), ox.RdfFormat.TURTLE, limits=Limits(depth=5000))
    slow = threading.Thread(target=lambda: workers.runner()(entry, [], None))
    slow.start()
    time.sleep(0.3)
    assert slow.is_alive(), "the slow validation ended before the test could find every worker busy"
    started = time.monotonic()
    with pytest.raises(EntryError) as error:
        workers.read(nested_turtle(1), ox.RdfFormat.TURTLE)
    waited = time.monotonic() - started
    slow.join()
    assert error.value.status == 503 and error.value.headers.get("Retry-After") == "2"
    assert waited < 2, "a busy server answers at once, without holding a thread"


def test_a_contributors_request_waits_its_turn(worker_settings):
    workers = EntryWorkers(replace(worker_settings, validation_workers=1))
    # about 2 s of validation with warm workers (clkg/forking.py): still running when the next one comes
    entry = parse_entry(nested_turtle(2000), ox.RdfFormat.TURTLE, limits=Limits(depth=5000))
    slow = threading.Thread(target=lambda: workers.runner()(entry, [], None))
    slow.start()
    time.sleep(0.3)
    assert slow.is_alive(), "the slow validation ended before the test could find every worker busy"
    assert len(workers.read(nested_turtle(1), ox.RdfFormat.TURTLE, queue=True)) == 3
    assert not slow.is_alive(), "it was served after the slow one, not beside it"
    slow.join()


# --- item 12: the graph's own data validates ------------------------------------------------------------
def _sparql_rows(reader, query: str) -> list[dict]:
    """Rows straight from the store (choosing the examples is not what is tested here)."""
    result = reader.query(query)
    return [{str(v)[1:]: row[v].value for v in result.variables if row[v] is not None} for row in result]


def _renamed_study(text: str, iri: str, title: str, doi: str | None) -> tuple[str, str]:
    slug = iri.rsplit("/", 1)[1]
    new_slug = (slug[:-1] if slug[-1].isalpha() else slug) + "z"
    text = text.replace(title, title + " revisited")
    if doi:
        text = text.replace(doi, doi + "-revisited")
    return text.replace(slug, new_slug), iri.replace(slug, new_slug)


@pytest.mark.parametrize("suffix", [".ttl", ".jsonld"])
def test_studies_and_claims_copied_from_their_own_documents_validate(real_app, suffix):
    """Export, edit, validate: a study's or a claim's own document (with the types the reasoner added),
    given a new IRI that follows the naming rules (and, for a study, a new title and DOI so that it is
    not a duplicate), conforms."""
    client = real_app.test_client()
    reader = validation_reader(real_app)
    studies = _sparql_rows(reader, """
        PREFIX clo: <https://w3id.org/clkg/ontology/> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX bibo: <http://purl.org/ontology/bibo/>
        SELECT ?s (SAMPLE(?kind) AS ?k) (SAMPLE(?t) AS ?title) (SAMPLE(?d) AS ?doi) WHERE {
          GRAPH <https://w3id.org/clkg/graph/evidence> { ?s a clo:Study, ?kind ; dcterms:title ?t ;
                                                             bibo:authorList ?l OPTIONAL { ?s bibo:doi ?d } }
          FILTER (?kind != clo:Study && !CONTAINS(STR(?t), '"') && !CONTAINS(STR(?t), "\\\\"))
        } GROUP BY ?s ?kind ORDER BY ?kind ?s""")
    chosen, kinds = [], set()
    for row in studies:  # one study of each kind
        if row["k"] not in kinds:
            kinds.add(row["k"])
            chosen.append(row)
    assert len(chosen) >= 4
    claims = _sparql_rows(reader, """
        PREFIX clo: <https://w3id.org/clkg/ontology/>
        SELECT ?c (SAMPLE(?type) AS ?t) WHERE {
          GRAPH <https://w3id.org/clkg/graph/inferred> { ?c a ?type }
          GRAPH <https://w3id.org/clkg/graph/evidence> { ?c a clo:Claim }
        } GROUP BY ?c ?type ORDER BY ?type ?c""")
    claim_kinds, chosen_claims = set(), []
    for row in claims:
        if row["t"] not in claim_kinds:
            claim_kinds.add(row["t"])
            chosen_claims.append(row["c"])
    assert len(chosen_claims) >= 4
    fmt = validation.format_for(path="x" + suffix)
    entailed_seen = set()
    context = validation.StoreContext(reader)
    settings = real_app.config["CLKG"]
    for row in chosen:
        path = row["s"][len(config.CANONICAL_BASE) - 1:]
        document = client.get(path + suffix)
        assert document.status_code == 200
        text, new_iri = _renamed_study(document.get_data(as_text=True), row["s"], row["title"], row.get("doi"))
        entry = validation.parse_entry(text, fmt, settings.base_iri)
        types = {t.object.value for t in entry if t.predicate.value == str(RDF.type) and t.subject.value == new_iri}
        entailed_seen |= types
        report = validation.validate_entry(entry, context, settings)
        assert report.conforms, (row["s"], suffix, report.to_text())
    for claim in chosen_claims:
        path = claim[len(config.CANONICAL_BASE) - 1:]
        document = client.get(path + suffix)
        assert document.status_code == 200
        slug = claim.rsplit("/", 1)[1]
        text = document.get_data(as_text=True).replace(f"/{slug}\"", f"/{slug}-copy\"").replace(
            f"clm:{slug} ", f"clm:{slug}-copy ").replace(f"/{slug}>", f"/{slug}-copy>")
        entry = validation.parse_entry(text, fmt, settings.base_iri)
        assert any(t.subject.value == claim + "-copy" for t in entry), (claim, text[:500])
        entailed_seen |= {t.object.value for t in entry if t.predicate.value == str(RDF.type)}
        report = validation.validate_entry(entry, context, settings)
        assert report.conforms, (claim, suffix, report.to_text())
    # the copies did carry types the reasoner adds
    assert {"http://purl.org/ontology/bibo/Document", "http://www.w3.org/ns/prov#Entity"} <= entailed_seen


def validation_reader(app):
    from clkg import store

    return store.open_read_only(app.config["CLKG"])


def test_every_type_the_ontology_entails_for_a_kind_is_accepted():
    """For the type lists of the study and claim shapes: every named superclass (in the ontology) of an
    accepted type is accepted too, so that an entry may carry what the reasoner entails; and every claim
    class of the ontology (the reasoner classifies claims into them)."""
    ontology = rdflib.Graph()
    for path in sorted((config.ROOT / "ontology").glob("*.ttl")):
        ontology.parse(path, format="turtle")
    shapes = validation.shapes_graph()
    clsh = "https://w3id.org/clkg/shapes/"
    for shape in ("study-types", "claim-types"):
        accepted = set(rdflib.collection.Collection(shapes, shapes.value(rdflib.URIRef(clsh + shape), SH["in"])))
        for kind in list(accepted):
            for superclass in ontology.transitive_objects(kind, RDFS.subClassOf):
                if isinstance(superclass, rdflib.URIRef):
                    assert superclass in accepted, f"{shape}: {kind} entails {superclass}, which is refused"
        assert len(accepted) > 2
    claim = rdflib.URIRef("https://w3id.org/clkg/ontology/Claim")
    claim_types = set(rdflib.collection.Collection(shapes, shapes.value(rdflib.URIRef(clsh + "claim-types"), SH["in"])))
    for subclass in ontology.transitive_subjects(RDFS.subClassOf, claim):
        assert subclass in claim_types, f"claim-types: {subclass} is a claim class of the ontology, but refused"


def test_the_valid_corpus_stays_within_the_default_limits():
    """The limits leave room for real entries: every valid entry of the corpus reads with the defaults."""
    from pathlib import Path

    corpus = [p for p in sorted((Path(__file__).parent / "entries" / "valid").iterdir())
              if p.suffix in (".ttl", ".nt", ".jsonld")]
    assert any(path.suffix == ".jsonld" for path in corpus)
    for path in corpus:
        triples = parse_entry(path.read_bytes(), validation.format_for(path=path))
        assert nesting_depth(triples)[0] <= Limits().depth and len(triples) <= Limits().triples


def test_a_worker_that_runs_out_of_memory_while_parsing_costs_its_own_request(worker_settings):
    """Oxigraph aborts the process when an allocation fails: the request gets a 4xx/503 that says so."""
    workers = EntryWorkers(replace(worker_settings, validation_memory=1))
    body = "".join(f'<{STUDY}> <http://x/p> "{"v" * 200}{i}" .\n' for i in range(4_000)).encode()
    with pytest.raises(EntryError) as error:
        workers.read(body, ox.RdfFormat.N_TRIPLES)
    assert error.value.status in (413, 503) and "memory" in error.value.message


def test_the_command_line_reads_files_with_the_same_limits(tmp_path):
    from argparse import Namespace

    from clkg import cli

    deep, fine = tmp_path / "deep.jsonld", tmp_path / "fine.ttl"
    deep.write_bytes(nested_json(5_000))
    fine.write_bytes(nested_turtle(2))
    settings = Settings(data_dir=tmp_path, max_depth=2)
    read = dict(cli._read_entries(Namespace(format=[], files=[deep, fine]), settings))
    assert "JSON-LD entry is nested more than 8 levels" in read[deep] or "nested too deeply" in read[deep]
    assert isinstance(read[fine], list) and len(read[fine]) == 4
    read = dict(cli._read_entries(Namespace(format=[], files=[fine]), Settings(data_dir=tmp_path, max_depth=1)))
    assert "nests blank nodes 2 deep" in read[fine]


def test_the_depth_message_says_where_the_chain_starts():
    error = refused(nested_turtle(60), ox.RdfFormat.TURTLE)
    assert f"nests blank nodes 60 deep (under <{STUDY}>)" in error.message
