"""The vocabulary in one place: the project's canonical base, its namespaces and the prefix map.

Data, shapes and queries are written against the canonical base `https://w3id.org/clkg/`; a deployment
under another base gets its IRIs mapped by `clkg.iris` (the one place that rebases). Every module takes
its namespaces from here, so a namespace is spelled once.
"""
from __future__ import annotations

CANONICAL_BASE = "https://w3id.org/clkg/"

# the project's namespaces (canonical)
CLO = CANONICAL_BASE + "ontology/"   # the ontology's classes and properties
CLC = CANONICAL_BASE + "concept/"    # the report's concepts
CLS = CANONICAL_BASE + "study/"      # studies (the bibliography)
CLM = CANONICAL_BASE + "claim/"      # claims (a citation tying a study to a concept)
CLP = CANONICAL_BASE + "person/"
CLJ = CANONICAL_BASE + "venue/"
CLX = CANONICAL_BASE + "case/"       # school cases
CLG = CANONICAL_BASE + "graph/"      # named graphs
CLSH = CANONICAL_BASE + "shapes/"
CLV = CANONICAL_BASE + "validation/"  # the validator's own marks, never in data
GENID = CANONICAL_BASE + ".well-known/genid/"
ONTOLOGY = CANONICAL_BASE + "ontology"

# vocabularies the project reuses
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
BIBO = "http://purl.org/ontology/bibo/"
CITO = "http://purl.org/spar/cito/"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
VANN = "http://purl.org/vocab/vann/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
SCHEMA = "https://schema.org/"
QB = "http://purl.org/linked-data/cube#"

RDF_TYPE = RDF + "type"

# the prefixes written in Turtle documents and used to show IRIs compactly
PREFIXES = {
    "clo": CLO, "clc": CLC, "cls": CLS, "clm": CLM, "clp": CLP, "clj": CLJ, "clx": CLX, "clg": CLG,
    "clsh": CLSH, "clv": CLV,
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "bibo": BIBO,
    "cito": CITO, "foaf": FOAF, "prov": PROV, "sh": SH, "vann": VANN, "void": VOID, "dcat": DCAT, "sd": SD,
    "spdx": SPDX, "schema": SCHEMA, "qb": QB,
}
