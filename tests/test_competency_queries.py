"""The competency questions on the real graph, each cross-checked against a count made with rdflib."""
from __future__ import annotations

import pytest
from rdflib import RDF, Namespace, URIRef



CLO = Namespace("https://w3id.org/clkg/ontology/")
CLC = "https://w3id.org/clkg/concept/"
CITO = Namespace("http://purl.org/spar/cito/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")


@pytest.fixture(scope="module")
def graph(evidence_graph):
    return evidence_graph


def studies_about(graph, code: str, polarity: str | None = None) -> set:
    """Distinct studies cited about a concept or any narrower one, computed with rdflib."""
    top = URIRef(CLC + code)
    concepts = {c for c in graph.transitive_subjects(SKOS.broader, top)}
    return {graph.value(c, CITO.cites) for c in graph.subjects(RDF.type, CLO.Claim)
            if graph.value(c, CLO.about) in concepts
            and (polarity is None or graph.value(c, CLO.polarity) == CLO[polarity])}


def test_evidence_map_has_every_motive_condition_and_cell_with_correct_counts(ask, graph):
    rows = {r["code"]: r for r in ask("evidence-map")}
    expected_codes = ({f"M{i}" for i in range(1, 16)}
                      | {f"O-{lv}-{vt}" for lv in ("STU", "TEA", "SCH") for vt in ("ACT", "RES", "PRA", "VIS", "INS")}
                      | {"C5.2", "C5.2.1", "C5.2.2", "C5.2.3", "C5.2.4", "C5.3", "C5.3.1", "C5.3.2", "C5.3.2a",
                         "C5.3.2b", "C5.3.3", "C5.3.3a", "C5.3.3b", "C5.3.3c"})
    assert set(rows) == expected_codes
    for code in ("M2", "M15", "C5.3.3", "O-TEA-ACT"):
        assert int(rows[code]["studies"]) == len(studies_about(graph, code))
        assert int(rows[code]["supports"]) == len(studies_about(graph, code, "supports"))
        assert int(rows[code]["nuances"]) == len(studies_about(graph, code, "nuances"))
    assert {r["group"] for r in ask("evidence-map", group="condition")} == {"condition"}


def test_evidence_gaps_lists_only_thin_concepts(ask, graph):
    rows = ask("evidence-gaps", min="3")
    assert rows, "some coded concept has fewer than three studies"
    for row in rows:
        assert int(row["studies"]) < 3
        assert int(row["studies"]) == len(studies_about(graph, row["code"]))
    codes = {r["code"] for r in rows}
    assert "M2" not in codes and not any(code.startswith("RQ") for code in codes)
    assert len(ask("evidence-gaps", min="1")) < len(rows) or all(int(r["studies"]) == 0 for r in rows)


def test_contested_concepts_have_both_sides(ask, graph):
    rows = ask("contested-concepts")
    assert rows
    for row in rows:
        assert int(row["supports"]) > 0 and int(row["nuancesOrContradicts"]) > 0 and row["exampleDoubt"]
    assert "M15" in {r.get("code") for r in rows}  # 4.4: Merchie et al. and van Keulen et al. qualify M15


def test_study_profile_lists_every_claim_of_the_study(ask, graph):
    study = "https://w3id.org/clkg/study/feys-devos-2015"
    rows = ask("study-profile", study=study)
    claims = set(graph.subjects(CITO.cites, URIRef(study)))
    assert {r["claim"] for r in rows} == {str(c) for c in claims}
    assert all(r["quote"] and r["section"] and r["polarity"] for r in rows)


def test_motive_outcome_links_share_studies(ask, graph):
    rows = ask("motive-outcome-links", motive="M15")
    assert rows and {r["motiveCode"] for r in rows} == {"M15"}
    for row in rows[:5]:
        shared = studies_about(graph, row["motiveCode"]) & studies_about(graph, row["outcomeCode"])
        assert int(row["sharedStudies"]) == len(shared)
        assert set(row["studyIris"].split(" ")) == {str(study) for study in shared}  # the studies themselves


def test_studies_by_kind_and_year(ask, graph):
    rows = ask("studies", kind="AcademicArticle", **{"from": "2015", "to": "2016"})
    assert rows and all(r["kind"] == "AcademicArticle" and 2015 <= int(r["year"]) <= 2016 for r in rows)
    bibo = Namespace("http://purl.org/ontology/bibo/")
    dcterms = Namespace("http://purl.org/dc/terms/")
    expected = {s for s in graph.subjects(RDF.type, bibo.AcademicArticle)
                if 2015 <= int(str(graph.value(s, dcterms.issued))[:4]) <= 2016}
    assert {r["study"] for r in rows} == {str(s) for s in expected}
    journals = ask("studies", container="oxford review")
    assert journals and all("oxford review" in r["container"].lower() for r in journals)


def test_outcome_levels_use_the_reasoners_classification(ask, graph):
    rows = ask("outcome-levels")
    teachers = sum(int(r["claims"]) for r in rows if r["level"] == "teachers")
    cells = {URIRef(f"{CLC}O-TEA-{vt}") for vt in ("ACT", "RES", "PRA", "VIS", "INS")} | {URIRef(f"{CLC}L-TEA")}
    assert teachers == sum(1 for c in graph.subjects(RDF.type, CLO.Claim) if graph.value(c, CLO.about) in cells)
