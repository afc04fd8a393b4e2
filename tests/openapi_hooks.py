"""Schemathesis hooks for tests/test_openapi_contract.py (loaded with SCHEMATHESIS_HOOKS=openapi_hooks).

The OpenAPI description names two kinds of text that JSON Schema cannot spell out: a SPARQL query
(`format: sparql-query`) and an RDF entry (the bodies of /api/validate and /api/entries). Schemathesis
generates them with these strategies, so that "valid data" is what the server must accept: queries that
parse and run on the miniature graph, and entries that conform to the shapes, each one new (a study
already in the graph is a duplicate, which the server rightly refuses).
"""
from __future__ import annotations

import itertools
from pathlib import Path

import pyoxigraph as ox
import rdflib
import schemathesis
from hypothesis import strategies as st

PREFIXES = """PREFIX clo: <https://w3id.org/clkg/ontology/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
FIXED_QUERIES = [
    "ASK {}",
    "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5",
    "DESCRIBE <https://w3id.org/clkg/study/alpha-2015>",
    PREFIXES + "SELECT ?c ?code WHERE { ?c skos:notation ?code } ORDER BY ?code",
    PREFIXES + "SELECT ?claim WHERE { ?claim a clo:Claim ; clo:polarity clo:supports }",
]


def _literal(text: str) -> str:
    return str(ox.Literal(text))  # Oxigraph writes the literal, escapes and all


sparql_queries = st.one_of(
    st.sampled_from(FIXED_QUERIES),
    st.builds(lambda text: f"SELECT ?s WHERE {{ ?s ?p ?o FILTER (STR(?o) = {_literal(text)}) }}", st.text(max_size=40)),
    st.builds(lambda text: f"ASK {{ BIND ({_literal(text)} AS ?x) FILTER (STRLEN(?x) >= 0) }}", st.text(max_size=40)),
    st.builds(lambda n: f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {n}", st.integers(0, 10_000)),
)

# the prefixes of the valid example entry (clo, clc, cls, clm, clp, bibo, cito, dcterms, foaf, xsd, ...)
_PREFIXES = "".join(line for line in (Path(__file__).parent / "entries" / "valid" / "study-and-claim.ttl")
                    .read_text(encoding="utf-8").splitlines(keepends=True) if line.startswith("@prefix"))
_ENTRY = _PREFIXES.replace("{", "{{").replace("}", "}}") + """
cls:{slug}-{year} a clo:Study, bibo:Report ;
    dcterms:title {title}@en ; dcterms:issued "{year}"^^xsd:gYear ;
    bibo:authorList ( clp:{slug}-a ) ; dcterms:creator clp:{slug}-a ;
    dcterms:bibliographicCitation "{name}, A. ({year}). Generated report."@nl ;
    clo:inTextCitation "{name} ({year})" ; clo:inBibliography false .
clp:{slug}-a a foaf:Person ; foaf:familyName "{name}" ; foaf:givenName "A." ; foaf:name "{name}, A." .
clm:4.3-{slug}-{year}-M9 a clo:Claim ; cito:cites cls:{slug}-{year} ; cito:citesAsEvidence cls:{slug}-{year} ; clo:about clc:M9 ;
    clo:polarity {polarity} ; clo:section "4.3" ; clo:quote {quote}@nl .
"""
_serial = itertools.count(1)


def _letters(number: int) -> str:
    out = ""
    while number:
        number, digit = divmod(number - 1, 26)
        out = chr(ord("a") + digit) + out
    return out


def _entry(year: int, polarity: str, title: str, quote: str) -> rdflib.Graph:
    """A new study (its author's name never used before in this run) and a claim citing it."""
    slug = "gen" + _letters(next(_serial))
    text = _ENTRY.format(slug=slug, name=slug.capitalize(), year=year, polarity=polarity,
                         title=_literal(title or "a title"), quote=_literal(quote or "een citaat"))
    return rdflib.Graph().parse(data=text, format="turtle")


entries = st.builds(_entry, st.integers(1950, 2025), st.sampled_from(["clo:supports", "clo:nuances", "clo:contradicts"]),
                    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)
                    .filter(str.strip),
                    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)
                    .filter(str.strip))

schemathesis.openapi.format("sparql-query", sparql_queries)
schemathesis.openapi.media_type("application/sparql-query", sparql_queries.map(str.encode))
for media_type, rdflib_format in {"text/turtle": "turtle", "application/n-triples": "nt",
                                  "application/ld+json": "json-ld", "application/rdf+xml": "xml"}.items():
    schemathesis.openapi.media_type(media_type, entries.map(
        lambda graph, fmt=rdflib_format: graph.serialize(format=fmt, encoding="utf-8")))
