"""The named-query API: listing, running with bound parameters, formats and parameter errors."""
from __future__ import annotations

import csv
import io

import pytest

from clkg import config, namedqueries


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json(force=True)["results"]["bindings"]]


def test_every_rq_file_documents_its_summary_and_parameters():
    queries = namedqueries.load_all(config.ROOT / "queries")
    assert "studies-for-concept" in queries
    for query in queries.values():
        assert query.summary, f"{query.name} has no '#+ summary:'"
        for parameter in query.parameters:
            assert parameter.description, f"{query.name}: parameter {parameter.name} is undocumented"


def test_list_names_summaries_and_parameters(client):
    listing = client.get("/api/queries").get_json()
    entry = next(q for q in listing if q["name"] == "studies-for-concept")
    params = {p["name"]: p for p in entry["parameters"]}
    assert params["concept"]["required"] is True and params["polarity"]["required"] is False
    assert params["polarity"]["enum"] == ["supports", "nuances", "contradicts"]


def test_studies_for_concept_by_code(client):
    result = rows(client.get("/api/queries/studies-for-concept?concept=M1"))
    found = {(r["citation"], r["polarity"]) for r in result}
    assert found == {("Alpha (2015)", "supports"), ("Beta & Gamma (2016)", "nuances")}
    alpha = next(r for r in result if r["citation"] == "Alpha (2015)")
    assert alpha["study"] == "https://w3id.org/clkg/study/alpha-2015"
    assert alpha["year"] == "2015" and alpha["section"] == "4.2" and alpha["claims"] == "2"
    assert "Alpha" in alpha["quote"]


def test_illustrative_claims_are_never_evidence(client):
    citations = {r["citation"] for r in rows(client.get("/api/queries/studies-for-concept?concept=M1"))}
    assert "Epsilon (2020)" not in citations


def test_broader_concept_includes_narrower(client):
    result = rows(client.get("/api/queries/studies-for-concept?concept=D-TASK"))
    assert {(r["citation"], r["polarity"]) for r in result} == {
        ("Alpha (2015)", "supports"), ("Beta & Gamma (2016)", "nuances"), ("Beta & Gamma (2016)", "supports")}


def test_concept_by_iri_and_polarity_filter(client):
    result = rows(client.get("/api/queries/studies-for-concept",
                             query_string={"concept": "https://w3id.org/clkg/concept/M1", "polarity": "nuances"}))
    assert [r["citation"] for r in result] == ["Beta & Gamma (2016)"]


def test_csv_and_tsv_by_accept(client):
    response = client.get("/api/queries/studies-for-concept?concept=M9", headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["citation"] for r in table] == ["Delta et al. (2017)"]
    tsv = client.get("/api/queries/studies-for-concept?concept=M9", headers={"Accept": "text/tab-separated-values"})
    assert tsv.mimetype == "text/tab-separated-values" and '"Delta et al. (2017)"' in tsv.get_data(as_text=True)


def test_unknown_query_is_404(client):
    response = client.get("/api/queries/no-such-question")
    assert response.status_code == 404 and "error" in response.get_json()


def test_missing_parameter_is_400_naming_it(client):
    response = client.get("/api/queries/studies-for-concept")
    assert response.status_code == 400
    assert "'concept'" in response.get_json()["error"] and "required" in response.get_json()["error"]


def test_unknown_concept_is_400_naming_the_parameter(client):
    response = client.get("/api/queries/studies-for-concept?concept=M99")
    assert response.status_code == 400 and "'concept'" in response.get_json()["error"]
    assert "M99" in response.get_json()["error"]


def test_bad_enum_value_is_400(client):
    response = client.get("/api/queries/studies-for-concept?concept=M1&polarity=maybe")
    assert response.status_code == 400 and "'polarity'" in response.get_json()["error"]


def test_unknown_parameter_is_400(client):
    response = client.get("/api/queries/studies-for-concept?concept=M1&colour=red")
    assert response.status_code == 400 and "'colour'" in response.get_json()["error"]


def test_value_cannot_inject_sparql(client):
    hostile = 'M1" } UNION { ?s ?p ?o } #'
    response = client.get("/api/queries/studies-for-concept", query_string={"concept": hostile})
    assert response.status_code == 400 and "no concept has the code" in response.get_json()["error"]


def test_406_for_unservable_format(client):
    response = client.get("/api/queries/studies-for-concept?concept=M1", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_openapi_describes_every_named_query(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    operation = spec["paths"]["/api/queries/studies-for-concept"]["get"]
    # function: the citation-function filter (CiTO), e.g. only the studies cited as evidence
    assert {p["name"] for p in operation["parameters"]} == {"concept", "polarity", "function"}


@pytest.mark.parametrize("name,parameter,local,iri", [
    ("study-profile", "study", "feys-devos-2015", "https://w3id.org/clkg/study/feys-devos-2015"),
    ("case-vs-literature", "case", "example-1", "https://w3id.org/clkg/case/example-1"),
])
def test_a_resource_parameter_takes_what_a_person_types(real_app, name, parameter, local, iri):
    client = real_app.test_client()
    answers = [client.get(f"/api/queries/{name}", query_string={parameter: value},
                          headers={"Accept": "application/sparql-results+json"}) for value in (local, iri)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json() and answers[0].get_json()["results"]["bindings"]
    bad = client.get(f"/api/queries/{name}", query_string={parameter: "no such thing"})
    assert bad.status_code == 400 and "local name" in bad.get_json()["error"]
