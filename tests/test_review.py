"""The review data of kg/review/ agrees with the evidence graph: a later reviewer can trust it."""
from __future__ import annotations

import csv

import pytest
from rdflib import RDF, Namespace, URIRef

from clkg import config, evidence
from clkg.source import quote_lines

CLO = Namespace("https://w3id.org/clkg/ontology/")
CITO = Namespace("http://purl.org/spar/cito/")
CLM = "https://w3id.org/clkg/claim/"
REVIEW = config.ROOT / "kg" / "review"


def rows(name: str) -> list[dict]:
    with open(REVIEW / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def graph():
    return evidence.load([str(p) for p in sorted((config.ROOT / "kg" / "evidence").glob("*.ttl"))])


def test_every_decision_has_a_reason_and_a_reader(graph):
    log = rows("log.csv")
    assert log and all(r["reason"].strip() and r["reader"].strip() for r in log)
    # "polarity": adjudication of the second reading (kg/review/adjudication.csv, 4.3-feys-devos-2015-F1.2.3)
    assert {r["aspect"] for r in log} == {"quote", "about", "added", "removed", "function", "polarity"}
    removed = {r["claim"] for r in log if r["aspect"] == "removed"}
    for row in log:
        claim = URIRef(CLM + row["claim"])
        present = (claim, RDF.type, CLO.Claim) in graph
        assert present != (row["claim"] in removed), f"{row['claim']}: {row['aspect']} but present={present}"
    # The log is in the order of the decisions: the second reading's adjudication can revise a decision of the
    # first reading, so the last decision on a claim's concept, function or polarity is what the graph says.
    last = {(r["claim"], "about" if r["aspect"] == "added" else r["aspect"]): r for r in log}
    for (name, aspect), row in last.items():
        claim = URIRef(CLM + name)
        if name in removed:
            continue
        if aspect == "about":
            assert row["after"].split()[0] == "clc:" + str(graph.value(claim, CLO.about)).rsplit("/", 1)[1]
        if aspect == "function":
            assert (claim, CITO[row["after"].removeprefix("cito:")], graph.value(claim, CITO.cites)) in graph, name
        if aspect == "polarity":
            assert "clo:" + str(graph.value(claim, CLO.polarity)).rsplit("/", 1)[1] == row["after"], name


def test_to_review_lists_every_changed_claim_as_it_stands(graph, source_text):
    review = {r["claim"]: r for r in rows("to-review.csv")}
    changed = {r["claim"] for r in rows("log.csv") if r["aspect"] != "function" or r["after"] != "cito:citesAsEvidence"}
    assert set(review) == changed
    for name, row in review.items():
        claim = URIRef(CLM + name)
        # "proposed removal": the first reading; "removed": a removal decided in the adjudication of the second reading
        if row["change"] in ("proposed removal", "removed"):
            assert (claim, RDF.type, CLO.Claim) not in graph
            continue
        assert row["quote"] == str(graph.value(claim, CLO.quote))
        assert row["study"] == str(graph.value(claim, CITO.cites)).rsplit("/", 1)[1]
        assert row["polarity"] == str(graph.value(claim, CLO.polarity)).rsplit("/", 1)[1]
        assert (claim, CITO[row["citation_function"]], None) in graph
        first, last = quote_lines(row["quote"], str(source_text))
        assert row["source_lines"] == f"{first}-{last}"


def test_second_readings_refer_to_claims_under_review(graph):
    """A reading is of a claim in to-review.csv, or (sample = "yes") of a sampled claim that was not: those were drawn
    from the graph's claims outside to-review.csv, so they are claims of the graph (or were, if the adjudication removed them)."""
    review = {r["claim"] for r in rows("to-review.csv")}
    removed = {r["claim"] for r in rows("log.csv") if r["aspect"] == "removed"}
    readings = rows("second-reading.csv")
    assert len({r["claim"] for r in readings}) == len(readings), "one reading per claim"
    for row in readings:
        assert row["verdict"] in {"agree", "disagree", "unsure"}
        assert row["reason"].strip() and row["reader"].strip()
        assert row["sample"] in {"yes", ""}
        if row["sample"] == "yes":
            assert (URIRef(CLM + row["claim"]), RDF.type, CLO.Claim) in graph or row["claim"] in removed, row["claim"]
        else:
            assert row["claim"] in review, row["claim"]
    assert sum(r["sample"] == "yes" for r in readings) == 40


def test_every_disagree_or_unsure_is_adjudicated(graph):
    """kg/review/adjudication.csv: one decision per disagree/unsure reading; what was changed is in log.csv."""
    open_readings = {r["claim"] for r in rows("second-reading.csv") if r["verdict"] != "agree"}
    adjudication = rows("adjudication.csv")
    assert {r["claim"] for r in adjudication} == open_readings and len(adjudication) == len(open_readings)
    curated = {r["claim"] for r in rows("log.csv") if r["reader"] == "curator (second reading)"}
    for row in adjudication:
        assert row["decision"] in {"accepted", "rejected", "partly"} and row["reason"].strip()
        assert (row["claim"] in curated) == (row["decision"] != "rejected"), row["claim"]
        assert bool(row["what_changed"].strip()) == (row["decision"] != "rejected"), row["claim"]
