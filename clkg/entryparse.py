"""Reading an entry: the syntax chosen, the body checked against the limits, the triples parsed.

An entry comes from anyone, so every limit is decided before the parser that could suffer from it
sees the body, and on a real parser's output, never on tokens:

- the body is UTF-8 (a media type may say `charset=utf-8`, nothing else);
- JSON-LD is first read by Python's `json` (which cannot crash: too deep raises RecursionError) and its
  nesting measured, because Oxigraph's JSON-LD parser recurses and crashes the process on deep bodies;
- RDF/XML is first read by expat, which refuses any document type declaration (so no entity, internal
  or external, ever reaches Oxigraph: no billion laughs, no external entities) and measures the
  element depth;
- Turtle and N-Triples go straight to Oxigraph, whose parser keeps its own stack (measured linear in
  depth); the nesting of the parsed graph is then measured on its triples;
- the triples are counted while Oxigraph streams them, and parsing stops at the limit.

`Limits` carries the numbers (CLKG_MAX_TRIPLES, CLKG_MAX_DEPTH in clkg/config.py).
"""
from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox

from clkg import config
from clkg.vocab import CLV, GENID, RDF

RDF_REST = RDF + "rest"

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


class EntryError(Exception):
    """An entry that cannot be validated at all (unreadable, too large or too deep, empty, reserved
    vocabulary); `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Limits:
    """What one entry may hold: `triples` in all, blank nodes nested `depth` deep (the syntaxes'
    nesting: JSON objects and arrays, XML elements, follow from it)."""

    triples: int = config.Settings.max_triples
    depth: int = config.Settings.max_depth

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.max_triples, settings.max_depth) if settings is not None else cls()

    @property
    def json_depth(self) -> int:
        """A level of blank nodes is an object and, for a list or several values, an array."""
        return 2 * self.depth + 4

    @property
    def xml_depth(self) -> int:
        """RDF/XML alternates node and property elements under rdf:RDF."""
        return 2 * self.depth + 4


def format_for(media_type: str | None = None, path: str | Path | None = None, name: str | None = None):
    """The parser for an entry, by explicit name, media type or file extension (in that order)."""
    if name:
        fmt = FORMAT_NAMES.get(name.lower())
        if fmt is None:
            raise EntryError(400, f"Unknown RDF format {name!r}; use one of: turtle, n-triples, json-ld, rdf-xml.")
        return fmt
    if media_type:
        essence, *parameters = (part.strip() for part in media_type.split(";"))
        fmt = MEDIA_TYPES.get(essence.lower())
        if fmt is None:
            raise EntryError(415, f"Cannot read an entry as {media_type!r}; send text/turtle, application/n-triples, "
                                  "application/ld+json or application/rdf+xml.")
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            charset = value.strip().strip('"').lower()
            if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
                raise EntryError(415, f"An entry is read as UTF-8 only, not as charset {charset!r}: "
                                      "send the body in UTF-8 (charset=utf-8, or no charset).")
        return fmt
    if path is not None:
        fmt = EXTENSIONS.get(Path(path).suffix.lower())
        if fmt is None:
            raise EntryError(400, f"{path}: cannot tell the RDF format from the extension; give --format "
                                  "(turtle, n-triples, json-ld, rdf-xml).")
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


# --- the checks before a parser ----------------------------------------------------------------------
def _utf8(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise EntryError(400, f"The entry is not UTF-8: the byte 0x{data[error.start]:02x} at offset {error.start} "
                              f"(line {line}) is not valid UTF-8. Send the entry in UTF-8.") from None


def _json_depth(data: bytes, limits: Limits) -> None:
    """Measure a JSON-LD body's nesting on Python's own parse of it (iteratively: no recursion here)."""
    try:
        document = json.loads(data)
    except RecursionError:
        raise EntryError(400, f"The JSON-LD entry is nested too deeply (more than {limits.json_depth} levels of "
                              "objects and arrays are allowed).") from None
    except json.JSONDecodeError as error:
        raise EntryError(400, f"The entry is not valid JSON-LD: {error.msg} at line {error.lineno} column "
                              f"{error.colno}.") from None
    todo = deque([(document, 1, "$")])
    while todo:
        value, depth, where = todo.pop()
        if depth > limits.json_depth:
            raise EntryError(400, f"The JSON-LD entry is nested more than {limits.json_depth} levels deep (objects "
                                  f"and arrays), at {where}: flatten it, or describe nested nodes by their @id.")
        if isinstance(value, dict):
            todo.extend((item, depth + 1, f"{where}.{key}"[:200]) for key, item in value.items()
                        if isinstance(item, (dict, list)))
        elif isinstance(value, list):
            todo.extend((item, depth + 1, f"{where}[{i}]"[:200]) for i, item in enumerate(value)
                        if isinstance(item, (dict, list)))


class _Refused(Exception):
    pass


def _xml_checks(data: bytes, limits: Limits) -> None:
    """Read an RDF/XML body with expat first: no document type declaration at all (so no entity can be
    declared, expanded or fetched), elements at most `limits.xml_depth` deep."""
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0

    def where() -> str:
        return f"line {parser.CurrentLineNumber}, column {parser.CurrentColumnNumber + 1}"

    def refuse_doctype(name, *_args):
        raise _Refused(f"The RDF/XML entry declares a document type (<!DOCTYPE {name}> at {where()}): entries may "
                       "not declare a DTD or entities. Write the values out instead.")

    def refuse_entity(name, *_args):
        raise _Refused(f"The RDF/XML entry declares or refers to the entity {name!r} at {where()}: entries may not "
                       "use entities. Write the values out instead.")

    def start(_name, _attributes):
        nonlocal depth
        depth += 1
        if depth > limits.xml_depth:
            raise _Refused(f"The RDF/XML entry nests elements more than {limits.xml_depth} deep (at {where()}): "
                           "describe nested nodes by their rdf:about or rdf:nodeID instead.")

    def end(_name):
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = lambda context, base, system_id, public_id: refuse_entity(system_id)
    parser.SkippedEntityHandler = lambda name, is_parameter: refuse_entity(name)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        raise EntryError(400, str(refused)) from None
    except expat.ExpatError as error:
        raise EntryError(400, f"The entry is not valid RDF/XML: {expat.errors.messages[error.code]} at line "
                              f"{error.lineno}, column {error.offset + 1}.") from None


# --- the parse --------------------------------------------------------------------------------------
def _triples(data: bytes, fmt: ox.RdfFormat, limits: Limits) -> list:
    quads = []
    try:
        for quad in ox.parse(data, format=fmt, base_iri=config.CANONICAL_BASE, without_named_graphs=True):
            quads.append(quad)
            if len(quads) > limits.triples:
                raise EntryError(413, f"The entry holds more than {limits.triples} triples, the limit for one entry "
                                      "(CLKG_MAX_TRIPLES): split it into several entries.")
    except SyntaxError as error:
        raise EntryError(400, f"The entry is not valid {fmt.name}: {error}") from None
    except (ValueError, OSError) as error:
        raise EntryError(400, f"The entry cannot be read as {fmt.name}: {error}") from None
    return quads


def nesting_depth(triples) -> tuple[int, str | None]:
    """How deep blank nodes nest in a parsed graph: the longest chain of blank nodes each the value of
    the one before (an RDF list's rdf:rest is one level, not one per member), measured breadth-first
    from the nodes nothing nests (linear; a blank-node cycle is not nesting). Returns the depth and
    where the deepest chain starts (the IRI above it, or its first blank node), for the message."""
    children, nested, above = defaultdict(list), set(), {}
    for s, p, o in triples:
        if isinstance(o, ox.BlankNode):
            if isinstance(s, ox.BlankNode):
                children[s].append((o, p.value != RDF_REST))
                nested.add(o)
            else:
                above.setdefault(o, f"<{s.value}>")
    start = {node: above.get(node, f"_:{node.value}") for s, _, o in triples for node in (s, o)
             if isinstance(node, ox.BlankNode) and node not in nested}
    level = dict.fromkeys(start, 1)
    todo = deque(start)
    deepest, where = (1, next(iter(start.values()))) if start else (0, None)
    while todo:
        node = todo.popleft()
        for child, step in children.get(node, ()):
            if child not in level:
                level[child], start[child] = level[node] + step, start[node]
                if level[child] > deepest:
                    deepest, where = level[child], start[child]
                todo.append(child)
    return deepest, where


def parse_entry(data: bytes | str, fmt: ox.RdfFormat, base: str = config.CANONICAL_BASE,
                limits: Limits | None = None) -> list:
    """The triples of an entry (canonical IRIs), within `limits`. Raises EntryError with what is wrong
    and where (the parser's line and column)."""
    limits = limits or Limits()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise EntryError(400, "The entry is empty: send one RDF graph describing studies, claims or cases.")
    _utf8(data)
    if fmt == ox.RdfFormat.JSON_LD:
        _json_depth(data, limits)
    elif fmt == ox.RdfFormat.RDF_XML:
        _xml_checks(data, limits)
    quads = _triples(data, fmt, limits)
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
    depth, where = nesting_depth(triples)
    if depth > limits.depth:
        raise EntryError(400, f"The entry nests blank nodes {depth} deep (under {where}); the limit is "
                              f"{limits.depth} (CLKG_MAX_DEPTH): give nested nodes IRIs or flatten them.")
    return list(dict.fromkeys(triples))
