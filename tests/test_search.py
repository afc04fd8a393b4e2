"""Full-text search (clkg/fulltext.py, /search): stems, accents, quotes that lead to concepts, JSON, hostile
queries, and an index that follows the store."""
from __future__ import annotations

import re
import threading

import pyoxigraph as ox
import pytest

from clkg import contributions, fulltext, store, stores, validation
from conftest import mini_settings
from test_ingest import new_study

C = "https://w3id.org/clkg/"


@pytest.fixture(scope="module")
def client(real_app):
    return real_app.test_client()


def found(client, q: str, **headers) -> dict:
    answer = client.get("/search", query_string={"q": q, "format": "json"}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def iris(data: dict, kind: str) -> list[str]:
    return [r["iri"] for r in data["results"] if r["kind"] == kind]


def quotes_with(real_settings, concept: str | None, part: str) -> set[str]:
    """The distinct quotes (of claims about `concept`, or of all claims) with a word that holds `part`
    once folded (Dutch stemming also drops the participle's "ge-"), read from the store, not the index."""
    reader = store.open_read_only(real_settings)
    try:
        about = f"clo:about <{C}concept/{concept}> ;" if concept else ""
        rows = reader.query(f"PREFIX clo: <{C}ontology/> SELECT DISTINCT ?quote WHERE {{ ?claim {about} clo:quote ?quote "
                            f"FILTER NOT EXISTS {{ GRAPH <{C}graph/illustrative> {{ ?claim a clo:Claim }} }} }}",
                            use_default_graph_as_union=True)
        return {row["quote"].value for row in rows
                if any(part in word for word in re.findall(r"\w+", fulltext.fold(row["quote"].value)))}
    finally:
        del reader


def test_a_word_of_the_report_brings_up_its_concept_and_the_quotes_that_use_it(client, real_settings):
    data = found(client, "professionalisering")
    concepts = iris(data, "concept")
    assert C + "concept/M13" in concepts[:3], "M13 (by its alternative label) is not among the first concepts"
    # every quote with a form of the word is found (Dutch and English stems, compounds, participles)
    claims = [r for r in data["results"] if r["kind"] == "claim"]
    expected = quotes_with(real_settings, None, "professionalis")
    assert len(expected) > 25 and {r["text"] for r in claims} == expected
    # a concept reached by quotes says how many of its quotes matched
    vto = next(r for r in data["results"] if r["iri"] == C + "concept/F1.2.1")  # in-service training (VTO)
    assert vto["quotes"] == len(quotes_with(real_settings, "F1.2.1", "professionalis")) > 0


def test_the_page_groups_by_kind_and_marks_the_words_found(client):
    html = client.get("/search?q=professionalisering").get_data(as_text=True)
    kinds = re.findall(r'data-kind="(\w+)"', html)
    assert kinds == ["concept", "study", "claim"]
    claims = html[html.index('data-kind="claim"'):]
    marked = set(re.findall(r"<mark>(\w+)</mark>", claims))
    assert marked and all("professionalis" in fulltext.fold(word) for word in marked), marked
    assert 'href="/concept/M13"' in html[:html.index('data-kind="study"')]


@pytest.mark.parametrize("query,kind,iri", [
    ("Ludtke", "study", C + "study/richter-etal-2011"),           # accent folded: Lüdtke
    ("LÜDTKE", "person", C + "person/ludtke-o"),
    ("netwerk", "concept", C + "concept/F1.2.4"),        # Dutch stem: "interorganisationele lerende netwerken"
    ("networks", "concept", C + "concept/social-network-analysis"),               # English stem: network
    ("M13", "concept", C + "concept/M13"),                                         # a code
    ("leiderschap", "concept", C + "concept/C5.3.3"),                              # a Dutch label
])
def test_stems_accents_and_codes(client, query, kind, iri):
    assert iri in iris(found(client, query), kind)


def test_json_is_a_list_of_results_with_iri_kind_label_and_score(client):
    data = found(client, "netwerken", Accept="application/json")
    assert data["results"] and data["q"] == "netwerken"
    for result in data["results"]:
        assert {"iri", "kind", "label", "score"} <= set(result)
        assert result["kind"] in ("concept", "study", "claim", "person") and result["label"]
        assert isinstance(result["score"], float) and result["score"] >= 0
    assert sum(data["total"].values()) >= len(data["results"])
    by_kind = [r["kind"] for r in data["results"]]
    assert by_kind == sorted(by_kind, key=["concept", "study", "claim", "person"].index)


@pytest.mark.parametrize("query", ['"', 'NEAR(a b)', "a OR", "* ^ - + :", "x" * 10_000, "é" * 300, "\u0000",
                                   "professionalisering AND", ")(", "'; DROP TABLE documents; --"])
def test_what_a_person_types_is_never_read_as_query_syntax(client, query):
    answer = client.get("/search", query_string={"q": query, "format": "json"})
    assert answer.status_code == 200
    assert answer.get_json()["q"] == " ".join(query.split())[:200]
    assert client.get("/search", query_string={"q": query}).status_code == 200


def test_the_index_follows_the_store_and_is_built_once(tmp_path):
    from clkg.web import create_app

    settings = mini_settings(tmp_path / "data")
    app = create_app(settings, reason=False)
    client = app.test_client()
    assert not iris(found(client, "zebrafish"), "study")
    entry = validation.parse_entry(new_study("zebra", "Zebrafish schools"), ox.RdfFormat.TURTLE, settings.base_iri)
    contributions.ingest(settings, entry, "tester")
    assert iris(found(client, "zebrafish"), "study") == [C + "study/zebra-2020"]
    assert len(list((settings.data_dir / fulltext.DIRECTORY).glob("*.sqlite"))) == 1, "the old index was kept"

    calls = []

    def documents():
        calls.append(1)
        return [{"resource": "x", "kind": "study", "field": "title", "text": "Een titel", "language": "nl"}]

    paths = []
    threads = [threading.Thread(target=lambda: paths.append(fulltext.index_path(tmp_path, "g1", documents)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1 and calls == [1]
    hits, _ = fulltext.search(paths[0], "titels")
    assert [hit.resource for hit in hits] == ["x"]


def test_the_index_is_made_at_startup_and_after_a_write_before_anyone_searches(tmp_path):
    """Made on the write's side (in the background after a contribution), so that no visitor waits for it."""
    import time

    from clkg.web import create_app

    settings = mini_settings(tmp_path / "data", write_tokens={"token-steward-0123456789": "Steward"})
    app = create_app(settings, reason=False)
    indexes = settings.data_dir / fulltext.DIRECTORY

    def index_of_current() -> bool:
        return (indexes / f"{stores.generation_info(settings).token}.v{fulltext.VERSION}.sqlite").is_file()

    assert index_of_current()
    answer = app.test_client().post("/api/entries", data=new_study("yak", "Yak herding schools"),
                                    headers={"Authorization": "Bearer token-steward-0123456789",
                                             "Content-Type": "text/turtle"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    for _ in range(600):  # a bound for a stalled build, not a measure of its speed
        if index_of_current():
            break
        time.sleep(0.05)
    assert index_of_current(), "no index of the new generation was made after the write"
    hits, _ = fulltext.search(fulltext.current_index(settings), "yak herding")
    assert [hit.resource for hit in hits if hit.kind == "study"] == [C + "study/yak-2020"]


def test_suggestions_are_concepts_and_studies_with_their_pages(client):
    suggested = client.get("/search/suggest", query_string={"q": "professional develop"}).get_json()
    assert 0 < len(suggested) <= 8
    assert {s["kind"] for s in suggested} <= {"concept", "study"}
    assert all(s["url"].startswith("/") and s["label"] for s in suggested)
    assert "/concept/M13" in [s["url"] for s in suggested]
    assert client.get("/search/suggest?q=").get_json() == []
    assert client.get("/search/suggest", query_string={"q": '"NEAR(*'}).status_code == 200
