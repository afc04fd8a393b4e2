"""The ontology (ontology/clkg.ttl) and the concept scheme (ontology/concepts.ttl).

Checks that every concept code of design.md is there exactly once, that every term is labelled and
defined in Dutch and English, that the inventory of uncoded concepts in docs/modelling.md is covered,
that no term hangs loose, and that HermiT (clkg/reasoning.py) accepts the ontology, rejects an
inconsistent individual and classifies claims as the restriction classes promise.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "clkg.ttl"
CONCEPTS = ROOT / "ontology" / "concepts.ttl"
MODELLING = ROOT / "docs" / "modelling.md"

CLO = Namespace("https://w3id.org/clkg/ontology/")
CLC = Namespace("https://w3id.org/clkg/concept/")
DCTERMS = Namespace("http://purl.org/dc/terms/")

# The codes of design.md's table, written out.
MANIFESTATIONS = [f"F1.2.{i}" for i in range(1, 7)]
DIMENSIONS = ["D-TASK", "D-REL", "D-GROWTH"]
MOTIVES = [f"M{i}" for i in range(1, 16)]
CONDITIONS = ["C5.2", "C5.2.1", "C5.2.2", "C5.2.3", "C5.2.4", "C5.3", "C5.3.1", "C5.3.2", "C5.3.2a", "C5.3.2b",
              "C5.3.3", "C5.3.3a", "C5.3.3b", "C5.3.3c"]
LEVELS = ["L-STU", "L-TEA", "L-SCH"]
VALUE_TYPES = ["V-ACT", "V-RES", "V-PRA", "V-VIS", "V-INS"]
CELLS = [f"O-{level[2:]}-{value[2:]}" for level in LEVELS for value in VALUE_TYPES]
NOTES = [f"P{i}" for i in range(1, 9)]
QUESTIONS = [f"RQ{i}" for i in range(1, 5)]
CODES = MANIFESTATIONS + DIMENSIONS + MOTIVES + CONDITIONS + LEVELS + VALUE_TYPES + CELLS + NOTES + QUESTIONS

java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY, format="turtle")
    g.parse(CONCEPTS, format="turtle")
    return g


def concepts(g: Graph) -> set:
    return set(g.subjects(RDF.type, SKOS.Concept))


def langs(g: Graph, subject, predicate) -> set:
    return {o.language for o in g.objects(subject, predicate) if isinstance(o, Literal)}


def inventory() -> list[tuple[str, str, str, str]]:
    """(local name, en, nl, section) rows of the inventory table in docs/modelling.md."""
    text = MODELLING.read_text(encoding="utf-8")
    part = text.split("### Inventory of uncoded concepts", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("local name",) and not set(cells[0]) <= {"-", ":"}:
            rows.append(tuple(cells))
    return rows


# --------------------------------------------------------------------------------------------------
# codes


def test_the_expected_code_list_matches_design_md():
    assert len(CODES) == 73 and len(set(CODES)) == 73
    assert Counter(c.split("-")[0] if c.startswith("O-") else c for c in CELLS)["O"] == 15


def test_every_code_is_a_notation_exactly_once_on_its_own_iri(graph):
    notations = Counter(str(o) for o in graph.objects(None, SKOS.notation))
    for code in CODES:
        assert notations[code] == 1, f"{code} appears {notations[code]} times as skos:notation"
        holders = list(graph.subjects(SKOS.notation, Literal(code)))
        assert holders == [CLC[code]], f"{code} is on {holders}, expected clc:{code}"
        assert (CLC[code], RDF.type, SKOS.Concept) in graph
        assert (CLC[code], SKOS.inScheme, CLC.scheme) in graph


def test_notations_are_unique_plain_literals(graph):
    values = list(graph.objects(None, SKOS.notation))
    assert all(isinstance(v, Literal) and v.datatype is None and v.language is None for v in values)
    duplicates = [v for v, n in Counter(map(str, values)).items() if n > 1]
    assert duplicates == []


def test_only_design_codes_are_notations_of_concepts(graph):
    coded = {str(n) for c in concepts(graph) for n in graph.objects(c, SKOS.notation)}
    assert coded == set(CODES)


@pytest.mark.parametrize("codes,cls", [
    (MANIFESTATIONS, CLO.Manifestation), (DIMENSIONS, CLO.MotiveDimension), (MOTIVES[:6], CLO.TaskMotive),
    (MOTIVES[6:10], CLO.RelationMotive), (MOTIVES[10:], CLO.GrowthMotive), (CONDITIONS[:5], CLO.CultureCondition),
    (CONDITIONS[5:], CLO.SituationCondition), (LEVELS, CLO.OutcomeLevel), (VALUE_TYPES, CLO.ValueType),
    (CELLS, CLO.OutcomeCell), (NOTES, CLO.CriticalNote), (QUESTIONS, CLO.ResearchQuestion)])
def test_coded_concepts_have_their_ontology_class(graph, codes, cls):
    for code in codes:
        assert (CLC[code], RDF.type, cls) in graph, f"clc:{code} is not a {cls}"


# --------------------------------------------------------------------------------------------------
# hierarchy


@pytest.mark.parametrize("children,parent", [
    (MOTIVES[:6], "D-TASK"), (MOTIVES[6:10], "D-REL"), (MOTIVES[10:], "D-GROWTH"),
    (["C5.2.1", "C5.2.2", "C5.2.3", "C5.2.4"], "C5.2"), (["C5.3.1", "C5.3.2", "C5.3.3"], "C5.3"),
    (["C5.3.2a", "C5.3.2b"], "C5.3.2"), (["C5.3.3a", "C5.3.3b", "C5.3.3c"], "C5.3.3")])
def test_broader_links_of_the_codes(graph, children, parent):
    for child in children:
        assert (CLC[child], SKOS.broader, CLC[parent]) in graph, f"{child} -> {parent} missing"


def test_every_outcome_cell_is_narrower_than_its_level_and_value_type(graph):
    for level in LEVELS:
        for value in VALUE_TYPES:
            cell = CLC[f"O-{level[2:]}-{value[2:]}"]
            assert set(graph.objects(cell, SKOS.broader)) == {CLC[level], CLC[value]}
            assert graph.value(cell, CLO.hasLevel) == CLC[level]
            assert graph.value(cell, CLO.hasValueType) == CLC[value]


def test_every_concept_has_a_parent_or_is_a_top_concept(graph):
    for concept in concepts(graph):
        parents = set(graph.objects(concept, SKOS.broader))
        top = (concept, SKOS.topConceptOf, CLC.scheme) in graph
        assert parents or top, f"{concept} has neither skos:broader nor skos:topConceptOf"
        assert not (parents and top), f"{concept} is a top concept with a parent"
        assert parents <= concepts(graph), f"{concept} has a broader that is not a concept"
        assert (concept, SKOS.inScheme, CLC.scheme) in graph
        if top:
            assert (CLC.scheme, SKOS.hasTopConcept, concept) in graph


def test_narrower_mirrors_broader_and_the_hierarchy_has_no_cycle(graph):
    broader = set(graph.subject_objects(SKOS.broader))
    narrower = {(o, s) for s, o in graph.subject_objects(SKOS.narrower)}
    assert broader == narrower
    parents = {}
    for child, parent in broader:
        parents.setdefault(child, set()).add(parent)
    for start in parents:
        seen, todo = set(), list(parents[start])
        while todo:
            node = todo.pop()
            assert node != start, f"cycle through {start}"
            if node not in seen:
                seen.add(node)
                todo.extend(parents.get(node, ()))


def test_actor_kinds_hang_under_external_or_internal_actor(graph):
    kinds = set(graph.subjects(RDF.type, CLO.ExternalActorKind)) | set(graph.subjects(RDF.type, CLO.InternalActorKind))
    assert len(kinds) >= 22
    for kind in kinds - {CLC["external-professional"], CLC["internal-actor"]}:
        expected = CLC["external-professional"] if (kind, RDF.type, CLO.ExternalActorKind) in graph else CLC["internal-actor"]
        assert (kind, SKOS.broader, expected) in graph, kind


def test_entry_options_and_structure_types_have_a_grouping_parent(graph):
    for option in set(graph.subjects(RDF.type, CLO.EntryOption)) - {CLC["entry-option"]}:
        assert (option, SKOS.broader, CLC["entry-option"]) in graph
    for structure in graph.subjects(RDF.type, CLO.StructureType):
        assert (structure, SKOS.broader, CLC["structure-typology"]) in graph


def test_every_clo_class_has_a_parent_or_a_use(graph):
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef) and str(c).startswith(str(CLO))}
    assert len(classes) >= 60
    used = set(graph.objects(None, RDF.type)) | set(graph.objects(None, RDFS.range)) | set(graph.objects(None, RDFS.domain))
    for cls in classes:
        has_parent = any(isinstance(p, URIRef) for p in graph.objects(cls, RDFS.subClassOf)) or \
            (cls, OWL.equivalentClass, None) in graph
        assert has_parent or cls in used, f"{cls} is neither a subclass of something nor used"


def test_concept_categories_are_skos_concepts(graph):
    def ancestors(c, seen):
        for p in graph.objects(c, RDFS.subClassOf):
            if isinstance(p, URIRef) and p not in seen:
                seen.add(p)
                ancestors(p, seen)
        return seen

    for concept in concepts(graph):
        for cls in graph.objects(concept, RDF.type):
            if str(cls).startswith(str(CLO)):
                assert SKOS.Concept in ancestors(cls, set()), f"{cls} (type of {concept}) is not a skos:Concept subclass"


# --------------------------------------------------------------------------------------------------
# labels, definitions, sections


def test_every_class_and_concept_is_labelled_and_defined_in_dutch_and_english(graph):
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(str(CLO))}
    properties = {p for t in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
                  for p in graph.subjects(RDF.type, t) if str(p).startswith(str(CLO))}
    individuals = {i for i in graph.subjects(RDF.type, OWL.NamedIndividual) if str(i).startswith(str(CLO))}
    terms = classes | properties | individuals | concepts(graph) | {CLC.scheme}
    assert len(concepts(graph)) >= 180
    for term in terms:
        assert {"nl", "en"} <= langs(graph, term, RDFS.label), f"{term}: rdfs:label nl/en"
        assert {"nl", "en"} <= langs(graph, term, SKOS.definition), f"{term}: skos:definition nl/en"
        assert len(list(graph.objects(term, RDFS.label))) == 2, f"{term}: one label per language"
    for concept in concepts(graph):
        assert {"nl", "en"} <= langs(graph, concept, SKOS.prefLabel), f"{concept}: skos:prefLabel nl/en"
        assert graph.value(concept, CLO.definedInSection) is not None, f"{concept}: clo:definedInSection"


def test_pref_labels_are_unique_per_language_in_the_scheme(graph):
    labels = Counter((str(o), o.language) for c in concepts(graph) for o in graph.objects(c, SKOS.prefLabel))
    assert [label for label, n in labels.items() if n > 1] == []


def test_concept_categories_carry_their_section(graph):
    for cls in graph.subjects(RDFS.subClassOf, SKOS.Concept):
        section = graph.value(cls, CLO.definedInSection)
        assert section is not None and re.fullmatch(r"\d+(\.\d+)*|intro", str(section)), cls


def test_sources_follow_the_slug_rule(graph):
    sources = {str(o) for o in graph.objects(None, DCTERMS.source)}
    for needed in ("verbiest-2002", "suijs-1999", "nijland-vanamersfoort-2013", "korenhof-etal-2010",
                   "vanginkel-etal-2009", "schiff-etal-2015", "agranoff-2007", "kirkpatrick-2006"):
        assert f"https://w3id.org/clkg/study/{needed}" in sources
    slug = re.compile(r"https://w3id\.org/clkg/study/[a-z]+(-[a-z]+)?(-etal)?-\d{4}[ab]?$")
    assert all(slug.match(s) for s in sources), sorted(s for s in sources if not slug.match(s))


def test_every_inventory_concept_exists(graph):
    rows = inventory()
    assert len(rows) >= 100
    for local, en, nl, _section in rows:
        concept = CLC[local]
        assert (concept, RDF.type, SKOS.Concept) in graph, f"inventory concept clc:{local} is missing"
        assert (concept, SKOS.notation, None) not in graph, f"uncoded clc:{local} has a notation"
        assert (concept, SKOS.prefLabel, Literal(en, lang="en")) in graph, f"clc:{local}: en label is not {en!r}"
        assert (concept, SKOS.prefLabel, Literal(nl, lang="nl")) in graph, f"clc:{local}: nl label is not {nl!r}"


def test_polarities_are_distinct_and_mapped_to_cito(graph):
    cito = Namespace("http://purl.org/spar/cito/")
    expected = {CLO.supports: cito.supports, CLO.nuances: cito.qualifies, CLO.contradicts: cito.disagreesWith}
    for polarity, match in expected.items():
        marker = CLO.SupportingPolarity if polarity == CLO.supports else CLO.ContestingPolarity
        assert (polarity, RDF.type, marker) in graph and (marker, RDFS.subClassOf, CLO.Polarity) in graph
        assert str(graph.value(polarity, SKOS.notation)) == str(polarity).rsplit("/", 1)[1]
        assert (polarity, SKOS.closeMatch, match) in graph
    different = [set(graph.items(graph.value(n, OWL.distinctMembers))) for n in graph.subjects(RDF.type, OWL.AllDifferent)]
    assert set(expected) in different


@pytest.mark.parametrize("marker,member", [
    ("TaskDimension", "D-TASK"), ("RelationDimension", "D-REL"), ("GrowthDimension", "D-GROWTH"),
    ("StudentOutcomeLevel", "L-STU"), ("TeacherOutcomeLevel", "L-TEA"), ("SchoolOutcomeLevel", "L-SCH"),
    ("ProductiveActivityValue", "V-ACT"), ("UsefulResourceValue", "V-RES"), ("ChangingPracticeValue", "V-PRA"),
    ("VisibleOutcomeValue", "V-VIS"), ("NewInsightValue", "V-INS")])
def test_marker_classes_hold_exactly_their_concept(graph, marker, member):
    assert set(graph.subjects(RDF.type, CLO[marker])) == {CLC[member]}


def test_no_nominals_so_realisation_stays_fast(graph):
    # owl:hasValue / owl:oneOf make HermiT's realisation ~10x slower on this graph (see clkg.ttl).
    assert (None, OWL.hasValue, None) not in graph
    assert (None, OWL.oneOf, None) not in graph


def test_every_used_property_is_declared_with_one_owl_type(graph):
    kinds = {}
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for p in graph.subjects(RDF.type, kind):
            kinds.setdefault(p, set()).add(kind)
    assert all(len(k) == 1 for k in kinds.values()), {p: k for p, k in kinds.items() if len(k) > 1}
    builtin = (str(RDF), str(RDFS), str(OWL))
    for predicate in set(graph.predicates()):
        if not str(predicate).startswith(builtin):
            assert predicate in kinds, f"{predicate} is used but not declared"


# --------------------------------------------------------------------------------------------------
# reasoning

PREFIXES = """@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix clc: <https://w3id.org/clkg/concept/> .
@prefix cls: <https://w3id.org/clkg/study/> . @prefix clm: <https://w3id.org/clkg/claim/> .
@prefix clx: <https://w3id.org/clkg/case/> .
@prefix cito: <http://purl.org/spar/cito/> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix bibo: <http://purl.org/ontology/bibo/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

INSTANCES = PREFIXES + """
cls:test-2020 a clo:Study, bibo:AcademicArticle ; dcterms:issued "2020"^^xsd:gYear ;
    bibo:authorList ( <https://w3id.org/clkg/person/test-a> ) ; clo:inBibliography true .
clm:t-ins a clo:Claim ; cito:cites cls:test-2020 ; cito:citesAsEvidence cls:test-2020 ; clo:about clc:O-TEA-INS ; clo:polarity clo:supports ;
    clo:section "6.2" ; clo:quote "Een zin."@nl ; prov:wasDerivedFrom cls:desmet-etal-2019 .
clm:t-m3 a clo:Claim ; cito:cites cls:test-2020 ; cito:citesAsEvidence cls:test-2020 ; clo:about clc:M3 ; clo:polarity clo:nuances ;
    clo:section "4.2" ; clo:quote "Een andere zin."@nl .
clm:t-ltea a clo:Claim ; cito:cites cls:test-2020 ; cito:citesAsEvidence cls:test-2020 ; clo:about clc:L-TEA ; clo:polarity clo:contradicts ; clo:section "6.2" .
clm:t-c533a a clo:Claim ; cito:cites cls:test-2020 ; cito:citesAsEvidence cls:test-2020 ; clo:about clc:C5.3.3a ; clo:polarity clo:supports ; clo:section "5.3.3" .
clx:case-1 a clo:Case ; clo:illustrative true ; clo:school clx:school-1 ; clo:networkMap clx:map-1 ; clo:observation clx:obs-1 .
clx:school-1 a clo:School ; clo:level clo:primary .
clx:map-1 a clo:NetworkMap ; clo:actor clx:a1, clx:a2 ; clo:tie clx:t1 .
clx:a1 a clo:Actor ; clo:actorKind clc:actor-own-principal ; clo:degree 1 ; clo:betweenness 0.0 ; clo:closeness 1.0 .
clx:a2 a clo:Actor ; clo:actorKind clc:actor-pedagogical-adviser ; clo:position clc:position-core ; clo:degree 1 ;
    clo:betweenness "0"^^xsd:double ; clo:closeness 1.0 .
clx:t1 a clo:Tie ; clo:tieSource clx:a1 ; clo:tieTarget clx:a2 ; clo:tieStrength 2 .
clx:obs-1 a clo:Observation ; clo:observes clc:M8 ; clo:polarity clo:supports ; clo:quote "Citaat."@nl .
"""


@pytest.fixture(scope="module")
def instance_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clkg") / "instances.ttl"
    path.write_text(INSTANCES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inferred(instance_file) -> Graph:
    from clkg import reasoning

    return reasoning.materialise([ONTOLOGY, CONCEPTS, instance_file])


@java
def test_hermit_finds_ontology_and_instances_consistent(instance_file):
    from clkg import reasoning

    reasoning.check_consistency([ONTOLOGY, CONCEPTS])
    reasoning.check_consistency([ONTOLOGY, CONCEPTS, instance_file])


@java
@pytest.mark.parametrize("bad,hint", [
    ("clc:bad a clo:TaskMotive, clo:GrowthMotive .", "disjoint"),
    ("clc:bad a clo:CultureCondition, clo:SituationCondition .", "disjoint"),
    ("clm:bad a clo:Claim ; clo:polarity clo:supports, clo:contradicts .", "inconsistent"),
    ("clc:M99 a clo:Motive ; <http://www.w3.org/2004/02/skos/core#broader> clc:D-TASK, clc:D-GROWTH .", "inconsistent"),
])
def test_hermit_reports_an_inconsistent_individual(tmp_path, bad, hint):
    from clkg import reasoning

    path = tmp_path / "bad.ttl"
    path.write_text(PREFIXES + bad, encoding="utf-8")
    with pytest.raises(reasoning.InconsistentGraph) as error:
        reasoning.check_consistency([ONTOLOGY, CONCEPTS, path])
    assert hint in str(error.value)
    if hint == "disjoint":
        assert "https://w3id.org/clkg/concept/bad" in str(error.value)


@java
def test_materialise_classifies_outcome_claims(inferred):
    claim = URIRef("https://w3id.org/clkg/claim/t-ins")
    types = set(inferred.objects(claim, RDF.type))
    assert {CLO.TeacherOutcomeClaim, CLO.NewInsightClaim, CLO.OutcomeClaim, CLO.SupportingClaim} <= types
    assert not {CLO.StudentOutcomeClaim, CLO.SchoolOutcomeClaim, CLO.MotiveClaim, CLO.ContestingClaim} & types
    level_claim = URIRef("https://w3id.org/clkg/claim/t-ltea")
    assert {CLO.TeacherOutcomeClaim, CLO.ContestingClaim} <= set(inferred.objects(level_claim, RDF.type))
    assert CLO.NewInsightClaim not in set(inferred.objects(level_claim, RDF.type))


@java
def test_materialise_classifies_motive_and_condition_claims(inferred):
    motive = set(inferred.objects(URIRef("https://w3id.org/clkg/claim/t-m3"), RDF.type))
    assert {CLO.MotiveClaim, CLO.TaskMotiveClaim, CLO.ContestingClaim} <= motive
    assert not {CLO.GrowthMotiveClaim, CLO.ConditionClaim, CLO.SupportingClaim} & motive
    condition = set(inferred.objects(URIRef("https://w3id.org/clkg/claim/t-c533a"), RDF.type))
    assert {CLO.ConditionClaim, CLO.SituationConditionClaim} <= condition
    assert CLO.CultureConditionClaim not in condition


@java
def test_materialise_returns_only_new_type_triples(inferred, instance_file):
    asserted = Graph()
    for path in (ONTOLOGY, CONCEPTS, instance_file):
        asserted.parse(path, format="turtle")
    assert len(inferred) > 0
    assert set(inferred.predicates()) == {RDF.type}
    assert all((s, p, o) not in asserted for s, p, o in inferred)
    assert all(isinstance(s, URIRef) and isinstance(o, URIRef) for s, o in inferred.subject_objects())
    assert not set(inferred.objects()) & {OWL.Thing, OWL.NamedIndividual}
    # superclasses of asserted types count as inferred memberships
    assert (URIRef("https://w3id.org/clkg/claim/t-ins"), RDF.type, URIRef("http://www.w3.org/ns/prov#Entity")) in inferred
    assert (CLC.M3, RDF.type, CLO.Motive) in inferred


@java
def test_materialise_classifies_two_thousand_claims(tmp_path):
    """Scale check (the timing itself is in bench/reasoning_bench.py, not asserted here)."""
    from clkg import reasoning

    codes = MOTIVES + CONDITIONS + CELLS + LEVELS + VALUE_TYPES
    polarities = ["supports", "nuances", "contradicts"]
    lines = [PREFIXES, "cls:perf-2020 a clo:Study, bibo:Book ."]
    for i in range(2000):
        lines.append(f'clm:p{i} a clo:Claim ; cito:cites cls:perf-2020 ; cito:citesAsEvidence cls:perf-2020 ; clo:about clc:{codes[i % len(codes)]} ; '
                     f'clo:polarity clo:{polarities[i % 3]} ; clo:section "6.{i % 3 + 1}" ; clo:quote "Zin {i}."@nl .')
    path = tmp_path / "many.ttl"
    path.write_text("\n".join(lines), encoding="utf-8")
    inferred = reasoning.materialise([ONTOLOGY, CONCEPTS, path])
    claims = {s for s in inferred.subjects(RDF.type, URIRef("http://www.w3.org/ns/prov#Entity"))}
    assert len([c for c in claims if "/claim/p" in str(c)]) == 2000
    assert (URIRef("https://w3id.org/clkg/claim/p0"), RDF.type, CLO.TaskMotiveClaim) in inferred


def test_to_owlready_loads_a_fresh_world_per_call():
    from clkg import reasoning

    first = reasoning.to_owlready([ONTOLOGY, CONCEPTS])
    second = reasoning.to_owlready([ONTOLOGY])
    assert first.world is not second.world
    assert first.world["https://w3id.org/clkg/concept/M3"] is not None
    assert second.world["https://w3id.org/clkg/concept/M3"] is None
    assert first.world["https://w3id.org/clkg/ontology/TeacherOutcomeClaim"] is not None


def test_reasoning_view_drops_annotations_and_lists(graph):
    from clkg import reasoning

    view = reasoning.reasoning_view(graph)
    assert (CLC.M3, SKOS.prefLabel, None) not in view
    assert (CLC.M3, SKOS.broader, CLC["D-TASK"]) in view
    assert (CLC.M3, RDF.type, OWL.NamedIndividual) in view
    assert not any(isinstance(o, Literal) and o.language for o in view.objects())


# --------------------------------------------------------------------------------------------------
# documentation


def test_ontology_html_documents_classes_and_concepts():
    from clkg.ontology_docs import ontology_html

    page = ontology_html([ONTOLOGY, CONCEPTS])
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "teacher outcome claim" in page
    assert "https://w3id.org/clkg/ontology/TeacherOutcomeClaim" in page
    assert "clo:about some clo:TeacherOutcomeLevel" in page  # class expressions are spelled out
    assert 'id="concept-O-TEA-INS"' in page and "nieuwe inzichten" in page


def test_ontology_html_fails_clearly_without_an_ontology(tmp_path):
    from clkg.ontology_docs import DocumentationError, ontology_html

    path = tmp_path / "empty.ttl"
    path.write_text(PREFIXES + "clc:x a clo:Motive .", encoding="utf-8")
    with pytest.raises(DocumentationError):
        ontology_html([path])
