"""Validation of contributed entries against the SHACL shapes in `shapes/`.

An entry is one RDF graph describing new studies, claims or cases. It is validated with pyshacl, not
alone and not against the whole store, but within a small data graph:

- the entry itself (canonical IRIs; its blank nodes replaced by IRIs under `GENID` for the run, so that
  they can be focus nodes), every subject marked `clv:inEntry true`;
- the store's description of every IRI the entry mentions (so a cited study, a referenced concept or a
  reused person is known), marked `clv:inStore true`;
- the studies the entry's studies could duplicate (same DOI, or same year: first author and title are
  compared by the shapes);
- the concept class hierarchy (`rdfs:subClassOf` up to `skos:Concept`), so that `sh:class clo:Motive`
  accepts a `clo:TaskMotive`.

Only the entry's subjects are focus nodes that count: results about context nodes (a cited study of the
store is a target of the study shapes too) are dropped from the report, and the context is kept to what
the checks need so that there are few of them. (pyshacl's own `focus_nodes` option cannot be used: in
0.40 it also filters the value nodes of nested shapes, so that sh:or, sh:not, sh:node and qualified value
shapes pass vacuously on any value outside the list.) The illustrative and inferred graphs are never
context: a contribution cannot cite an illustrative study. Every pyshacl run of the product goes through
`run_shacl`, which the W3C SHACL core test suite exercises too (tests/test_w3c_shacl.py).

Reading an entry within its limits is clkg/entryparse.py, the report clkg/report.py; the web app runs
all of it in a process of its own with a time and memory limit (clkg/entryworker.py). `validate_entry`
takes the context from a source and hands entry + context to `check` (pyshacl and the report), or to
another runner of the same signature (the worker).
"""
from __future__ import annotations

import functools
import hashlib
import threading
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD

from clkg import config, resources, turtle
from clkg.entryparse import CLV, GENID, EntryError, Limits, format_for, parse_entry, unbase  # noqa: F401
from clkg.report import CLO, LANGUAGES, PREFIXES, Report, build_report, compact  # noqa: F401

SHAPES_DIR = resources.shapes()
IN_ENTRY = URIRef(CLV + "inEntry")
IN_STORE = URIRef(CLV + "inStore")
TRUE = Literal(True)
EXCLUDED_GRAPHS = ("illustrative", "inferred")  # never context: not evidence


# --- the shapes ------------------------------------------------------------------------------------
_shapes_lock = threading.Lock()
_shapes_cache: dict = {}


def shape_files(folder: Path = SHAPES_DIR) -> list[Path]:
    return sorted(Path(folder).glob("*.ttl"))


def shapes_version(folder: Path = SHAPES_DIR) -> str:
    """A hash of the shape files: recorded with every contribution, so one can tell what it passed."""
    digest = hashlib.sha256()
    for path in shape_files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256-" + digest.hexdigest()[:16]


def shapes_graph(folder: Path = SHAPES_DIR) -> rdflib.Graph:
    """The shapes as one rdflib graph, parsed once per version of the files."""
    version = shapes_version(folder)
    with _shapes_lock:
        cached = _shapes_cache.get(str(folder))
        if cached and cached[0] == version:
            return cached[1]
        graph = turtle.load(shape_files(folder))
        _shapes_cache[str(folder)] = (version, graph)
        return graph


_shacl_lock = threading.Lock()


def run_shacl(data_graph: rdflib.Graph, shapes: rdflib.Graph, *,
              allow_warnings: bool = False) -> tuple[bool, rdflib.Graph]:
    """The one pyshacl call of the product: SHACL Core and SHACL-SPARQL constraints, no inference,
    no imports. `allow_warnings` lets warnings (and infos) keep `sh:conforms` true, which is how the
    product reports; the W3C suite runs with SHACL's own rule (any result means false).

    One run at a time per process: rdflib's SPARQL parser (pyparsing) is not thread-safe. The web app
    runs each validation in a worker process of its own (clkg/entryworker.py), so this lock is never
    held across requests there; a run takes a few tens of milliseconds for an ordinary entry."""
    import pyshacl

    with _shacl_lock:
        conforms, report, text = pyshacl.validate(
            data_graph, shacl_graph=shapes, ont_graph=None, inference="none", abort_on_first=False,
            allow_infos=allow_warnings, allow_warnings=allow_warnings, meta_shacl=False, advanced=False,
            js=False, debug=False, do_owl_imports=False)
    if not isinstance(report, rdflib.Graph):  # pyshacl answers a ValidationFailure instead of raising
        raise RuntimeError(f"SHACL validation failed: {text}")
    return bool(conforms), report


# --- the context: what the store already holds ------------------------------------------------------
class StoreContext:
    """Context read straight from an Oxigraph store (the writer's own handle during an ingest, or a
    read-only handle for the command line and the validation workers). Results are materialised:
    nothing keeps the store open."""

    def __init__(self, store: ox.Store):
        self.store = store

    def construct(self, query: str) -> list:
        result = self.store.query(query)
        triples = list(result)
        del result
        return triples


def _iri(value: str) -> str:
    return "<" + value.replace(">", "%3E") + ">"


def _sparql_literal(text: str) -> str:
    return str(ox.Literal(text))


def context_triples(entry: list, source, settings) -> list:
    """The store's part of the validation data graph for this entry (canonical IRIs)."""
    base = settings.base_iri
    excluded = ", ".join(_iri(settings.graph_iri(g)) for g in EXCLUDED_GRAPHS)
    rdf_type = ox.NamedNode(str(RDF.type))
    mentioned = set()
    for s, p, o in entry:
        for term in (s, o if p != rdf_type else None):
            if isinstance(term, ox.NamedNode) and term.value != str(RDF.nil):
                mentioned.add(term.value)
    study_type = ox.NamedNode(CLO + "Study")
    studies = {s for s, p, o in entry if p == rdf_type and o == study_type}
    dois, years = set(), set()
    for s, p, o in entry:
        if s in studies and isinstance(o, ox.Literal):
            if p.value == "http://purl.org/ontology/bibo/doi":
                dois.add(o.value.lower())
            elif p.value == "http://purl.org/dc/terms/issued":
                years.add(o.value)

    def rebased(value: str) -> str:
        return base + value[len(config.CANONICAL_BASE):] if value.startswith(config.CANONICAL_BASE) else value

    queries = [f"""
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        CONSTRUCT {{ ?class rdfs:subClassOf ?super }} WHERE {{
          GRAPH ?g {{ ?class rdfs:subClassOf* skos:Concept . ?class rdfs:subClassOf ?super }}
          FILTER (isIRI(?super) && ?g NOT IN ({excluded}))
        }}"""]
    if mentioned:
        values = " ".join(_iri(rebased(v)) for v in sorted(mentioned))
        queries.append(f"""
            CONSTRUCT {{ ?x ?p ?o . ?x <{CLV}inStore> true }} WHERE {{
              VALUES ?x {{ {values} }}
              GRAPH ?g {{ ?x ?p ?o }}
              FILTER (?g NOT IN ({excluded}))
            }}""")
    if dois or years:
        doi_values = " ".join(_sparql_literal(d) for d in sorted(dois)) or '""'
        year_values = " ".join(_sparql_literal(y) for y in sorted(years)) or '""'
        queries.append(f"""
            PREFIX clo: <{rebased(CLO)}>
            PREFIX bibo: <http://purl.org/ontology/bibo/>
            PREFIX dcterms: <http://purl.org/dc/terms/>
            PREFIX foaf: <http://xmlns.com/foaf/0.1/>
            PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
            CONSTRUCT {{
              ?s <{CLV}inStore> true ; bibo:doi ?doi ; dcterms:issued ?year ; dcterms:title ?title ;
                 bibo:authorList ?list .
              ?list rdf:first ?author . ?author foaf:familyName ?family ; foaf:name ?name
            }} WHERE {{
              {{ SELECT DISTINCT ?s WHERE {{
                  GRAPH ?g {{
                    ?s a clo:Study .
                    {{ VALUES ?wanted {{ {doi_values} }} ?s bibo:doi ?d FILTER (LCASE(STR(?d)) = ?wanted) }}
                    UNION
                    {{ VALUES ?wanted {{ {year_values} }} ?s dcterms:issued ?y FILTER (STR(?y) = ?wanted) }}
                  }}
                  FILTER (?g NOT IN ({excluded}))
              }} }}
              OPTIONAL {{ GRAPH ?g2 {{ ?s bibo:doi ?doi }} }}
              OPTIONAL {{ GRAPH ?g3 {{ ?s dcterms:issued ?year }} }}
              OPTIONAL {{ GRAPH ?g4 {{ ?s dcterms:title ?title }} }}
              OPTIONAL {{ GRAPH ?g5 {{ ?s bibo:authorList ?list . ?list rdf:first ?author }}
                         OPTIONAL {{ GRAPH ?g6 {{ ?author foaf:familyName ?family }} }}
                         OPTIONAL {{ GRAPH ?g7 {{ ?author foaf:name ?name }} }} }}
            }}""")
    triples = []
    for query in queries:
        triples.extend(source.construct(query))
    return [ox.Triple(unbase(s, base), unbase(p, base), unbase(o, base)) for s, p, o in triples]


# --- the data graph --------------------------------------------------------------------------------
class DataGraph(rdflib.Graph):
    """An rdflib graph whose SPARQL queries are parsed once per text. pyshacl runs every SPARQL-based
    constraint once per focus node with the same text (the focus node bound by initBindings), and
    rdflib's parser is what costs: a prepared query is the same query, made reusable."""

    def query(self, query_object, processor="sparql", result="sparql", initNs=None, initBindings=None,  # noqa: N803
              use_store_provided=True, **kwargs):
        if isinstance(query_object, str) and processor == "sparql" and not initNs and not kwargs.get("base"):
            query_object = _prepared(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


@functools.lru_cache(maxsize=512)
def _prepared(text: str):
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


def _term(term, entry_side: bool):
    """An Oxigraph term as rdflib term; the entry's blank nodes become GENID IRIs (focus nodes)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return URIRef(GENID + term.value) if entry_side else BNode("ctx" + term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise EntryError(400, f"Unsupported term {term}")


def data_graph(entry: list, context: list) -> tuple[rdflib.Graph, list]:
    graph = DataGraph()
    for s, p, o in context:
        graph.add((_term(s, False), _term(p, False), _term(o, False)))
    focus = []
    for s, p, o in entry:
        graph.add((_term(s, True), _term(p, True), _term(o, True)))
    for subject in dict.fromkeys(s for s, _, _ in entry):
        node = _term(subject, True)
        graph.add((node, IN_ENTRY, TRUE))
        focus.append(node)
    return graph, focus


# --- validating ------------------------------------------------------------------------------------
def check(entry: list, context: list, origin: str | None = None) -> Report:
    """pyshacl on entry + context, and the report on the entry's own nodes (in this process)."""
    graph, _focus = data_graph(entry, context)
    _, report_graph = run_shacl(graph, shapes_graph(), allow_warnings=True)
    return build_report(report_graph, entry, shapes_version(), origin)


def validate_entry(entry: list, source, settings, *, origin: str | None = None, runner=check) -> Report:
    """Validate one entry (triples from `parse_entry`) against the shapes and what the store holds:
    the context is read from `source` here (an ingest's writer sees the store as it is under its
    lock), then `runner(entry, context, origin)` checks it (`check`, or the same in a worker process)."""
    context = context_triples(entry, source, settings) if source is not None else []
    return runner(entry, context, origin)


def validate_graph(graph: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    """Validate a whole graph with every target of the shapes (for the benchmark and audits)."""
    return run_shacl(graph, shapes_graph(), allow_warnings=True)


def warm_up() -> None:
    """Parse the shapes and prepare their SPARQL queries once (a web app does it when it starts), so
    that the first entry validates as fast as the next."""
    entry = parse_entry(b"<https://w3id.org/clkg/study/x-2000> a <https://w3id.org/clkg/ontology/Study> ; "
                        b"<http://purl.org/dc/terms/issued> 2000 ; <http://purl.org/dc/terms/title> 1 ; "
                        b"<http://purl.org/ontology/bibo/doi> 1 ; <http://purl.org/dc/terms/creator> 1 ; "
                        b"<http://purl.org/ontology/bibo/authorList> (<https://w3id.org/clkg/person/x>) .",
                        ox.RdfFormat.TURTLE)
    validate_entry(entry, None, None)


def negotiate_language(requested: str | None, accept_languages=None) -> str:
    """?lang= wins, then Accept-Language (a werkzeug LanguageAccept), then English."""
    if requested:
        code = requested.strip().lower()[:2]
        if code not in LANGUAGES:
            raise EntryError(400, f"lang must be one of {', '.join(LANGUAGES)}, not {requested!r}.")
        return code
    if accept_languages:
        best = accept_languages.best_match(LANGUAGES)
        if best:
            return best
        for value, _quality in accept_languages:
            if value[:2].lower() in LANGUAGES:
                return value[:2].lower()
    return "en"
