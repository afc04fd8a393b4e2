"""School cases: the illustrative cases and their graph, the case queries against counts made
independently with rdflib, the evidence queries that never read cases, the case page with its network
map, the CSV import (good and bad rows), the shapes' verdict on broken cases, and the measures a
contributed case carries."""
from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, Namespace, URIRef

from clkg import caseimport, cli, config, contributions, networks, store, turtle, validation
from clkg.config import Settings
from conftest import named_query_runner

CLO = Namespace("https://w3id.org/clkg/ontology/")
CLC = "https://w3id.org/clkg/concept/"
CLX = "https://w3id.org/clkg/case/"
CITO = Namespace("http://purl.org/spar/cito/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
ILLUSTRATIVE = config.ROOT / "kg" / "cases" / "illustrative"
EXAMPLES = config.ROOT / "templates" / "case" / "examples"
ENTRIES = Path(__file__).parent / "entries"
DATA = Path(__file__).parent / "data"
GRAPH = "https://w3id.org/clkg/graph/illustrative"

# A case whose actor label tries to inject markup into the page (the page must escape it).
HOSTILE = textwrap.dedent("""\
    @prefix clo: <https://w3id.org/clkg/ontology/> .
    @prefix clc: <https://w3id.org/clkg/concept/> .
    @prefix clx: <https://w3id.org/clkg/case/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    clx:hostile a clo:Case ; rdfs:label "Hostile test case"@en ; clo:illustrative true ; clo:networkMap clx:hostile-map .
    clx:hostile-map a clo:NetworkMap ; clo:actor clx:hostile-a, clx:hostile-b ; clo:tie clx:hostile-t .
    clx:hostile-a a clo:Actor ; rdfs:label "<script>alert('x')</script>"@en ; clo:actorKind clc:actor-coach .
    clx:hostile-b a clo:Actor ; rdfs:label "team & co"@en ; clo:actorKind clc:actor-own-teacher .
    clx:hostile-t a clo:Tie ; clo:tieSource clx:hostile-a ; clo:tieTarget clx:hostile-b .
    """)


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """The real ontology, evidence and illustrative cases, plus a fake claim and a hostile case in the
    illustrative graph (never evidence)."""
    hostile = tmp_path_factory.mktemp("hostile")
    (hostile / "hostile.ttl").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("cases"))
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"], "evidence": [config.ROOT / "kg" / "evidence"],
                            "illustrative": [ILLUSTRATIVE, DATA / "illustrative", hostile]}
    store.build(settings, reason=False)
    return settings


@pytest.fixture(scope="module")
def app(settings):
    from clkg.web import create_app

    app = create_app(settings, reason=False)
    yield app
    app.extensions["clkg"].close()


@pytest.fixture(scope="module")
def ask(app):
    return named_query_runner(app)


@pytest.fixture(scope="module")
def graph() -> rdflib.Graph:
    """Ontology, evidence and the illustrative cases, read with rdflib for independent counts."""
    folders = (config.ROOT / "ontology", config.ROOT / "kg" / "evidence", ILLUSTRATIVE)
    return turtle.load(path for folder in folders for path in sorted(folder.glob("*.ttl")))


@pytest.fixture(scope="module")
def context(settings):
    reader = store.open_read_only(settings)
    yield validation.StoreContext(reader)
    del reader


def narrower(graph, code: str) -> set:
    return set(graph.transitive_subjects(SKOS.broader, URIRef(CLC + code)))


def studies_about(graph, concept: URIRef) -> dict:
    """Distinct studies the evidence cites about a concept or a narrower one, by polarity (rdflib)."""
    concepts = set(graph.transitive_subjects(SKOS.broader, concept))
    found = {"all": set(), "supports": set(), "nuances": set(), "contradicts": set()}
    for claim in graph.subjects(RDF.type, CLO.Claim):
        if graph.value(claim, CLO.about) in concepts:
            study = graph.value(claim, CITO.cites)
            found["all"].add(study)
            found[str(graph.value(claim, CLO.polarity)).rsplit("/", 1)[1]].add(study)
    return found


def sparql(app, query: str) -> list[dict]:
    response = app.test_client().get("/sparql", query_string={"query": query},
                                     headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]]


# --- the illustrative cases --------------------------------------------------------------------------
def test_illustrative_cases_are_in_their_own_graph_and_marked(app):
    rows = sparql(app, """PREFIX clo: <https://w3id.org/clkg/ontology/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?case ?g ?flag ?comment WHERE { GRAPH ?g { ?case a clo:Case ; clo:illustrative ?flag
          OPTIONAL { ?case rdfs:comment ?comment } } }""")
    cases = {r["case"]: r for r in rows}
    assert {CLX + "example-1", CLX + "example-2"} <= set(cases)
    assert {r["g"] for r in rows} == {GRAPH} and {r["flag"] for r in rows} == {"true"}
    for name in ("example-1", "example-2"):
        assert cases[CLX + name]["comment"].startswith("ILLUSTRATIVE EXAMPLE")
    # nothing of a case is anywhere but in the illustrative graph
    outside = sparql(app, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
        FILTER (STRSTARTS(STR(?s), "{CLX}") && ?g != <{GRAPH}>) }}""")
    assert outside[0]["n"] == "0"


@pytest.mark.parametrize("name", ["example-1", "example-2"])
def test_the_illustrative_files_are_what_their_spreadsheets_import_to(name, settings, context):
    result = caseimport.import_case(EXAMPLES / name, settings, context)
    assert result.ok and not result.errors, [p.text() for p in result.problems]
    imported = set(rdflib.Graph().parse(data=result.turtle().decode(), format="turtle"))
    stored = set(rdflib.Graph().parse(ILLUSTRATIVE / f"{name}.ttl", format="turtle"))
    assert imported == stored, "regenerate kg/cases/illustrative/ with clkg import-case (templates/case/README.md)"


@pytest.mark.parametrize("path", sorted(ILLUSTRATIVE.glob("*.ttl")), ids=lambda p: p.name)
def test_illustrative_cases_conform_to_the_shapes_and_type_no_measures(path, settings, context):
    entry = validation.parse_entry(path.read_bytes(), ox.RdfFormat.TURTLE)
    assert not any(networks.is_measure(t.predicate) for t in entry)
    report = validation.validate_entry(entry, context, settings)
    assert report.violations == [], report.to_text()
    assert [(r.severity, r.field_name) for r in report.results] == [("warning", "clo:illustrative")]


def test_the_case_template_conforms(settings, context):
    path = config.ROOT / "templates" / "case" / "case-template.ttl"
    report = validation.validate_entry(validation.parse_entry(path.read_bytes(), ox.RdfFormat.TURTLE), context, settings)
    assert report.results == [], report.to_text()


def test_measures_are_stored_with_each_map_in_the_illustrative_graph(app, graph):
    rows = sparql(app, f"""PREFIX clo: <https://w3id.org/clkg/ontology/>
        SELECT ?actor ?degree ?betweenness ?closeness ?broker WHERE {{ GRAPH <{GRAPH}> {{
          <{CLX}example-1-map> clo:actor ?actor .
          ?actor clo:degree ?degree ; clo:betweenness ?betweenness ; clo:closeness ?closeness ; clo:broker ?broker }} }}""")
    maps = networks.maps_from_triples([ox.Triple(*(ox.NamedNode(str(x)) if isinstance(x, URIRef) else
                                                   ox.Literal(str(x), datatype=ox.NamedNode(str(x.datatype)))
                                                   if x.datatype else ox.Literal(str(x)) for x in t))
                                       for t in graph if not isinstance(t[0], rdflib.BNode)
                                       and not isinstance(t[2], rdflib.BNode) and str(t[0]).startswith(CLX + "example-1")])
    (network,) = maps
    expected = networks.compute(network)
    assert {r["actor"] for r in rows} == set(expected) and len(rows) == 12
    for row in rows:
        m = expected[row["actor"]]
        assert int(row["degree"]) == m.degree
        assert float(row["betweenness"]) == pytest.approx(m.betweenness, abs=1e-6)
        assert float(row["closeness"]) == pytest.approx(m.closeness, abs=1e-6)
    brokers = {r["actor"].rsplit("-", 1)[1] for r in rows if r["broker"] == "true"}
    # the CLB bridges the speech therapist, the adviser the neighbouring schools, the policy supporter the
    # adviser, the care coordinator the CLB, the lower years the library
    assert brokers == {"clb", "adviser", "policy", "care", "lower"}


# --- the case queries --------------------------------------------------------------------------------
def test_cases_for_a_broad_concept_include_the_narrower_ones(ask, graph):
    rows = ask("cases-for-concept", concept="C5.3")
    assert {"case", "school", "partnership", "polarity", "quote"} <= set(rows[0])
    expected = {str(o) for c in narrower(graph, "C5.3") for o in graph.subjects(CLO.observes, c)}
    assert {r["observation"] for r in rows} == expected and len(expected) == 4
    assert {r["code"] for r in rows} == {"C5.3.2a", "C5.3.3b", "C5.3.3c", "C5.3.1"}
    leadership = ask("cases-for-concept", concept="C5.3.3")
    assert {r["code"] for r in leadership} == {"C5.3.3b", "C5.3.3c"}
    assert {r["case"] for r in leadership} == {CLX + "example-1", CLX + "example-2"}
    motives = ask("cases-for-concept", concept="D-TASK")
    assert {r["code"] for r in motives} == {"M1", "M2", "M3", "M5"}


def test_cases_for_concept_gives_the_observation_details(ask):
    (row,) = ask("cases-for-concept", concept="C5.3.2a")
    assert row["case"] == CLX + "example-1" and row["school"] == CLX + "example-1-school"
    assert row["schoolCode"] == "EX-1" and row["level"] == "primary" and row["illustrative"] == "true"
    assert row["partnership"] == CLX + "example-1-partnership-care"
    assert (row["polarity"], row["presence"], row["effect"], row["informantRole"]) == (
        "supports", "missing", "barrier", "careCoordinator")
    assert row["quote"] == "We zien de logopediste bijna nooit: alles loopt via het CLB."
    assert ask("cases-for-concept", concept="C5.3", effect="enabler", presence="present")[0]["code"] in ("C5.3.3b", "C5.3.3c")
    assert {r["code"] for r in ask("cases-for-concept", concept="C5.3", effect="barrier")} == {"C5.3.2a", "C5.3.1"}
    assert [r["code"] for r in ask("cases-for-concept", concept="D-REL", polarity="nuances")] == []
    assert [r["code"] for r in ask("cases-for-concept", concept="D-GROWTH", polarity="nuances")] == ["M12"]


@pytest.mark.parametrize("name", ["example-1", "example-2"])
def test_case_vs_literature_counts_equal_an_independent_count(name, ask, graph):
    rows = ask("case-vs-literature", case=CLX + name)
    case = URIRef(CLX + name)
    observed: dict = {}
    for observation in graph.objects(case, CLO.observation):
        observed.setdefault(graph.value(observation, CLO.observes), []).append(observation)
    assert {r["concept"] for r in rows} == {str(c) for c in observed}
    for row in rows:
        concept = URIRef(row["concept"])
        studies = studies_about(graph, concept)
        assert int(row["caseObserved"]) == len(observed[concept])
        assert int(row["literatureStudies"]) == len(studies["all"]), row["code"]
        assert int(row["literatureSupports"]) == len(studies["supports"]), row["code"]
        assert int(row["literatureNuances"]) == len(studies["nuances"]), row["code"]
        assert int(row["literatureContradicts"]) == len(studies["contradicts"]), row["code"]
        assert (row["literature"] == "not mentioned") == (not studies["all"])
    if name == "example-1":  # the one outcome cell the literature cites no study for
        assert [r["code"] for r in rows if r["literature"] == "not mentioned"] == ["O-STU-PRA"]


def test_case_vs_literature_never_counts_the_illustrative_claim(ask, graph):
    # tests/data/illustrative holds a claim citing Epsilon (2020) about M1, loaded into the illustrative graph
    m1 = next(r for r in ask("case-vs-literature", case=CLX + "example-1") if r["code"] == "M1")
    assert int(m1["literatureStudies"]) == len(studies_about(graph, URIRef(CLC + "M1"))["all"])


def test_evidence_queries_never_see_cases_or_illustrative_claims(ask, app, graph):
    concepts = {str(c) for c in graph.objects(None, CLO.observes)}
    for concept in sorted(concepts):
        rows = ask("studies-for-concept", concept=concept)
        assert all(not r["study"].startswith(CLX) for r in rows)
        assert "Epsilon (2020)" not in {r.get("citation") for r in rows}
        assert {r["study"] for r in rows} == {str(s) for s in studies_about(graph, URIRef(concept))["all"]}, concept
    totals = {r["code"]: int(r["studies"]) for r in ask("evidence-map")}
    for code in ("M1", "M3", "C5.3.2a", "O-STU-PRA"):
        assert totals[code] == len(studies_about(graph, URIRef(CLC + code))["all"])
    counts = sparql(app, "PREFIX clo: <https://w3id.org/clkg/ontology/> "
                         "SELECT (COUNT(*) AS ?n) WHERE { ?o a clo:Observation ; a clo:Claim }")
    assert counts[0]["n"] == "0"


def test_partnerships_by_actor_kind_and_entry_option(ask, graph):
    clb = ask("partnerships", actorKind="actor-clb-staff")
    assert [r["partnership"] for r in clb] == [CLX + "example-1-partnership-care"]
    assert "actor-paramedic" in clb[0]["actorKinds"].split() and clb[0]["how"] == "how-imposed"
    imposed = {r["partnership"] for r in ask("partnerships", entryOption="entry-imposed")}
    expected = {str(p) for p in graph.subjects(CLO.entryOption, URIRef(CLC + "entry-imposed"))}
    assert imposed == expected == {CLX + "example-1-partnership-care", CLX + "example-2-partnership-community"}
    everyone = ask("partnerships", actorKind="external-professional")
    assert len(everyone) == len(set(graph.subjects(RDF.type, CLO.Partnership))) == 6
    secondary = ask("partnerships", level="secondary", entryOption="entry-voluntary")
    assert {r["partnership"] for r in secondary} == {CLX + "example-2-partnership-stem", CLX + "example-2-partnership-diversity"}
    row = next(r for r in everyone if r["partnership"].endswith("example-1-partnership-reading"))
    assert (row["startYear"], row["durationMonths"], row["contactsPerYear"], row["permanentFollowUp"]) == (
        "2016", "36", "6", "true")
    assert row["manifestation"] == "F1.2.4" and set(row["what"].split()) == {"goal-content", "learning-question",
                                                                                 "domain-consensus"}


def test_central_actors_are_external_and_ranked(ask):
    rows = ask("central-actors")
    assert rows and all(r["kind"] not in ("actor-own-teacher", "actor-own-principal", "actor-own-policy-supporter",
                                          "actor-own-care-coordinator") for r in rows)
    values = [float(r["betweenness"]) for r in rows]
    assert values == sorted(values, reverse=True)
    assert rows[0]["actor"] == CLX + "example-2-actor-coach" and rows[0]["broker"] == "true"
    by_closeness = [float(r["closeness"]) for r in ask("central-actors", measure="closeness")]
    assert by_closeness == sorted(by_closeness, reverse=True)
    (clb,) = ask("central-actors", kind="actor-clb-staff")
    assert clb["actor"] == CLX + "example-1-actor-clb" and clb["position"] == "anchoring" and clb["degree"] == "2"


def test_cases_with_a_motive_a_condition_and_an_outcome(ask):
    both = {r["case"] for r in ask("cases", motive="D-TASK")}
    assert {CLX + "example-1", CLX + "example-2"} <= both
    only_first = ask("cases", motive="M3", condition="C5.3.2", outcome="L-TEA")
    assert [r["case"] for r in only_first] == [CLX + "example-1"]
    assert (only_first[0]["partnerships"], only_first[0]["observations"], only_first[0]["actors"],
            only_first[0]["brokers"], only_first[0]["informants"]) == ("3", "9", "12", "5", "6")
    assert ask("cases", motive="M3", outcome="L-SCH") == []


# --- the case page -----------------------------------------------------------------------------------
def test_the_case_page_draws_the_network_map_and_the_partnership_table(app):
    html = app.test_client().get("/case/example-1.html").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*class=\"network-map\".*?</svg>", html, re.S)
    assert svg, "the network map is drawn inline"
    picture = svg.group(0)
    actors = re.findall(r'data-actor="([^"]+)"', picture)
    assert len(actors) == 12 and CLX + "example-1-actor-clb" in actors
    assert picture.count("<line ") == 14
    for label in ("CLB staff", "pedagogical adviser", "speech therapist", "teachers of years 1-3"):
        assert f">{label}</text>" in picture
    brokers = re.findall(r'class="actor external broker" data-actor="([^"]+)"', picture)
    assert sorted(brokers) == [CLX + "example-1-actor-adviser", CLX + "example-1-actor-clb"]
    assert picture.count('stroke-dasharray') == 3  # the three informal ties
    table = re.search(r'<table class="partnerships">.*?</table>', html, re.S).group(0)
    assert table.count("<tr>") == 4  # header and three partnerships
    assert "Care consultation with the CLB and a speech therapist" in table and "since 2014" in table
    assert "Illustrative example" in html and 'id="literature"' in html and "not mentioned" in html


def test_the_case_page_in_dutch(app):
    html = app.test_client().get("/case/example-2.html?lang=nl").get_data(as_text=True)
    assert "Netwerkkaart" in html and "secundair onderwijs" in html and "makelaar" in html


def test_the_case_page_escapes_labels(app):
    html = app.test_client().get("/case/hostile.html").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "team &amp; co" in html


def test_a_part_of_a_case_has_the_plain_page(app):
    response = app.test_client().get("/case/example-1-actor-clb.html")
    assert response.status_code == 200 and "network-map" not in response.get_data(as_text=True)


# --- the CSV import ----------------------------------------------------------------------------------
@pytest.fixture()
def cli_settings(settings, monkeypatch):
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: settings))
    return settings


def copy_example(tmp_path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(EXAMPLES / "example-1", folder)
    # a real case, not an illustrative one
    text = (folder / "case.csv").read_text().replace("example-1,EX-1", "s03,S03").replace(",true\n", ",false\n")
    (folder / "case.csv").write_text(text)
    return folder


def edit(folder: Path, name: str, old: str, new: str) -> None:
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text, (name, old)
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")


def test_import_of_good_rows_writes_a_valid_entry(tmp_path, cli_settings, capsys):
    folder = copy_example(tmp_path)
    output = tmp_path / "s03.ttl"
    assert cli.main(["import-case", str(folder), "--output", str(output)]) == 0
    captured = capsys.readouterr()
    assert "327 triples written" in captured.err and "warning" not in captured.err
    entry = validation.parse_entry(output.read_bytes(), ox.RdfFormat.TURTLE)
    kinds = {t.object.value.rsplit("/", 1)[1] for t in entry if t.predicate.value.endswith("#type")}
    assert kinds == {"Case", "School", "Informant", "Partnership", "NetworkMap", "Actor", "Tie", "Observation"}
    assert ox.Triple(ox.NamedNode(CLX + "s03-tie-8"), ox.NamedNode(str(CLO.tieSource)),
                     ox.NamedNode(CLX + "s03-actor-clb")) in entry
    # to standard output without --output, with a semicolon-separated spreadsheet too
    text = (folder / "ties.csv").read_text().replace(",", ";")
    (folder / "ties.csv").write_text(text)
    assert cli.main(["import-case", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("# A school case imported by `clkg import-case`")


def test_import_reports_every_bad_row_and_column_and_writes_nothing(tmp_path, cli_settings, capsys):
    folder = copy_example(tmp_path)
    edit(folder, "informants.csv", "V1,free-invitee", "V1,parent")
    edit(folder, "actors.csv", "speech,external,actor-paramedic", "speech,external,actor-wizard")
    edit(folder, "actors.csv", "clb,external,actor-clb-staff", "clb,internal,actor-clb-staff")
    edit(folder, "ties.csv", "principal,care,3,formal", "principal,nobody,3,formal")
    edit(folder, "ties.csv", "clb,speech,2,formal", "clb,speech,strong,formal")
    edit(folder, "partnerships.csv", "2016,36,6,permanent", "2016,three years,6,permanent")
    edit(folder, "observations.csv", "M9,reading", "M16,reading")
    edit(folder, "observations.csv", "M5,internships,supports,,", "M5,internships,supports,present,")
    edit(folder, "informants.csv", "T1,teacher", "T1,teacher,extra")
    output = tmp_path / "never.ttl"
    assert cli.main(["import-case", str(folder), "--output", str(output)]) == 1
    assert not output.exists()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "informants.csv line 5: the row has 3 cells but the header only 2 columns (a separator inside a value? "
        "quote it)",
        "informants.csv line 7, column role: 'parent' is not one of: principal, policy-supporter, care-coordinator, "
        "teacher, free-invitee",
        "actors.csv line 9, column side: the actor kind 'actor-clb-staff' is external, but side says internal",
        "actors.csv line 10, column kind: 'actor-wizard' is not an actor kind of the scheme (e.g. actor-academic, "
        "actor-clb-staff, actor-own-teacher)",
        "ties.csv line 3, column target: no actor has the id 'nobody' in actors.csv",
        "ties.csv line 9, column strength: 'strong' is not a number of at least 0",
        "partnerships.csv line 2, column duration: 'three years' is not a whole number of at least 0",
        "observations.csv line 3, column concept: no concept has the code 'M16' (a motive M1-M15, a condition "
        "C5.2-C5.3.3c or an outcome such as O-TEA-INS, L-TEA, V-INS)",
        "observations.csv line 9, column presence: only an observation of a condition (C5.2 ... C5.3.3c) says whether "
        "it is present or missing and works as an enabler or a barrier",
        f"clkg: {folder}: 9 error(s); nothing was written",
    ]


def test_import_maps_the_shapes_verdict_back_to_rows(tmp_path, cli_settings, capsys):
    folder = copy_example(tmp_path)
    edit(folder, "partnerships.csv", "clb|speech|care|lower", "care|lower")  # no external actor left
    edit(folder, "informants.csv", "V1,free-invitee\n", "V1,free-invitee\nteacher,teacher\n")  # a name-like code
    edit(folder, "observations.csv", "O-TEA-INS,reading", "F1.2.3,reading")  # a manifestation, not an outcome
    edit(folder, "case.csv", "West-Vlaanderen", "Gent")
    assert cli.main(["import-case", str(folder), "--lang", "nl"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "case.csv regel 2, kolom region: De regio is hoogstens één Vlaamse provincie of Brussel, als gewone tekst: "
        "\"Antwerpen\", \"Limburg\", \"Oost-Vlaanderen\", \"Vlaams-Brabant\", \"West-Vlaanderen\" of \"Brussel\" "
        "(niets preciezer, zodat de school anoniem blijft).",
        "informants.csv regel 8, kolom id: De code van een informant is één geanonimiseerde code van letters en een "
        "nummer als gewone tekst (\"T2\"), nooit een naam.",
        "partnerships.csv regel 3, kolom partners: Een samenwerkingsverband heeft minstens één externe actor: een "
        "clo:partner waarvan de clo:actorKind een externe actorsoort uit het schema is (bv. clc:actor-academic, "
        "clc:actor-pedagogical-adviser).",
        "observations.csv regel 6, kolom concept: Een observatie neemt een beweegreden (clc:M1 ... clc:M15), een "
        "randvoorwaarde (clc:C5.2 ... clc:C5.3.3c) of een implicatie (clc:O-TEA-INS, clc:L-TEA, clc:V-INS) uit het "
        "schema van het rapport waar.",
        f"clkg: {folder}: 4 fout(en); er werd niets geschreven",
    ]


def test_import_needs_the_files_and_their_columns(tmp_path, cli_settings, capsys):
    folder = copy_example(tmp_path)
    (folder / "informants.csv").unlink()
    edit(folder, "actors.csv", "id,side,kind,label", "id,side,sort,label")
    assert cli.main(["import-case", str(folder)]) == 1
    assert capsys.readouterr().err.splitlines()[:3] == [
        "informants.csv: the file is missing (every case needs it; see templates/case/README.md)",
        "actors.csv line 1, column sort: unknown column 'sort' (this file has: id, side, kind, label, position, role)",
        "actors.csv line 1, column kind: the column 'kind' is missing",
    ]
    assert cli.main(["import-case", str(tmp_path / "nowhere")]) == 2


# --- the shapes reject broken cases --------------------------------------------------------------------
def case_entry(*replacements) -> list:
    text = (ENTRIES / "valid" / "case.ttl").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return validation.parse_entry(text, ox.RdfFormat.TURTLE)


@pytest.mark.parametrize("replacements, focus, path, message", [
    ([("clo:observes clc:M2 ;", "clo:observes clc:M16 ;")],
     CLX + "s07-observation-1", str(CLO.observes),
     "An observation observes a motive (clc:M1 ... clc:M15), a condition (clc:C5.2 ... clc:C5.3.3c) or an outcome "
     "(clc:O-TEA-INS, clc:L-TEA, clc:V-INS) of the report's scheme."),
    ([("clo:partner clx:s07-researcher, clx:s07-adviser, clx:s07-team ;", "clo:partner clx:s07-team ;"),
      ("clo:initiator clx:s07-researcher ;", "")],
     CLX + "s07-partnership-1", None,
     "A partnership has at least one external actor: a clo:partner whose clo:actorKind is an external actor kind of "
     "the scheme (e.g. clc:actor-academic, clc:actor-pedagogical-adviser)."),
    ([("clx:s07-invitee a clo:Informant ; clo:role clo:freeInvitee .", "clx:s07-invitee a clo:Informant ; clo:role clo:parent .")],
     CLX + "s07-invitee", str(CLO.role),
     "The informant's role is clo:principal, clo:policySupporter, clo:careCoordinator, clo:teacher or clo:freeInvitee."),
], ids=["unknown-motive-code", "partnership-without-external-actor", "informant-with-unknown-role"])
def test_the_shapes_reject_a_broken_case(replacements, focus, path, message, settings, context):
    report = validation.validate_entry(case_entry(*replacements), context, settings)
    assert [(r.severity, r.focus_node, r.message("en")) for r in report.results] == [("violation", focus, message)]
    (result,) = report.results
    if path is not None:
        assert result.path == path
    else:
        assert result.field_name == "clo:partner/clo:actorKind"
    assert report.conforms is False


# --- a contributed case carries its measures -----------------------------------------------------------
def test_an_ingested_case_is_stored_with_its_computed_measures(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"]}
    store.build(settings, reason=False)
    entry = case_entry(("clo:actorKind clc:actor-academic ;",
                        'clo:degree "7"^^xsd:nonNegativeInteger ; clo:actorKind clc:actor-academic ;'))
    contribution, report = contributions.ingest(settings, entry, "Dana")
    assert [(r.severity, r.focus_node) for r in report.results] == [("warning", CLX + "s07-researcher")]
    stored = {}
    reader = store.open_read_only(settings)
    for quad in reader.quads_for_pattern(None, None, None, ox.NamedNode(contribution.graph)):
        if networks.is_measure(quad.predicate):
            stored[(quad.subject.value.rsplit("-", 1)[1], quad.predicate.value.rsplit("/", 1)[1])] = quad.object.value
    del reader
    # researcher - team, researcher - adviser: the researcher is the hub (and the broker)
    assert stored[("researcher", "degree")] == "2" and stored[("researcher", "betweenness")] == "1"
    assert stored[("researcher", "closeness")] == "1" and stored[("researcher", "broker")] == "true"
    assert stored[("team", "degree")] == "1" and stored[("team", "closeness")] == "0.666667"
    assert stored[("team", "broker")] == "false"
    text = (contributions.folder(settings) / f"{contribution.id}.trig").read_text()
    assert '"7"' not in text and "betweenness" in text
    # a rebuild recomputes them in the contribution's graph: the same values
    assert store.build(settings, force=True, reason=False)
    reader = store.open_read_only(settings)
    again = {(q.subject.value.rsplit("-", 1)[1], q.predicate.value.rsplit("/", 1)[1]): q.object.value
             for q in reader.quads_for_pattern(None, None, None, ox.NamedNode(contribution.graph))
             if networks.is_measure(q.predicate)}
    del reader
    assert again == stored


def test_cases_listing_and_api_list_the_new_queries(app):
    listing = {q["name"]: q for q in app.test_client().get("/api/queries").get_json()}
    assert {"cases-for-concept", "case-vs-literature", "partnerships", "central-actors", "cases"} <= set(listing)
    params = {p["name"]: p for p in listing["cases-for-concept"]["parameters"]}
    assert params["concept"]["required"] is True and params["concept"]["type"] == "concept"
    assert {p["name"]: p["required"] for p in listing["case-vs-literature"]["parameters"]} == {"case": True}
    response = app.test_client().get("/api/queries/case-vs-literature")
    assert response.status_code == 400 and "case" in json.loads(response.get_data())["error"]
