"""Validation of entries: the shapes (shapes/), the corpus (tests/entries/), the report, the command line
and POST /api/validate.

The corpus: every file in tests/entries/invalid/ breaks one rule, and its header lists every result the
validator must give, exactly (severity | focus node | field | message in English, then in Dutch):

    # expect: violation | cls:janssens-peeters-2021 | dcterms:issued | The year of publication is ...
    #     nl: Het jaar van publicatie is ...

Files in tests/entries/valid/ must conform (their header may list the warnings they give). The context
they are validated against is the real ontology (ontology/) with the small evidence in
tests/entries/context/ (cited, reused and duplicated by the corpus) and an illustrative graph.
"""
from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, SH

from clkg import cli, config, store, validation
from clkg import report as report_module
from clkg.config import Settings

ENTRIES = Path(__file__).parent / "entries"
VALID = sorted(p for p in (ENTRIES / "valid").iterdir() if p.suffix in (".ttl", ".nt", ".jsonld"))
INVALID = sorted((ENTRIES / "invalid").glob("*.ttl"))
CLSH = "https://w3id.org/clkg/shapes/"


def entries_settings(data_dir: Path, **overrides) -> Settings:
    """Settings on the real ontology and the corpus's context (used by test_ingest.py too)."""
    settings = Settings(data_dir=data_dir, query_timeout=overrides.pop("query_timeout", 5.0),
                        result_limit=overrides.pop("result_limit", 1000), **overrides)
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"], "evidence": [ENTRIES / "context" / "evidence"],
                            "illustrative": [ENTRIES / "context" / "illustrative"]}
    return settings


def expectations(path: Path) -> list[tuple]:
    """(severity, focus, field, message en, message nl) from a corpus file's header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("# expect: "):
            severity, focus, field, message = (part.strip() for part in line[len("# expect: "):].split(" | ", 3))
            assert lines[i + 1].startswith("#     nl: "), f"{path.name}: the Dutch message follows every expect line"
            found.append((severity, focus, field, message, lines[i + 1][len("#     nl: "):]))
    return found


def observed(report: validation.Report) -> list[tuple]:
    return [(r.severity, report_module.turtle_term(report_module.report_node(r.focus_node)), r.field_name or "-", r.message("en"),
             r.message("nl")) for r in report.results]


@pytest.fixture(scope="session")
def context_settings(tmp_path_factory) -> Settings:
    settings = entries_settings(tmp_path_factory.mktemp("entries"))
    store.build(settings, reason=False)
    return settings


@pytest.fixture(scope="session")
def context(context_settings):
    reader = store.open_read_only(context_settings)
    yield validation.StoreContext(reader)
    del reader


def validate_file(path: Path, context, settings) -> validation.Report:
    entry = validation.parse_entry(path.read_bytes(), validation.format_for(path=path), settings.base_iri)
    return validation.validate_entry(entry, context, settings, origin=path.name)


def reporting_shapes(shapes: rdflib.Graph) -> set:
    """Shapes whose results reach the report: targeted shapes and their properties (not the operands of
    sh:not, sh:or, sh:node or qualified value shapes, which report through the shape that uses them)."""
    targets = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)
    found = {s for p in targets for s in shapes.subjects(p, None)}
    found |= {p for s in found for p in shapes.objects(s, SH.property)}
    return found


# --- the corpus ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_entry_conforms(path, context, context_settings):
    report = validate_file(path, context, context_settings)
    assert report.conforms, report.to_text()
    assert report.violations == []
    assert Counter(observed(report)) == Counter(expectations(path))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_entry_gives_exactly_the_expected_results(path, context, context_settings):
    expected = expectations(path)
    assert expected, f"{path.name} lists no expected result"
    report = validate_file(path, context, context_settings)
    assert Counter(observed(report)) == Counter(expected), report.to_text()
    assert report.conforms == all(severity == "warning" for severity, *_ in expected)


def test_corpus_has_invalid_entries_for_every_constraint(context, context_settings):
    """Every shape that carries a constraint and is used (targeted, or a property of a shape) is the
    source of a result in some invalid entry."""
    shapes = validation.shapes_graph()
    params = {SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minInclusive, SH.pattern,
              SH.languageIn, SH.disjoint, SH["not"], SH["or"], SH.node, SH.qualifiedValueShape, SH.closed, SH.hasValue,
              SH["in"], SH.sparql, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength,
              SH.uniqueLang, SH.equals, SH.lessThan, SH.xone, SH["and"]}
    constraining = {s for s in reporting_shapes(shapes) if any((s, p, None) in shapes for p in params)}
    assert len(constraining) > 100
    covered = set()
    for path in INVALID:
        covered |= {r.shape for r in validate_file(path, context, context_settings).results}
    assert sorted(str(s)[len(CLSH):] for s in constraining if str(s) not in covered) == []


def test_every_shape_has_a_severity_and_messages_in_english_and_dutch():
    """Every shape that reports (a targeted shape, or a property of one) names itself, says how bad its
    results are and explains them in both languages. (Operands of sh:not, sh:or, sh:node and qualified
    value shapes report through the shape that uses them.)"""
    shapes = validation.shapes_graph()
    named = reporting_shapes(shapes)
    assert len(named) > 100
    for shape in named:
        name = shape if isinstance(shape, rdflib.BNode) else str(shape)[len(CLSH):]
        assert isinstance(shape, rdflib.URIRef), f"every shape has an IRI ({name})"
        assert shapes.value(shape, SH.severity) in (SH.Violation, SH.Warning), name
        messages = list(shapes.objects(shape, SH.message)) or [
            m for constraint in shapes.objects(shape, SH.sparql) for m in shapes.objects(constraint, SH.message)]
        assert sorted(m.language for m in messages) == ["en", "nl"], name


def test_sparql_only_where_core_cannot_say_it():
    """Each SPARQL-based constraint says why Core is not enough; the rest is SHACL Core."""
    shapes = validation.shapes_graph()
    with_sparql = set(shapes.subjects(SH.sparql, None))
    assert 0 < len(with_sparql) <= 8
    for shape in with_sparql:
        comment = str(shapes.value(shape, rdflib.RDFS.comment) or "")
        assert comment.startswith("SPARQL:"), shape
    for query in shapes.objects(None, SH.select):
        rdflib.plugins.sparql.prepareQuery(str(query).replace("$PATH", "<urn:p>"),
                                           initNs={"clo": validation.CLO, "clv": validation.CLV,
                                                   "bibo": "http://purl.org/ontology/bibo/",
                                                   "dcterms": "http://purl.org/dc/terms/",
                                                   "foaf": "http://xmlns.com/foaf/0.1/",
                                                   "rdf": str(RDF), "xsd": "http://www.w3.org/2001/XMLSchema#"})


def test_the_closed_lists(context, context_settings):
    """Study kinds, polarities, school levels, informant roles and entry options are closed lists."""
    shapes = validation.shapes_graph()

    def listed(shape):
        node = shapes.value(rdflib.URIRef(CLSH + shape), SH["in"])
        return [validation.compact(str(v)) for v in rdflib.collection.Collection(shapes, node)]

    assert listed("claim-polarity-value") == ["clo:supports", "clo:nuances", "clo:contradicts"]
    assert listed("school-level-value") == ["clo:primary", "clo:secondary"]
    assert listed("informant-role-value") == ["clo:principal", "clo:policySupporter", "clo:careCoordinator",
                                              "clo:teacher", "clo:freeInvitee"]
    assert len(listed("partnership-entry-option")) == 9
    kinds = shapes.value(rdflib.URIRef(CLSH + "study-kind"), SH.qualifiedValueShape)
    assert len(list(rdflib.collection.Collection(shapes, shapes.value(kinds, SH["in"])))) == 7
    # the lists agree with the ontology: every listed individual exists there with its class
    ontology = rdflib.Graph().parse(config.ROOT / "ontology" / "clkg.ttl")
    clo = rdflib.Namespace(validation.CLO)
    for shape, cls in (("claim-polarity-value", clo.Polarity), ("school-level-value", clo.SchoolLevel),
                       ("informant-role-value", clo.InformantRole)):
        for curie in listed(shape):
            assert (clo[curie.split(":")[1]], RDF.type, cls) in ontology, curie


def test_year_in_the_future_depends_on_today(context, context_settings):
    this_year = datetime.date.today().year
    text = (ENTRIES / "valid" / "study-with-warnings.ttl").read_text()
    for year, future in ((this_year, False), (this_year + 1, True)):
        entry = validation.parse_entry(text.replace("2018", str(year)), ox.RdfFormat.TURTLE)
        report = validation.validate_entry(entry, context, context_settings)
        futures = [r for r in report.results if r.shape == CLSH + "study-issued-future"]
        assert bool(futures) is future
        if future:
            assert futures[0].message("en") == f"The year of publication {year} lies in the future."


def test_only_the_entry_nodes_are_focus_nodes(context, context_settings):
    """A claim citing a study of the store makes that study part of the data graph, but never a focus
    node of the report; and the data graph is a small context, not the store."""
    path = ENTRIES / "valid" / "claim-on-existing-study.ttl"
    entry = validation.parse_entry(path.read_bytes(), ox.RdfFormat.TURTLE)
    context_part = validation.context_triples(entry, context, context_settings)
    graph, focus = validation.data_graph(entry, context_part)
    assert {str(f) for f in focus} == {"https://w3id.org/clkg/claim/5.3.3-feys-devos-2015-C5.3.3a"}
    assert (rdflib.URIRef("https://w3id.org/clkg/study/feys-devos-2015"), RDF.type,
            rdflib.URIRef(validation.CLO + "Study")) in graph
    reader = context.store
    assert len(graph) < 300 < len(reader)
    # the illustrative graph is never context
    assert not any("epsilon" in str(s) for s in graph.subjects())
    for path in INVALID:
        entry = validation.parse_entry(path.read_bytes(), ox.RdfFormat.TURTLE)
        subjects = {report_module._plain(validation._term(s, True)) for s, _, _ in entry}
        report = validation.validate_entry(entry, context, context_settings)
        assert {r.focus_node for r in report.results} <= subjects, path.name


# --- reading entries -------------------------------------------------------------------------------
@pytest.mark.parametrize("data, fmt, status, fragment", [
    (b"@prefix cls: <https://w3id.org/clkg/study/> .\ncls:x a \n  cls:y ;;; \"unclosed .", ox.RdfFormat.TURTLE, 400,
     "line 3 between columns 13 and 24"),
    (b'<https://w3id.org/clkg/study/x> <http://purl.org/dc/terms/title> "x" \n', ox.RdfFormat.N_TRIPLES, 400, "line"),
    (b'{"@id": "https://w3id.org/clkg/study/x", ', ox.RdfFormat.JSON_LD, 400, "line 1 column"),
    (b'{"@context": "https://schema.org/", "@id": "https://w3id.org/clkg/study/x", "name": "x"}',
     ox.RdfFormat.JSON_LD, 400, "remote context"),
    (b'{"@id": "https://w3id.org/clkg/graph/x", "@graph": [{"@id": "https://w3id.org/clkg/study/x", '
     b'"http://purl.org/dc/terms/title": "t"}]}', ox.RdfFormat.JSON_LD, 400, "not valid JSON-LD"),
    (b"   \n", ox.RdfFormat.TURTLE, 400, "The entry is empty"),
    (b"# only a comment\n", ox.RdfFormat.TURTLE, 400, "holds no triples"),
    (b"<https://w3id.org/clkg/study/x> <https://w3id.org/clkg/validation/inStore> true .", ox.RdfFormat.TURTLE, 400,
     "reserved IRI"),
])
def test_unreadable_entries_are_refused_with_a_reason(data, fmt, status, fragment):
    with pytest.raises(validation.EntryError) as error:
        validation.parse_entry(data, fmt)
    assert error.value.status == status
    assert fragment in error.value.message


def test_formats_by_media_type_extension_and_name():
    assert validation.format_for(media_type="text/turtle; charset=utf-8") == ox.RdfFormat.TURTLE
    assert validation.format_for(media_type="application/ld+json") == ox.RdfFormat.JSON_LD
    assert validation.format_for(path="a/b.nt") == ox.RdfFormat.N_TRIPLES
    assert validation.format_for(path="a/b.ttl", name="json-ld") == ox.RdfFormat.JSON_LD
    with pytest.raises(validation.EntryError) as error:
        validation.format_for(media_type="application/pdf")
    assert error.value.status == 415
    with pytest.raises(validation.EntryError):
        validation.format_for(path="entry.txt")


def test_a_deployment_base_is_mapped_back_to_the_canonical_one(context, context_settings):
    text = (ENTRIES / "valid" / "study-with-warnings.ttl").read_text().replace(
        "https://w3id.org/clkg/", "https://example.org/kg/")
    entry = validation.parse_entry(text, ox.RdfFormat.TURTLE, base="https://example.org/kg/")
    assert all(not t.subject.value.startswith("https://example.org/") for t in entry)
    report = validation.validate_entry(entry, context, context_settings)
    assert report.conforms and len(report.warnings) == 2


# --- the report ------------------------------------------------------------------------------------
def test_report_as_json_text_and_turtle(context, context_settings):
    report = validate_file(ENTRIES / "invalid" / "study-no-creator.ttl", context, context_settings)
    body = report.to_json("nl")
    assert body["conforms"] is False and body["violations"] == 3 and body["warnings"] == 0
    assert body["lang"] == "nl" and body["shapes_version"] == validation.shapes_version()
    first = body["results"][0]
    assert set(first) >= {"focus_node", "path", "value", "severity", "message", "entry", "field"}
    assert first["focus_node"] == first["entry"] == "https://w3id.org/clkg/study/janssens-peeters-2021"
    assert first["path"] == "http://purl.org/dc/terms/creator" and first["field"] == "dcterms:creator"
    assert first["message"].startswith("Een studie noemt haar auteurs ook met dcterms:creator")
    text = report.to_text("en").splitlines()
    assert text[0] == "study-no-creator.ttl: does not conform (3 violation(s), 0 warning(s))"
    assert text[1] == "  study cls:janssens-peeters-2021"
    assert all(line.startswith("    dcterms:creator: violation: ") for line in text[2:])
    assert "value: clp:peeters-b" in text[-1]
    dutch = report.to_text("nl").splitlines()
    assert dutch[0].endswith("voldoet niet (3 overtreding(en), 0 waarschuwing(en))") and dutch[1].startswith("  studie ")
    shacl = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
    assert shacl.value(None, RDF.type, SH.ValidationReport) is not None
    assert len(list(shacl.objects(None, SH.result))) == 3


def test_report_groups_parts_under_their_entry(context, context_settings):
    report = validate_file(ENTRIES / "invalid" / "school-closed.ttl", context, context_settings)
    (result,) = report.results
    assert (result.entry, result.entry_kind) == ("https://w3id.org/clkg/case/s07", "case")
    assert result.focus_node == "https://w3id.org/clkg/case/s07-school"
    assert report.to_text("en").splitlines()[2].startswith("    clx:s07-school foaf:name: violation: A school is anonymised")
    blank = validate_file(ENTRIES / "invalid" / "entry-list-node-extra.ttl", context, context_settings)
    assert blank.results[0].focus_node == "_:authors" and blank.results[0].entry.endswith("janssens-peeters-2021")
    shacl = rdflib.Graph().parse(data=blank.to_turtle(), format="turtle")
    assert [type(node) for node in shacl.objects(None, SH.focusNode)] == [rdflib.BNode]
    assert validation.GENID not in blank.to_turtle().decode()


# --- the command line ------------------------------------------------------------------------------
@pytest.fixture()
def cli_env(context_settings, monkeypatch):
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: context_settings))
    return context_settings


def test_cli_validate_text_exit_codes_and_language(cli_env, capsys):
    assert cli.main(["validate", str(ENTRIES / "valid" / "study-with-warnings.ttl")]) == 0
    out = capsys.readouterr().out
    assert "conforms (0 violation(s), 2 warning(s))" in out and "bibo:doi: warning:" in out
    assert cli.main(["validate", str(ENTRIES / "invalid" / "study-year-not-gyear.ttl"), "--lang", "nl"]) == 1
    out = capsys.readouterr().out
    assert "dcterms:issued: overtreding: Het jaar van publicatie is een jaartal van vier cijfers" in out


def test_cli_validate_json_and_input_format(cli_env, capsys, tmp_path):
    copy = tmp_path / "claim.data"
    copy.write_bytes((ENTRIES / "valid" / "claim-in-json-ld.jsonld").read_bytes())
    assert cli.main(["validate", str(copy), str(ENTRIES / "invalid" / "claim-no-quote.ttl"),
                     "--format", "json-ld", "--format", "json"]) == 2  # the .ttl is not JSON-LD
    captured = capsys.readouterr()
    assert "claim-no-quote.ttl: The entry is not valid JSON-LD" in captured.err
    body = json.loads(captured.out)
    assert body["conforms"] is False and body["reports"][0]["conforms"] is True
    assert cli.main(["validate", str(ENTRIES / "invalid" / "claim-no-quote.ttl"), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    (result,) = body["reports"][0]["results"]
    assert result["path"] == "https://w3id.org/clkg/ontology/quote" and result["severity"] == "violation"


def test_cli_validate_unparseable_and_missing_files(cli_env, capsys, tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix cls: <https://w3id.org/clkg/study/> .\ncls:x cls:y .\n")
    assert cli.main(["validate", str(broken), str(tmp_path / "missing.ttl")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"broken\.ttl: The entry is not valid Turtle: .*line 2 column", err)
    assert "missing.ttl: cannot read the file" in err


# --- POST /api/validate ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The web app on the corpus's context, with writes off (no token): validating stays open."""
    from clkg.web import create_app

    app = create_app(entries_settings(tmp_path_factory.mktemp("validate-web")), reason=False)
    yield app.test_client()
    app.extensions["clkg"].close()


def test_validate_endpoint_answers_the_report_as_json(web):
    data = (ENTRIES / "invalid" / "claim-unknown-concept.ttl").read_bytes()
    response = web.post("/api/validate", data=data, content_type="text/turtle")
    assert response.status_code == 200 and response.headers["Content-Language"] == "en"
    body = response.get_json()
    assert body["conforms"] is False and body["violations"] == 1
    (result,) = body["results"]
    assert result == {
        "entry": "https://w3id.org/clkg/claim/4.3-feys-devos-2015-M9", "entry_kind": "claim",
        "focus_node": "https://w3id.org/clkg/claim/4.3-feys-devos-2015-M9",
        "path": "https://w3id.org/clkg/ontology/about", "field": "clo:about",
        "value": "https://w3id.org/clkg/concept/M16", "value_turtle": "clc:M16", "severity": "violation",
        "message": "The concept does not exist: clo:about points to a concept of the report's scheme (a skos:Concept "
                   "in clc:scheme, e.g. clc:M7 or clc:C5.3.3a).",
        "shape": "https://w3id.org/clkg/shapes/claim-about-concept", "constraint": "sh:NodeConstraintComponent"}


@pytest.mark.parametrize("query, headers, lang", [
    ("?lang=nl", {}, "nl"), ("", {"Accept-Language": "nl-BE, nl;q=0.9, en;q=0.5"}, "nl"),
    ("", {"Accept-Language": "fr, en;q=0.5"}, "en"), ("?lang=en", {"Accept-Language": "nl"}, "en"), ("", {}, "en")])
def test_validate_endpoint_speaks_english_or_dutch(web, query, headers, lang):
    data = (ENTRIES / "invalid" / "school-level-not-in-list.ttl").read_bytes()
    response = web.post("/api/validate" + query, data=data, content_type="text/turtle", headers=headers)
    message = response.get_json()["results"][0]["message"]
    assert message == {"en": "The school level is clo:primary or clo:secondary.",
                       "nl": "Het onderwijsniveau is clo:primary of clo:secondary."}[lang]


def test_validate_endpoint_reads_json_ld_and_n_triples(web):
    for name, media_type in (("claim-in-json-ld.jsonld", "application/ld+json"),
                             ("study-and-claim.nt", "application/n-triples")):
        response = web.post("/api/validate", data=(ENTRIES / "valid" / name).read_bytes(), content_type=media_type)
        assert response.status_code == 200 and response.get_json()["conforms"] is True, name
    # the same bytes under the wrong Content-Type are a parse error, not a guess
    response = web.post("/api/validate", data=(ENTRIES / "valid" / "study-and-claim.nt").read_bytes(),
                        content_type="application/ld+json")
    assert response.status_code == 400 and "JSON-LD" in response.get_json()["error"]


def test_validate_endpoint_answers_the_shacl_report_as_turtle(web):
    data = (ENTRIES / "invalid" / "study-no-creator.ttl").read_bytes()
    response = web.post("/api/validate", data=data, content_type="text/turtle", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    report = rdflib.Graph().parse(data=response.data, format="turtle")
    (node,) = set(report.subjects(RDF.type, SH.ValidationReport))
    assert report.value(node, SH.conforms) == rdflib.Literal(False)
    assert {str(report.value(r, SH.sourceShape)) for r in report.objects(node, SH.result)} == {
        CLSH + "study-creator-count", CLSH + "study-creators-match"}
    valid = web.post("/api/validate", data=(ENTRIES / "valid" / "study-with-warnings.ttl").read_bytes(),
                     content_type="text/turtle", headers={"Accept": "text/turtle"})
    warnings = rdflib.Graph().parse(data=valid.data, format="turtle")
    assert (None, SH.conforms, rdflib.Literal(True)) in warnings  # warnings do not make an entry fail
    assert len(list(warnings.objects(None, SH.result))) == 2


def test_validate_endpoint_sees_the_store(web):
    """Duplicates and citations are checked against what the store holds (through the query workers)."""
    response = web.post("/api/validate", data=(ENTRIES / "invalid" / "study-duplicate-doi.ttl").read_bytes(),
                        content_type="text/turtle")
    (result,) = response.get_json()["results"]
    assert result["message"].startswith("cls:feys-devos-2015 has the same DOI")
