"""Citation functions (CiTO) of the claims, and the filter that the named queries and the evidence map offer.

Every answer is checked against a count made here with rdflib over the Turtle files, for every code whose
evidence the second edition changed (removed, re-tagged or added claims).
"""
from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import RDF, Namespace, URIRef

from clkg import config, evidence

CLO = Namespace("https://w3id.org/clkg/ontology/")
CLC = "https://w3id.org/clkg/concept/"
CITO = Namespace("http://purl.org/spar/cito/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SH = Namespace("http://www.w3.org/ns/shacl#")
CLSH = Namespace("https://w3id.org/clkg/shapes/")
# Codes whose evidence changed: M2 (Roelofs 2002 left), M3 (Nevin et al. 2009 left), M11 and M14 (the 4.4
# innovator bullet), C5.2.4 (its self-efficacy claims moved to a narrower concept), and the uncoded
# concepts that lost, gained or received claims.
CHANGED = ["M2", "M3", "M11", "M14", "C5.2.4", "self-efficacy", "informal-learning", "how-spontaneous",
           "social-network-analysis", "entry-equality", "method-5w1h", "individual-learning", "external-professional",
           "collective-learning-with-external-partners"]
CODED = ["M2", "M3", "M11", "M14", "C5.2.4"]
INNOVATOR_BULLET = {"laferriere-etal-2012", "alfrey-etal-2017", "ellison-etal-2018", "heineke-etal-2015", "brown-2010",
                    "robertsholmes-bradbury-2017", "blankestijn-2015"}


@pytest.fixture(scope="module")
def graph(evidence_graph):
    return evidence_graph


def studies_about(graph, code: str, function: str | None = None, polarity: str | None = None) -> set[str]:
    """Distinct studies cited about a concept or a narrower one, optionally with one citation function."""
    concepts = set(graph.transitive_subjects(SKOS.broader, URIRef(CLC + code)))
    found = set()
    for claim in graph.subjects(RDF.type, CLO.Claim):
        study = graph.value(claim, CITO.cites)
        if graph.value(claim, CLO.about) not in concepts:
            continue
        if polarity is not None and graph.value(claim, CLO.polarity) != CLO[polarity]:
            continue
        if function is not None and (claim, CITO[function], study) not in graph:
            continue
        found.add(str(study))
    return found


def test_the_function_lists_of_audit_shape_and_ontology_agree(graph):
    shapes = rdflib.Graph().parse(config.ROOT / "shapes" / "claim.ttl", format="turtle")
    path = shapes.value(CLSH["claim-function"], SH.path)
    in_shape = list(rdflib.collection.Collection(shapes, shapes.value(path, SH.alternativePath)))
    in_ontology = set(graph.subjects(URIRef("http://www.w3.org/2000/01/rdf-schema#subPropertyOf"), CITO.cites))
    assert in_shape == list(evidence.CITATION_FUNCTIONS)
    assert in_ontology == set(evidence.CITATION_FUNCTIONS)


def test_every_claim_has_cites_and_exactly_one_function_to_the_same_study(graph):
    claims = list(graph.subjects(RDF.type, CLO.Claim))
    assert len(claims) > 900
    used = set()
    for claim in claims:
        study = graph.value(claim, CITO.cites)
        functions = [f for f in evidence.CITATION_FUNCTIONS if (claim, f, None) in graph]
        assert len(functions) == 1 and (claim, functions[0], study) in graph, claim
        used.add(functions[0])
    # the reading found evidence, concepts taken from works, background, recommendations and a method
    assert {CITO.citesAsEvidence, CITO.usesConceptIn, CITO.obtainsBackgroundFrom, CITO.citesAsPotentialSolution,
            CITO.usesMethodIn} <= used


@pytest.mark.parametrize("code", CHANGED)
@pytest.mark.parametrize("function", [None, "citesAsEvidence", "usesConceptIn"])
def test_studies_for_concept_with_and_without_the_function_filter(ask, graph, code, function):
    params = {"concept": code} | ({"function": function} if function else {})
    rows = ask("studies-for-concept", **params)
    assert {r["study"] for r in rows} == studies_about(graph, code, function)
    if function:
        assert all(set(r["functions"].split()) == {function} for r in rows)


def test_the_evidence_filter_leaves_out_background_and_concept_sources(ask, graph):
    """Chosen examples: the 1.4 background citation of Atkinson et al. (2007) and the 3.2 method of Kipling."""
    everything = {r["study"] for r in ask("studies-for-concept", concept="external-professional")}
    as_evidence = {r["study"] for r in ask("studies-for-concept", concept="external-professional", function="citesAsEvidence")}
    assert "https://w3id.org/clkg/study/atkinson-etal-2007" in everything - as_evidence
    method = ask("studies-for-concept", concept="method-5w1h")
    assert [(r["study"], r["functions"]) for r in method] == [("https://w3id.org/clkg/study/kipling-1902", "usesMethodIn")]


def test_the_innovator_bullet_is_m11_not_m14(ask):
    m11 = {r["study"].rsplit("/", 1)[1] for r in ask("studies-for-concept", concept="M11")}
    m14 = {r["study"].rsplit("/", 1)[1] for r in ask("studies-for-concept", concept="M14")}
    assert INNOVATOR_BULLET <= m11
    # none of the seven is cited for M14 anywhere else in the report
    assert not INNOVATOR_BULLET & m14


@pytest.mark.parametrize("function", [None, "citesAsEvidence"])
def test_evidence_map_counts_with_and_without_the_function_filter(ask, graph, function):
    rows = {r["code"]: r for r in ask("evidence-map", **({"function": function} if function else {}))}
    assert len(rows) == 15 + 14 + 15
    for code in CODED + ["C5.3.3", "O-TEA-ACT", "M15"]:
        for polarity, column in ((None, "studies"), ("supports", "supports"), ("nuances", "nuances")):
            assert int(rows[code][column]) == len(studies_about(graph, code, function, polarity)), (code, column)


def test_evidence_map_filter_changes_a_count_where_a_background_citation_is_left_out(ask, graph):
    everything = {r["code"]: int(r["studies"]) for r in ask("evidence-map")}
    evidence_only = {r["code"]: int(r["studies"]) for r in ask("evidence-map", function="citesAsEvidence")}
    assert all(evidence_only[c] <= everything[c] for c in everything)
    differing = [c for c in everything if evidence_only[c] < everything[c]]
    assert differing, "some coded concept is cited for something else than evidence"
    assert all(len(studies_about(graph, c, "citesAsEvidence")) == evidence_only[c] for c in differing)


def test_the_evidence_map_page_offers_the_filter(real_app, graph):
    client = real_app.test_client()
    page = client.get("/evidence-map")
    assert page.status_code == 200
    assert 'href="/evidence-map?function=citesAsEvidence"' in page.get_data(as_text=True)
    filtered = client.get("/evidence-map?function=citesAsEvidence").get_data(as_text=True)
    assert 'id="map-filtered"' in filtered and 'href="/evidence-map.csv?function=citesAsEvidence"' in filtered
    row = re.search(r'<tr data-code="M3">(.*?)</tr>', filtered, re.S).group(1)
    total = re.findall(r'data-column="studies"[^>]*><a [^>]*>(\d+)</a>', row)
    assert total == [str(len(studies_about(graph, "M3", "citesAsEvidence")))]
    csv_text = client.get("/evidence-map.csv?function=citesAsEvidence").get_data(as_text=True)
    line = next(l for l in csv_text.splitlines() if ",M3," in l)
    assert line.split(",")[-1].strip() == str(len(studies_about(graph, "M3", "citesAsEvidence")))


@pytest.mark.parametrize("path", ["/evidence-map?function=citesAsGossip", "/evidence-map.csv?function=x' OR 1=1",
                                  "/api/queries/evidence-map?function=" + "a" * 5000])
def test_an_unknown_function_is_a_400_that_names_the_parameter(real_app, path):
    response = real_app.test_client().get(path)
    assert response.status_code == 400
    assert "function" in response.get_data(as_text=True)
