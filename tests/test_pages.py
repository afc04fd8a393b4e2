"""The pages for people: home, concept, study, claim, evidence map (+ CSV), search, listings, the two
languages, escaping of data literals. The miniature graph for most; the real graph where its content
matters (definitions in both languages, the evidence map of the 15 motives, Dutch labels)."""
from __future__ import annotations

import csv
import io
import re

import pytest


def page(client, path, **kwargs):
    response = client.get(path, **kwargs)
    if response.status_code == 303:
        response = client.get(response.headers["Location"], **kwargs)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- escaping -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/study/delta-etal-2017.html", "/studies", "/search?q=delta", "/claim/c4.html",
                                  "/concept/M9.html"])
def test_data_literals_are_escaped(client, path):
    html = page(client, path)
    assert "<script>" not in html.replace('<script src=', '').replace("<script type=", ""), path
    if path != "/concept/M9.html" and path != "/claim/c4.html":
        assert "Delta &lt;script&gt;" in html


def test_a_title_with_markup_shows_as_text_in_the_study_page(client):
    html = page(client, "/study/delta-etal-2017.html")
    assert "Delta &lt;script&gt;" in html and "Delta <script>" not in html


# --- home ---------------------------------------------------------------------------------------------
def test_home_tells_what_the_graph_is_and_its_numbers(client):
    html = page(client, "/")
    assert "collective learning" in html.lower()
    numbers = {kind: int(re.search(rf'id="count-{kind}"><strong>(\d+)</strong>', html).group(1))
               for kind in ("studies", "claims", "concepts")}
    # the miniature: three studies and five claims of evidence (the illustrative ones do not count), four concepts
    assert numbers == {"studies": 3, "claims": 5, "concepts": 4}
    for way in ("/evidence-map", "/concepts", "/studies", "/sparql", "/api/queries", "/dataset", 'action="/search"'):
        assert way in html
    assert 'href="/.well-known/void"' in html


def test_home_counts_match_sparql_on_the_real_graph(real_app):
    client = real_app.test_client()
    html = page(client, "/")
    shown = int(re.search(r'id="count-claims"><strong>(\d+)</strong>', html).group(1))
    query = ("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH <https://w3id.org/clkg/graph/evidence> "
             "{ ?c a <https://w3id.org/clkg/ontology/Claim> } }")
    counted = client.get("/sparql", query_string={"query": query}).get_json()["results"]["bindings"][0]["n"]["value"]
    assert shown == int(counted) > 500
    assert 'href="/concept/M1"' in html and 'href="/concept/M15"' in html


# --- concept, study, claim ----------------------------------------------------------------------------
def test_concept_page_shows_evidence_by_polarity_with_quote_and_section(client):
    html = page(client, "/concept/M1")
    supports = html[html.index('id="evidence-supports"'):html.index('id="evidence-nuances"')]
    nuances = html[html.index('id="evidence-nuances"'):html.index('id="evidence-contradicts"')]
    assert 'href="/study/alpha-2015"' in supports and "Alpha (2015) says so." in supports and "Again Alpha (2015)." in supports
    assert ">4.5<" in supports and ">4.2<" in supports
    assert 'href="/study/beta-gamma-2016"' in nuances and "Beta en Gamma (2016) doubt it." in nuances
    assert "Epsilon" not in html  # illustrative claims are never evidence
    assert 'href="/concept/D-TASK"' in html  # its place in the hierarchy


def test_broader_concept_page_includes_the_evidence_of_narrower_ones(client):
    html = page(client, "/concept/D-TASK")
    assert "Beta en Gamma (2016) agree." in html and "Alpha (2015) says so." in html
    assert 'href="/concept/M1"' in html and 'href="/concept/M2"' in html


def test_concept_page_has_definitions_in_both_languages(real_app):
    html = page(real_app.test_client(), "/concept/M1")
    definitions = html[html.index("<h2>Definitions</h2>"):html.index("<h2>Place in the hierarchy</h2>")]
    assert '<td lang="en">' in definitions and '<td lang="nl">' in definitions
    assert "Beweegreden 1" in definitions and "Motive 1" in definitions
    hierarchy = html[html.index("<h2>Place in the hierarchy</h2>"):html.index('id="evidence"')]
    assert 'href="/concept/D-TASK"' in hierarchy


def test_study_page_shows_reference_and_every_claim_citing_it(client):
    html = page(client, "/study/alpha-2015")
    claims = html[html.index('id="claims"'):]
    assert "Alpha (2015) says so." in claims and "Again Alpha (2015)." in claims
    assert claims.count('href="/claim/') == 2
    assert 'href="/concept/M1"' in claims


def test_real_study_page_shows_the_bibliographic_reference_and_authors(real_app):
    html = page(real_app.test_client(), "/study/feys-devos-2015")
    assert "Feys, E. &amp; Devos, G. (2015)" in html
    assert 'href="/person/feys-e"' in html and 'href="/person/devos-g"' in html
    assert html.index('href="/person/feys-e"') < html.index('href="/person/devos-g"')  # in the author list's order


def test_claim_page(client):
    html = page(client, "/claim/c2")
    assert "<h1>Beta &amp; Gamma (2016) → motive 1</h1>" in html
    assert 'href="/study/beta-gamma-2016"' in html and 'href="/concept/M1"' in html
    assert "Beta en Gamma (2016) doubt it." in html and "pol-nuances" in html


# --- evidence map -------------------------------------------------------------------------------------
def test_evidence_map_is_a_heatmap_of_motives_conditions_outcomes(real_app):
    client = real_app.test_client()
    html = page(client, "/evidence-map")
    rows = re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, re.S)
    codes = [code for code, _ in rows]
    assert [c for c in codes if re.fullmatch(r"M\d+", c)] == [f"M{i}" for i in range(1, 16)]
    assert any(c.startswith("C5.") for c in codes) and sum(c.startswith("O-") for c in codes) == 15
    table = {r["code"]: r for r in csv.DictReader(io.StringIO(client.get("/evidence-map.csv").get_data(as_text=True)))}
    shade = {}
    for code, row in rows:
        cells = re.findall(r'<td class="cell heat-(\w+) heat-(\d+)" data-column="(\w+)"><a href="([^"]+)"[^>]*>(\d+)</a>', row)
        assert [c[2] for c in cells] == ["supports", "nuances", "contradicts", "studies"]
        assert all(hue == column for hue, _, column, _, _ in cells)
        assert [int(c[4]) for c in cells] == [int(table[code][k]) for k in ("supports", "nuances", "contradicts", "studies")]
        assert cells[0][3] == f"/concept/{code}#evidence-supports" and cells[3][3] == f"/concept/{code}#evidence"
        assert all((int(c[4]) == 0) == (c[1] == "0") for c in cells)  # shade 0 for an empty cell only
        total, step = int(cells[3][4]), int(cells[3][1])
        shade.setdefault(total, step)
    # the more studies, the darker the cell (a higher step of the heat-* classes) in the total column
    assert len(shade) > 3 and shade[max(shade)] == 10 and shade[max(shade)] > shade[min(shade)]
    assert [shade[n] for n in sorted(shade)] == sorted(shade[n] for n in sorted(shade))


def test_evidence_map_csv_is_the_named_query(client, real_app):
    response = client.get("/evidence-map.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    real = real_app.test_client()
    assert real.get("/evidence-map.csv").get_data() == \
        real.get("/api/queries/evidence-map", headers={"Accept": "text/csv"}).get_data()
    assert real.get("/evidence-map", headers={"Accept": "text/csv"}).mimetype == "text/csv"


def test_evidence_map_page_links_its_data(client):
    html = page(client, "/evidence-map")
    assert 'href="/evidence-map.csv"' in html and 'href="/api/queries/evidence-map"' in html


# --- search -------------------------------------------------------------------------------------------
def test_search_finds_studies_concepts_by_label_and_code(client):
    html = page(client, "/search?q=alpha")
    assert 'href="/study/alpha-2015"' in html
    html = page(client, "/search?q=motive")
    assert all(f'href="/concept/{c}"' in html for c in ("M1", "M2", "M9"))
    assert 'href="/concept/M9"' in page(client, "/search?q=M9")
    data = client.get("/search?q=beta&format=json").get_json()
    assert [r["iri"] for r in data["results"] if r["kind"] == "study"] == ["https://w3id.org/clkg/study/beta-gamma-2016"]


def test_search_in_dutch_and_english_labels_and_authors(real_app):
    client = real_app.test_client()
    assert 'href="/concept/C5.3.3"' in page(client, "/search?q=leiderschap")   # Dutch label
    assert 'href="/concept/C5.3.3"' in page(client, "/search?q=leadership")    # English label
    html = page(client, "/search?q=Devos")
    authors = html[html.index('data-kind="person"'):]
    assert 'href="/person/devos-g"' in authors


def test_empty_and_hostile_search(client):
    assert "results" not in page(client, "/search?q=")
    html = page(client, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


# --- listings -----------------------------------------------------------------------------------------
def test_concept_listing_is_a_tree(client):
    html = page(client, "/concepts")
    task = html.index('href="/concept/D-TASK"')
    assert task < html.index('href="/concept/M1"') and task < html.index('href="/concept/M2"')
    assert 'href="/concept/scheme.ttl"' in html


def test_study_and_claim_listings(client):
    html = page(client, "/studies")
    assert all(f'href="/study/{s}"' in html for s in ("alpha-2015", "beta-gamma-2016", "delta-etal-2017"))
    assert 'href="/study/epsilon-2020"' not in html
    claims = page(client, "/claims?section=4.2")
    assert claims.count('href="/claim/') == 3 and "Beta en Gamma (2016) agree." in claims
    assert "?section=4.5" in page(client, "/claims")


def test_graph_and_case_listings(client):
    html = page(client, "/graphs")
    for name in ("ontology", "evidence", "illustrative"):
        assert f'href="/graph/{name}"' in html
    assert page(client, "/cases")


# --- languages ----------------------------------------------------------------------------------------
def test_interface_in_dutch_by_parameter_and_by_accept_language(client):
    dutch = page(client, "/?lang=nl")
    assert '<html lang="nl">' in dutch and "Begrippen" in dutch and "Evidentiekaart" in dutch
    english = page(client, "/?lang=en")
    assert '<html lang="en">' in english and "Evidence map" in english
    fresh = client.application.test_client()
    assert "Evidentiekaart" in page(fresh, "/", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    assert "Evidence map" in page(client.application.test_client(), "/", headers={"Accept-Language": "en-GB"})


def test_language_choice_sticks_while_browsing(mini_app):
    browsing = mini_app.test_client()
    page(browsing, "/?lang=nl")
    assert "Evidentiekaart" in page(browsing, "/concepts")
    response = browsing.get("/concepts")
    assert "Accept-Language" in response.headers["Vary"]


def test_data_labels_follow_the_interface_language(real_app):
    dutch = page(real_app.test_client(), "/concept/M1.html?lang=nl")
    english = page(real_app.test_client(), "/concept/M1.html?lang=en")
    assert "<h1>vakdidactiek en leerlijnen uitwisselen en (her)ontwerpen</h1>" in dutch
    assert "<h1>exchanging and (re)designing subject didactics and learning lines</h1>" in english


def test_every_translation_key_exists_in_both_languages():
    from clkg.web import i18n
    assert set(i18n.strings("en")) == set(i18n.strings("nl"))


# --- every page links its machine-readable forms and the VoID -----------------------------------------
@pytest.mark.parametrize("path", ["/", "/concepts", "/studies", "/claims", "/evidence-map", "/search?q=alpha",
                                  "/graphs", "/concept/M1.html", "/study/alpha-2015.html", "/claim/c1.html",
                                  "/graph/evidence.html", "/dataset.html", "/ontology.html"])
def test_every_page_links_its_data_and_the_dataset_description(client, path):
    html = page(client, path)
    assert 'href="/.well-known/void"' in html
    assert re.search(r'rel="alternate"[^>]*type="(text/turtle|text/csv|application/[a-z+-]*json)"'
                     r'|type="(text/turtle|text/csv|application/[a-z+-]*json)"[^>]*rel="alternate"', html), path


def test_query_page_keeps_yasgui_and_the_examples(client):
    html = page(client, "/sparql", headers={"Accept": "text/html"})
    assert "yasgui.min.js" in html and 'data-query-name="studies-for-concept"' in html
    assert 'href="/.well-known/void"' in html


def test_the_ontology_iri_gives_browsers_its_generated_documentation(real_app):
    client = real_app.test_client()
    redirect = client.get("/ontology", headers={"Accept": "text/html"})
    assert redirect.status_code == 303 and redirect.headers["Location"].endswith("/ontology.html")
    page = client.get("/ontology.html").get_data(as_text=True)
    # pyLODE's documentation of the real vocabulary: its classes with their labels and definitions
    assert "teacher outcome claim" in page and "TeacherOutcomeClaim" in page
    assert "A claim about implications at the level of teachers" in page
