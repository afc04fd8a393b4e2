"""Linked data: every kind of IRI dereferences (303 by Accept, documents in five formats), unknown IRIs
are 404s, unservable formats 406s; VoID/DCAT at /.well-known/void; dumps with size and checksum.

Most tests run on a small graph: the miniature test data plus a few persons, a venue and a case written
here (the miniature has none), so that every kind of resource exists. The VoID counts are also checked
against the real store."""
from __future__ import annotations

import hashlib
import json
import re
import textwrap

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDF

from conftest import DATA, mini_settings

BASE = "https://w3id.org/clkg/"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")

EXTRA = textwrap.dedent("""\
    @prefix clo:  <https://w3id.org/clkg/ontology/> .
    @prefix clc:  <https://w3id.org/clkg/concept/> .
    @prefix cls:  <https://w3id.org/clkg/study/> .
    @prefix clp:  <https://w3id.org/clkg/person/> .
    @prefix clj:  <https://w3id.org/clkg/venue/> .
    @prefix clx:  <https://w3id.org/clkg/case/> .
    @prefix bibo: <http://purl.org/ontology/bibo/> .
    @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix foaf: <http://xmlns.com/foaf/0.1/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix owl:  <http://www.w3.org/2002/07/owl#> .

    cls:zeta-omega-2018 a clo:Study, bibo:AcademicArticle ; dcterms:title "Zeta"@en ;
        bibo:authorList ( clp:zeta-a clp:omega-b ) ; dcterms:creator clp:zeta-a, clp:omega-b ;
        dcterms:isPartOf clj:journal-of-tests ; clo:inTextCitation "Zeta & Omega (2018)" .
    clp:zeta-a a foaf:Person ; foaf:name "Zeta, A." .
    clp:omega-b a foaf:Person ; foaf:name "Omega, B." .
    clj:journal-of-tests a bibo:Journal ; dcterms:title "Journal of Tests" .
    clx:school-1 a clo:Case ; rdfs:label "School 1 (example)"@en ; clo:illustrative true ;
        clo:observation clx:school-1-obs-1 .
    clx:school-1-obs-1 a clo:Observation ; clo:observes clc:M1 ; clo:polarity clo:supports ;
        clo:quote "We learn together."@nl .
    """)

VOCABULARY = textwrap.dedent("""\
    @prefix clo:  <https://w3id.org/clkg/ontology/> .
    @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix owl:  <http://www.w3.org/2002/07/owl#> .
    <https://w3id.org/clkg/ontology> a owl:Ontology ; dcterms:title "Test ontology"@en .
    clo:Claim a owl:Class ; rdfs:label "claim"@en , "bewering"@nl ; rdfs:isDefinedBy <https://w3id.org/clkg/ontology> .
    """)

# A contributed entry lives in a graph whose name has a slash: graph/contribution/ID.
CONTRIBUTION = textwrap.dedent("""\
    @prefix clo:  <https://w3id.org/clkg/ontology/> .
    @prefix clc:  <https://w3id.org/clkg/concept/> .
    @prefix cls:  <https://w3id.org/clkg/study/> .
    @prefix clm:  <https://w3id.org/clkg/claim/> .
    @prefix cito: <http://purl.org/spar/cito/> .
    clm:4.2-zeta-omega-2018-M2 a clo:Claim ; cito:cites cls:zeta-omega-2018 ; cito:citesAsEvidence cls:zeta-omega-2018 ; clo:about clc:M2 ;
        clo:polarity clo:contradicts ; clo:section "4.2" ; clo:quote "Zeta en Omega (2018) spreken dit tegen."@nl .
    """)

# One IRI per kind of resource, as request paths.
KINDS = {
    "ontology": "/ontology",
    "term": "/ontology/Claim",
    "concept": "/concept/M1",
    "study": "/study/alpha-2015",
    "claim": "/claim/c1",
    "person": "/person/zeta-a",
    "venue": "/venue/journal-of-tests",
    "case": "/case/school-1",
    "graph": "/graph/evidence",
    "dataset": "/dataset",
}
FORMATS = {"ttl": ("text/turtle", "turtle"), "jsonld": ("application/ld+json", "json-ld"),
           "nt": ("application/n-triples", "nt"), "rdf": ("application/rdf+xml", "xml")}


def build_app(tmp_path_factory, name: str, **overrides):
    from clkg.web import create_app

    extra = tmp_path_factory.mktemp(f"{name}-extra")
    (extra / "extra.ttl").write_text(EXTRA, encoding="utf-8")
    vocabulary = tmp_path_factory.mktemp(f"{name}-vocabulary")
    (vocabulary / "vocabulary.ttl").write_text(VOCABULARY, encoding="utf-8")
    settings = mini_settings(tmp_path_factory.mktemp(name), query_timeout=5.0, result_limit=1000, **overrides)
    contribution = tmp_path_factory.mktemp(f"{name}-contribution")
    (contribution / "entry.ttl").write_text(CONTRIBUTION, encoding="utf-8")
    settings.source_dirs = {"ontology": [DATA / "ontology", vocabulary], "evidence": [DATA / "evidence", extra],
                            "illustrative": [DATA / "illustrative"], "contribution/entry-1": [contribution]}
    return create_app(settings, reason=False)


@pytest.fixture(scope="module")
def ld_app(tmp_path_factory):
    app = build_app(tmp_path_factory, "ld")
    yield app
    app.extensions["clkg"].close()


@pytest.fixture()
def ld(ld_app):
    return ld_app.test_client()


def parse(response, fmt: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=response.get_data(), format=fmt)


# --- 303 and documents, for each kind and each format ------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_each_kind_dereferences_to_each_format(ld, kind, ext):
    path = KINDS[kind]
    media_type, rdflib_format = FORMATS[ext]
    redirect = ld.get(path, headers={"Accept": media_type})
    assert redirect.status_code == 303, redirect.get_data(as_text=True)
    assert redirect.headers["Location"] == f"{path}.{ext}"
    assert "Accept" in redirect.headers["Vary"]
    document = ld.get(redirect.headers["Location"])
    assert document.status_code == 200
    assert document.mimetype == media_type
    graph = parse(document, rdflib_format)
    assert (rdflib.URIRef(BASE + path[1:]), None, None) in graph, f"{path}.{ext} does not describe its IRI"
    assert f'<{path}.html>; rel="alternate"; type="text/html"' in document.headers["Link"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_browsers_get_html_with_links_to_every_format(ld, kind):
    path = KINDS[kind]
    redirect = ld.get(path, headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert redirect.status_code == 303 and redirect.headers["Location"] == f"{path}.html"
    page = ld.get(f"{path}.html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for ext, (media_type, _) in FORMATS.items():
        assert f'href="{path}.{ext}"' in html, f"{kind} page does not link its {ext} form"
        assert f'type="{media_type}"' in html
    assert 'href="/.well-known/void"' in html


def test_no_accept_header_means_html_and_wildcards_too(ld):
    assert ld.get("/study/alpha-2015").headers["Location"] == "/study/alpha-2015.html"
    assert ld.get("/study/alpha-2015", headers={"Accept": "*/*"}).headers["Location"] == "/study/alpha-2015.html"


def test_quality_values_choose_the_format(ld):
    response = ld.get("/concept/M1", headers={"Accept": "text/turtle;q=0.5, application/rdf+xml"})
    assert response.headers["Location"] == "/concept/M1.rdf"
    response = ld.get("/concept/M1", headers={"Accept": "application/json"})
    assert response.headers["Location"] == "/concept/M1.jsonld"


def test_lang_parameter_survives_the_redirect(ld):
    response = ld.get("/concept/M1?lang=nl", headers={"Accept": "text/html"})
    assert response.headers["Location"] == "/concept/M1.html?lang=nl"


def test_unservable_format_is_406_naming_the_alternatives(ld):
    response = ld.get("/study/alpha-2015", headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    body = response.get_data(as_text=True)
    assert "text/turtle" in body and "/study/alpha-2015.ttl" in body
    assert ld.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406


def test_description_is_the_concise_bounded_description(ld):
    graph = parse(ld.get("/study/zeta-omega-2018.ttl"), "turtle")
    study = rdflib.URIRef(BASE + "study/zeta-omega-2018")
    authors = rdflib.collection.Collection(graph, graph.value(study, rdflib.URIRef("http://purl.org/ontology/bibo/authorList")))
    assert list(authors) == [rdflib.URIRef(BASE + "person/zeta-a"), rdflib.URIRef(BASE + "person/omega-b")]
    # only this resource's statements, not the persons' names
    assert (rdflib.URIRef(BASE + "person/zeta-a"), None, None) not in graph


def test_turtle_uses_the_project_prefixes(ld):
    text = ld.get("/claim/c1.ttl").get_data(as_text=True)
    assert "@prefix clm: <https://w3id.org/clkg/claim/>" in text and "cito:cites cls:alpha-2015" in text


def test_ontology_document_is_the_vocabulary_without_the_concepts(ld):
    graph = parse(ld.get("/ontology.ttl"), "turtle")
    assert (rdflib.URIRef(BASE + "ontology/Claim"), RDF.type, rdflib.OWL.Class) in graph
    assert not any(str(s).startswith(BASE + "concept/") for s in graph.subjects())


def test_person_page_lists_their_works(ld):
    html = ld.get("/person/zeta-a.html").get_data(as_text=True)
    assert "Zeta, A." in html and 'href="/study/zeta-omega-2018"' in html and "Zeta &amp; Omega (2018)" in html


def test_case_page_shows_its_observations(ld):
    html = ld.get("/case/school-1.html").get_data(as_text=True)
    assert "School 1 (example)" in html and "We learn together." in html and 'href="/concept/M1"' in html


def test_head_requests_work(ld):
    assert ld.head("/concept/M1.ttl").status_code == 200
    assert ld.head("/concept/M1", headers={"Accept": "text/turtle"}).status_code == 303


# --- unknown IRIs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/study/no-such-work-1999", "/concept/M99", "/claim/nope", "/person/nobody",
                                  "/case/none", "/graph/nonexistent", "/ontology/NoSuchClass", "/study/nope.ttl",
                                  "/no-such-page"])
def test_unknown_iri_is_404_with_a_helpful_page(ld, path):
    page = ld.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'action="/search"' in html and 'href="/concepts"' in html and 'href="/sparql"' in html
    assert BASE + path.lstrip("/") in html
    machine = ld.get(path, headers={"Accept": "application/json"})
    assert machine.status_code == 404 and machine.get_json()["status"] == 404
    plain = ld.get(path, headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.mimetype == "text/plain"


def test_unknown_api_path_is_a_json_404(ld):
    response = ld.get("/api/no-such-endpoint", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.get_json()["status"] == 404


def test_unknown_dump_is_404(ld):
    assert ld.get("/dumps/nonexistent.ttl").status_code == 404
    assert ld.get("/dumps/evidence.pdf").status_code == 404


# --- another base IRI ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def other_base(tmp_path_factory):
    app = build_app(tmp_path_factory, "otherbase", base_iri="http://data.example.org/kg/")
    yield app.test_client()
    app.extensions["clkg"].close()


def test_a_deployment_under_another_base_resolves_its_own_iris(other_base):
    redirect = other_base.get("/study/alpha-2015", headers={"Accept": "text/turtle"})
    assert redirect.status_code == 303 and redirect.headers["Location"] == "/study/alpha-2015.ttl"
    graph = parse(other_base.get("/study/alpha-2015.ttl"), "turtle")
    assert (rdflib.URIRef("http://data.example.org/kg/study/alpha-2015"), None, None) in graph
    assert not any(BASE in str(term) for triple in graph for term in triple)
    html = other_base.get("/claim/c1.html").get_data(as_text=True)
    assert "http://data.example.org/kg/claim/c1" in html and 'href="/study/alpha-2015"' in html
    void = parse(other_base.get("/.well-known/void"), "turtle")
    assert str(void.value(rdflib.URIRef("http://data.example.org/kg/dataset"), VOID.uriSpace)) == "http://data.example.org/kg/"
    assert other_base.get("/graph/evidence.ttl").status_code == 200
    assert other_base.get("/concept/M1", headers={"Accept": "text/html"}).status_code == 303


# --- VoID and DCAT ------------------------------------------------------------------------------------
def test_void_at_the_well_known_location(ld):
    response = ld.get("/.well-known/void")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = parse(response, "turtle")
    dataset = rdflib.URIRef(BASE + "dataset")
    assert (dataset, RDF.type, VOID.Dataset) in graph and (dataset, RDF.type, DCAT.Dataset) in graph
    assert (dataset, DCTERMS.license, rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")) in graph
    titles = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.title)}
    assert set(titles) == {"en", "nl"}
    assert graph.value(dataset, DCTERMS.description) is not None
    assert graph.value(dataset, DCTERMS.creator) is not None
    assert graph.value(dataset, DCTERMS.source) == rdflib.URIRef(BASE + "study/desmet-etal-2019")
    assert str(graph.value(dataset, VOID.sparqlEndpoint)).endswith("/sparql")
    vocabularies = {str(v) for v in graph.objects(dataset, VOID.vocabulary)}
    assert {"http://purl.org/spar/cito/", "http://www.w3.org/2004/02/skos/core#", BASE + "ontology/"} <= vocabularies
    subsets = set(graph.objects(dataset, VOID.subset))
    assert {rdflib.URIRef(BASE + f"graph/{g}") for g in ("ontology", "evidence", "illustrative")} <= subsets
    dumps = {str(d).rsplit("/dumps/", 1)[1] for d in graph.objects(dataset, VOID.dataDump)}
    assert dumps == {"all.ttl", "all.trig", "all.nq", "all.jsonld"}


def test_void_for_browsers_and_in_other_formats(ld):
    html = ld.get("/.well-known/void", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html" and "CC BY 4.0" in html.get_data(as_text=True)
    jsonld = ld.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert len(parse(jsonld, "json-ld")) == len(parse(ld.get("/.well-known/void"), "turtle"))


def test_void_triple_counts_equal_the_store(ld, ld_app):
    graph = parse(ld.get("/.well-known/void"), "turtle")
    store = ox.Store.read_only(str(ld_app.config["CLKG"].data_dir / "store"))
    total = 0
    for subset in graph.objects(rdflib.URIRef(BASE + "dataset"), VOID.subset):
        counted = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(str(subset)))))
        assert int(graph.value(subset, VOID.triples)) == counted, subset
        total += counted
    assert int(graph.value(rdflib.URIRef(BASE + "dataset"), VOID.triples)) == total == len(store)


def test_void_counts_equal_the_real_store(real_app, real_settings):
    """On the real data: every graph's void:triples equals the number of quads the store holds in it,
    and the class partitions of the evidence graph equal SPARQL counts."""
    client = real_app.test_client()
    graph = parse(client.get("/.well-known/void"), "turtle")
    dataset = rdflib.URIRef(BASE + "dataset")
    store = ox.Store.read_only(str(real_settings.data_dir / "store"))
    names = {g.value for g in store.named_graphs()}
    subsets = {str(s) for s in graph.objects(dataset, VOID.subset)}
    assert subsets == names
    for subset in subsets:
        assert int(graph.value(rdflib.URIRef(subset), VOID.triples)) == \
            len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(subset))))
    assert int(graph.value(dataset, VOID.triples)) == len(store)
    evidence = rdflib.URIRef(BASE + "graph/evidence")
    partitions = {graph.value(p, VOID["class"]): int(graph.value(p, VOID.entities))
                  for p in graph.objects(evidence, VOID.classPartition)}
    query = ("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH <https://w3id.org/clkg/graph/evidence> "
             "{ ?c a <https://w3id.org/clkg/ontology/Claim> } }")
    counted = client.get("/sparql", query_string={"query": query}).get_json()
    assert partitions[rdflib.URIRef(BASE + "ontology/Claim")] == int(counted["results"]["bindings"][0]["n"]["value"]) > 500


# --- dumps --------------------------------------------------------------------------------------------
DUMP_PARSERS = {"ttl": "turtle", "trig": "trig", "nq": "nquads", "jsonld": "json-ld"}


def test_dumps_have_the_size_and_checksum_the_description_gives(ld, ld_app):
    void = parse(ld.get("/.well-known/void"), "turtle")
    distributions = list(void.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == 4 * (1 + len(list(void.objects(rdflib.URIRef(BASE + "dataset"), VOID.subset))))
    store = ox.Store.read_only(str(ld_app.config["CLKG"].data_dir / "store"))
    for distribution in distributions:
        url = str(void.value(distribution, DCAT.downloadURL))
        path = "/dumps/" + url.rsplit("/dumps/", 1)[1]
        response = ld.get(path)
        assert response.status_code == 200, path
        body = response.get_data()
        checksum = void.value(distribution, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
        assert int(void.value(distribution, DCAT.byteSize)) == len(body)
        assert response.headers["ETag"].strip('"') == hashlib.sha256(body).hexdigest()
        assert response.mimetype == str(void.value(distribution, DCTERMS["format"]))
        name, ext = path[len("/dumps/"):].rsplit(".", 1)
        quads = list(store.quads_for_pattern(None, None, None,
                                             None if name == "all" else ox.NamedNode(BASE + "graph/" + name)))
        if ext == "ttl":
            assert len(rdflib.Graph().parse(data=body, format="turtle")) == len({q.triple for q in quads}), path
        else:
            dataset = rdflib.Dataset()
            dataset.parse(data=body, format=DUMP_PARSERS[ext])
            assert sum(1 for _ in dataset.quads((None, None, None, None))) == len(quads), path


def test_dumps_are_cached_by_store_generation(ld, ld_app):
    first = ld.get("/dumps/evidence.nq").get_data()
    folder = ld_app.config["CLKG"].data_dir / "dumps"
    generations = [p for p in folder.iterdir() if p.is_dir()]
    assert len(generations) == 1 and (generations[0] / "evidence.nq").is_file()
    assert json.loads((generations[0] / "evidence.nq.json").read_text())["sha256"] == hashlib.sha256(first).hexdigest()
    assert ld.get("/dumps/evidence.nq").get_data() == first
    sums = ld.get("/dumps/SHA256SUMS").get_data(as_text=True)
    assert f"{hashlib.sha256(first).hexdigest()}  evidence.nq" in sums


def test_graph_pages_describe_their_graph_and_link_their_dumps(ld):
    html = ld.get("/graph/evidence.html").get_data(as_text=True)
    assert 'href="/dumps/evidence.trig"' in html and 'href="/dumps/evidence.jsonld"' in html
    graph = parse(ld.get("/graph/evidence.ttl"), "turtle")
    node = rdflib.URIRef(BASE + "graph/evidence")
    triples = int(graph.value(node, VOID.triples))
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/clkg/graph/evidence> { ?s ?p ?o } }"
    counted = ld.get("/sparql", query_string={"query": query}).get_json()["results"]["bindings"][0]["n"]["value"]
    assert triples == int(counted) > 0
    assert re.search(r"<td>\s*" + str(triples) + r"\s*</td>", html)


def test_a_path_that_is_no_iri_is_a_404_not_an_error(ld):
    for path in ("/study/a%3Eb", "/concept/M1%20x", "/claim/%7Bx%7D.ttl"):
        response = ld.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 404, path


def test_a_namespace_leads_to_its_listing(ld):
    for namespace, listing in (("/concept/", "/concepts"), ("/study/", "/studies"), ("/graph/", "/graphs")):
        response = ld.get(namespace)
        assert response.status_code == 303 and response.headers["Location"] == listing


def test_links_to_foreign_iris_never_run_script(ld_app):
    from clkg.web import links

    with ld_app.test_request_context("/"):
        assert links.href("javascript:alert(1)") is None  # shown as text, never a link
        assert links.href("https://doi.org/10.1/x") == "https://doi.org/10.1/x"
        assert links.href(BASE + "study/alpha-2015") == "/study/alpha-2015"


def test_contribution_graphs_with_a_slash_in_their_name(ld):
    redirect = ld.get("/graph/contribution/entry-1", headers={"Accept": "text/turtle"})
    assert redirect.status_code == 303 and redirect.headers["Location"] == "/graph/contribution/entry-1.ttl"
    graph = parse(ld.get("/graph/contribution/entry-1.ttl"), "turtle")
    # 7: the claim links its study twice, by cito:cites and by its citation function (docs/modelling.md)
    assert int(graph.value(rdflib.URIRef(BASE + "graph/contribution/entry-1"), VOID.triples)) == 7
    dump = ld.get("/dumps/contribution/entry-1.nq")
    assert dump.status_code == 200 and dump.get_data(as_text=True).count(f"<{BASE}graph/contribution/entry-1>") == 7
    html = ld.get("/concept/M2.html").get_data(as_text=True)
    contradicts = html[html.index('id="evidence-contradicts"'):]
    assert "Zeta en Omega (2018) spreken dit tegen." in contradicts
