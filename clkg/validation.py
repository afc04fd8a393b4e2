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

The report (`Report`) groups results by entry (the study, claim or case a node belongs to) and field
(the property path), with the shapes' messages in English or Dutch.
"""
from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from clkg import config, resources, turtle

SHAPES_DIR = resources.shapes()
CLV = "https://w3id.org/clkg/validation/"
GENID = "https://w3id.org/clkg/.well-known/genid/"
IN_ENTRY = URIRef(CLV + "inEntry")
IN_STORE = URIRef(CLV + "inStore")
TRUE = Literal(True)
LANGUAGES = ("en", "nl")
EXCLUDED_GRAPHS = ("illustrative", "inferred")  # never context: not evidence

CLO = "https://w3id.org/clkg/ontology/"
ROOT_KINDS = {CLO + "Study": "study", CLO + "Claim": "claim", CLO + "Case": "case"}
PREFIXES = {
    "clo": CLO, "clc": "https://w3id.org/clkg/concept/", "cls": "https://w3id.org/clkg/study/",
    "clm": "https://w3id.org/clkg/claim/", "clp": "https://w3id.org/clkg/person/",
    "clj": "https://w3id.org/clkg/venue/", "clx": "https://w3id.org/clkg/case/",
    "clsh": "https://w3id.org/clkg/shapes/", "clv": CLV,
    "bibo": "http://purl.org/ontology/bibo/", "cito": "http://purl.org/spar/cito/",
    "dcterms": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#", "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdf": str(RDF), "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": str(XSD),
    "owl": "http://www.w3.org/2002/07/owl#", "sh": str(SH),
}

# Entry syntaxes: media type (and file extension) -> Oxigraph format. An entry is one graph.
MEDIA_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD, "application/json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
EXTENSIONS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".jsonld": ox.RdfFormat.JSON_LD,
              ".json": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML}
FORMAT_NAMES = {"turtle": ox.RdfFormat.TURTLE, "ttl": ox.RdfFormat.TURTLE, "n-triples": ox.RdfFormat.N_TRIPLES,
                "nt": ox.RdfFormat.N_TRIPLES, "ntriples": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD,
                "jsonld": ox.RdfFormat.JSON_LD, "rdf-xml": ox.RdfFormat.RDF_XML, "rdfxml": ox.RdfFormat.RDF_XML}

TEXT = {
    "en": {"study": "study", "claim": "claim", "case": "case", "node": "node",
           "violation": "violation", "warning": "warning", "info": "info", "value": "value",
           "conforms": "conforms", "fails": "does not conform", "node-field": "(the node itself)",
           "summary": "{violations} violation(s), {warnings} warning(s)"},
    "nl": {"study": "studie", "claim": "bewering", "case": "case", "node": "knoop",
           "violation": "overtreding", "warning": "waarschuwing", "info": "info", "value": "waarde",
           "conforms": "voldoet", "fails": "voldoet niet", "node-field": "(de knoop zelf)",
           "summary": "{violations} overtreding(en), {warnings} waarschuwing(en)"},
}


class EntryError(Exception):
    """An entry that cannot be validated at all (unparseable, empty, reserved vocabulary); `status` is
    the HTTP status to answer."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


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

    One run at a time: rdflib's SPARQL parser (pyparsing) is not thread-safe, and the threads of a
    server would otherwise parse the constraints' queries at the same moment. A run is CPU-bound Python
    (the GIL serialises it anyway) and takes a few tens of milliseconds for an entry."""
    import pyshacl

    with _shacl_lock:
        conforms, report, text = pyshacl.validate(
            data_graph, shacl_graph=shapes, ont_graph=None, inference="none", abort_on_first=False,
            allow_infos=allow_warnings, allow_warnings=allow_warnings, meta_shacl=False, advanced=False,
            js=False, debug=False, do_owl_imports=False)
    if not isinstance(report, rdflib.Graph):  # pyshacl answers a ValidationFailure instead of raising
        raise RuntimeError(f"SHACL validation failed: {text}")
    return bool(conforms), report


# --- reading an entry ------------------------------------------------------------------------------
def format_for(media_type: str | None = None, path: str | Path | None = None, name: str | None = None):
    """The parser for an entry, by explicit name, media type or file extension (in that order)."""
    if name:
        fmt = FORMAT_NAMES.get(name.lower())
        if fmt is None:
            raise EntryError(400, f"Unknown RDF format {name!r}; use one of: turtle, n-triples, json-ld, rdf-xml.")
        return fmt
    if media_type:
        fmt = MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())
        if fmt is None:
            raise EntryError(415, f"Cannot read an entry as {media_type!r}; send text/turtle, application/n-triples, "
                                  "application/ld+json or application/rdf+xml.")
        return fmt
    if path is not None:
        fmt = EXTENSIONS.get(Path(path).suffix.lower())
        if fmt is None:
            raise EntryError(400, f"{path}: cannot tell the RDF format from the extension; give --format "
                                  "(turtle, n-triples, json-ld).")
        return fmt
    raise EntryError(415, "Say which RDF format the entry is in (Content-Type: text/turtle, application/n-triples, "
                          "application/ld+json or application/rdf+xml).")


def unbase(term, base: str):
    """Map a deployment-base IRI back to the canonical base (entries and shapes speak canonical IRIs)."""
    if base == config.CANONICAL_BASE:
        return term
    if isinstance(term, ox.NamedNode) and term.value.startswith(base):
        return ox.NamedNode(config.CANONICAL_BASE + term.value[len(base):])
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(base):
        return ox.Literal(term.value, datatype=unbase(term.datatype, base))
    return term


def parse_entry(data: bytes | str, fmt: ox.RdfFormat, base: str = config.CANONICAL_BASE) -> list:
    """The triples of an entry (canonical IRIs). Raises EntryError with the parser's line and column."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise EntryError(400, "The entry is empty: send one RDF graph describing studies, claims or cases.")
    try:
        quads = list(ox.parse(data, format=fmt, base_iri=config.CANONICAL_BASE, without_named_graphs=True))
    except SyntaxError as error:
        raise EntryError(400, f"The entry is not valid {fmt.name}: {error}") from None
    except (ValueError, OSError) as error:
        raise EntryError(400, f"The entry cannot be read as {fmt.name}: {error}") from None
    triples = [ox.Triple(unbase(q.subject, base), unbase(q.predicate, base), unbase(q.object, base)) for q in quads]
    if not triples:
        raise EntryError(400, "The entry holds no triples: send one RDF graph describing studies, claims or cases.")
    for triple in triples:
        for term in triple:
            if isinstance(term, ox.NamedNode) and (term.value.startswith(CLV) or term.value.startswith(GENID)):
                raise EntryError(400, f"The entry uses the reserved IRI <{term.value}>: {CLV} and {GENID} are "
                                      "for the validator only.")
            if isinstance(term, ox.Triple):
                raise EntryError(400, "The entry uses RDF-star quoted triples, which entries do not allow.")
    return list(dict.fromkeys(triples))


# --- the context: what the store already holds ------------------------------------------------------
class StoreContext:
    """Context read straight from an Oxigraph store (the writer's own handle during an ingest, or a
    read-only handle for the command line). Results are materialised: nothing keeps the store open."""

    def __init__(self, store: ox.Store):
        self.store = store

    def construct(self, query: str) -> list:
        result = self.store.query(query)
        triples = list(result)
        del result
        return triples


class PoolContext:
    """Context read through the service's query workers (the web app's read path)."""

    LIMIT = 500_000

    def __init__(self, service):
        self.service = service

    def construct(self, query: str) -> list:
        from clkg import store

        body, _ = self.service.pool.run({
            "query": query, "media_type": "application/n-triples", "limit": self.LIMIT, "has_dataset": False,
            "default_graphs": [], "named_graphs": [], "substitutions": {},
            "generation": store.generation(self.service.settings)})
        return [ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)] if body else []


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


# --- the report ------------------------------------------------------------------------------------
def compact(value: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if value.startswith(namespace) and re.fullmatch(r"[\w.\-]*", value[len(namespace):]):
            return f"{prefix}:{value[len(namespace):]}"
    return f"<{value}>"


def _plain(term) -> str | None:
    """A term as the report gives it: an IRI, a blank node label `_:x`, or a literal's lexical form."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return "_:" + term[len(GENID):] if term.startswith(GENID) else str(term)
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


def _turtle(term) -> str | None:
    """A term in Turtle, compacted with the project's prefixes (for people)."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return "_:" + term[len(GENID):] if term.startswith(GENID) else compact(str(term))
    if isinstance(term, BNode):
        return "_:" + str(term)
    text = '"' + str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype:
        return f"{text}^^{compact(str(term.datatype))}"
    return text


def path_text(graph: rdflib.Graph, node, full: bool = False) -> str | None:
    """A SHACL path as a SPARQL property path (compacted, or with full IRIs)."""
    if node is None:
        return None
    name = (lambda iri: f"<{iri}>") if full else (lambda iri: compact(str(iri)))
    if isinstance(node, URIRef):
        return str(node) if full else compact(str(node))

    def render(n) -> str:
        if isinstance(n, URIRef):
            return name(n)
        if (n, RDF.first, None) in graph:
            return "/".join(render(item) for item in rdflib.collection.Collection(graph, n))
        for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = graph.value(n, predicate)
            if inner is not None:
                text = render(inner)
                return (f"({text})" if re.search(r"[/|]", text) else text) + suffix
        inner = graph.value(n, SH.inversePath)
        if inner is not None:
            return "^" + render(inner)
        inner = graph.value(n, SH.alternativePath)
        if inner is not None:
            return "(" + "|".join(render(i) for i in rdflib.collection.Collection(graph, inner)) + ")"
        return "?"

    return render(node)


_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def _localise(message: Literal, templates: list) -> dict:
    """A result message in every language. Core messages come tagged; pyshacl drops the tag of a
    SPARQL message once it substitutes {?var}: find the template it came from, and render every
    language's template with the same values (IRIs compacted)."""
    if message.language:
        return {message.language: str(message)}
    for template in templates:
        names = _PLACEHOLDER.findall(str(template))
        pattern = "^" + "".join(re.escape(part) if i % 2 == 0 else "(.*?)"
                                for i, part in enumerate(_PLACEHOLDER.split(str(template)))) + "$"
        match = re.match(pattern, str(message), re.S)
        if match is None:
            continue
        values = {n: v for n, v in zip(names, match.groups())}
        shown = {n: (_turtle(URIRef(v)) if re.match(r"^[a-z][a-z0-9+.-]*:", v) else v) for n, v in values.items()}
        return {t.language or "": _PLACEHOLDER.sub(lambda m: shown.get(m.group(1), m.group(0)), str(t))
                for t in templates}
    return {"": str(message)}


@dataclass
class Result:
    focus_node: str
    path: str | None
    field_name: str | None
    value: str | None
    value_turtle: str | None
    severity: str
    messages: dict
    shape: str | None
    constraint: str | None
    entry: str = ""
    entry_kind: str = "node"

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages.get("en") or self.messages.get("") or next(
            iter(self.messages.values()), "")

    def to_json(self, lang: str) -> dict:
        return {"entry": self.entry, "entry_kind": self.entry_kind, "focus_node": self.focus_node,
                "path": self.path, "field": self.field_name, "value": self.value, "value_turtle": self.value_turtle,
                "severity": self.severity, "message": self.message(lang), "shape": self.shape,
                "constraint": self.constraint}


@dataclass
class Report:
    results: list
    graph: rdflib.Graph = field(repr=False)
    shapes_version: str = ""
    source: str | None = None

    @property
    def violations(self) -> list:
        return [r for r in self.results if r.severity == "violation"]

    @property
    def warnings(self) -> list:
        return [r for r in self.results if r.severity == "warning"]

    @property
    def conforms(self) -> bool:
        """True when nothing is a violation: warnings do not stop an entry."""
        return not self.violations

    def to_json(self, lang: str = "en") -> dict:
        lang = lang if lang in LANGUAGES else "en"
        body = {"conforms": self.conforms, "violations": len(self.violations), "warnings": len(self.warnings),
                "lang": lang, "shapes_version": self.shapes_version,
                "results": [r.to_json(lang) for r in self.results]}
        if self.source is not None:
            body = {"source": self.source} | body
        return body

    def to_turtle(self) -> bytes:
        """The SHACL validation report itself (the entry's blank nodes as blank nodes again)."""
        return self.graph.serialize(format="turtle").encode("utf-8")

    def to_text(self, lang: str = "en") -> str:
        """For people: grouped by entry, then by node and field."""
        lang = lang if lang in LANGUAGES else "en"
        words = TEXT[lang]
        lines = []
        head = f"{self.source}: " if self.source else ""
        status = words["conforms"] if self.conforms else words["fails"]
        summary = words["summary"].format(violations=len(self.violations), warnings=len(self.warnings))
        lines.append(f"{head}{status} ({summary})")
        groups: dict = defaultdict(list)
        for result in self.results:
            groups[(result.entry_kind, result.entry)].append(result)
        for (kind, entry), results in groups.items():
            lines.append(f"  {words[kind]} {_turtle(_uri(entry))}")
            for result in results:
                where = result.field_name or words["node-field"]
                if result.focus_node != entry:
                    where = f"{_turtle(_uri(result.focus_node))} {where}"
                value = f" [{words['value']}: {result.value_turtle}]" if result.value_turtle is not None else ""
                lines.append(f"    {where}: {words[result.severity]}: {result.message(lang)}{value}")
        return "\n".join(lines)


def _uri(text: str):
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _severity(term) -> str:
    return {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}.get(term, "violation")


def _entries(entry: list) -> dict:
    """For every subject of the entry, the study, claim or case it belongs to (nearest by the links
    of the entry), with its kind."""
    rdf_type = ox.NamedNode(str(RDF.type))
    kinds, parents = {}, defaultdict(set)
    for s, p, o in entry:
        if p == rdf_type and isinstance(o, ox.NamedNode) and o.value in ROOT_KINDS:
            kinds.setdefault(_plain(_term(s, True)), ROOT_KINDS[o.value])
        elif p != rdf_type and isinstance(o, (ox.NamedNode, ox.BlankNode)):
            parents[_plain(_term(o, True))].add(_plain(_term(s, True)))
    owners = {}
    for node in {_plain(_term(s, True)) for s, _, _ in entry}:
        seen, queue, found = {node}, deque([node]), None
        while queue and found is None:
            level = sorted(queue)
            queue.clear()
            roots = [n for n in level if n in kinds]
            if roots:
                found = roots[0]
                break
            for n in level:
                for parent in parents.get(n, ()):
                    if parent not in seen:
                        seen.add(parent)
                        queue.append(parent)
        owners[node] = (found, kinds[found]) if found else (node, "node")
    return owners


def build_report(report_graph: rdflib.Graph, entry: list, shapes_version_: str, source: str | None = None) -> Report:
    """The report on the entry's own nodes: results about context nodes are dropped, here and in the
    SHACL report graph."""
    owners = _entries(entry)
    results, kept = [], []
    for node in report_graph.objects(None, SH.result):
        focus = report_graph.value(node, SH.focusNode)
        if _plain(focus) not in owners:
            continue
        kept.append(node)
        path_node = report_graph.value(node, SH.resultPath)
        value = report_graph.value(node, SH.value)
        constraint = report_graph.value(node, SH.sourceConstraint)
        templates = list(report_graph.objects(constraint, SH.message)) if constraint is not None else []
        messages: dict = {}
        for message in report_graph.objects(node, SH.resultMessage):
            for lang, text in _localise(message, templates).items():
                messages.setdefault(lang, text)
        internal = isinstance(path_node, URIRef) and str(path_node).startswith(CLV)
        focus_text = _plain(focus)
        entry_iri, kind = owners.get(focus_text, (focus_text, "node"))
        shape = report_graph.value(node, SH.sourceShape)
        component = report_graph.value(node, SH.sourceConstraintComponent)
        results.append(Result(
            focus_node=focus_text,
            path=None if internal else path_text(report_graph, path_node, full=True),
            field_name=None if internal else path_text(report_graph, path_node),
            value=_plain(value), value_turtle=_turtle(value), severity=_severity(report_graph.value(node, SH.resultSeverity)),
            messages=messages, shape=str(shape) if isinstance(shape, URIRef) else None,
            constraint=compact(str(component)) if component is not None else None,
            entry=entry_iri, entry_kind=kind))
    order = {"violation": 0, "warning": 1, "info": 2}
    results.sort(key=lambda r: (r.entry_kind, r.entry, r.focus_node != r.entry, r.focus_node, r.field_name or "",
                                order[r.severity], r.message("en"), r.value or ""))
    report = Report(results, rdflib.Graph(), shapes_version_, source)
    report.graph = _entry_report_graph(report_graph, kept, report.conforms)
    return report


def _entry_report_graph(graph: rdflib.Graph, results: list, conforms: bool) -> rdflib.Graph:
    """The SHACL report restricted to the entry's results, the entry's blank nodes as blank nodes again."""
    out = rdflib.Graph()
    for prefix, namespace in PREFIXES.items():
        out.bind(prefix, namespace)
    back = lambda t: BNode(t[len(GENID):]) if isinstance(t, URIRef) and t.startswith(GENID) else t  # noqa: E731
    report = BNode()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, Literal(conforms)))
    seen, todo = set(), list(results)
    for result in results:
        out.add((report, SH.result, result))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for _, p, o in graph.triples((node, None, None)):
            out.add((back(node), p, back(o)))
            if isinstance(o, BNode):
                todo.append(o)
    return out


# --- validating ------------------------------------------------------------------------------------
def validate_entry(entry: list, source, settings, *, origin: str | None = None) -> Report:
    """Validate one entry (triples from `parse_entry`) against the shapes and what the store holds."""
    context = context_triples(entry, source, settings) if source is not None else []
    graph, _focus = data_graph(entry, context)
    _, report_graph = run_shacl(graph, shapes_graph(), allow_warnings=True)
    report = build_report(report_graph, entry, shapes_version(), origin)
    stray = [r.focus_node for r in report.results if r.focus_node not in _entries(entry)]
    if stray:  # the design guarantees this never happens; refuse rather than mis-report
        raise RuntimeError(f"validation reported on nodes outside the entry: {stray[:3]}")
    return report


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
