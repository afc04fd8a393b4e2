"""Safe SPARQL evaluation: read-only, local-only, size-limited; what a query worker runs.

`analyse` decides whether a query may run at all; `evaluate` runs it on a read-only store and
serialises the result (bytes); `serve` is the loop of a worker process (clkg/pool.py starts them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

# What the endpoint can answer, by query form, first is the default.
RESULT_TYPES = {
    "SELECT": ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values"],
    "ASK": ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
            "text/tab-separated-values"],
    "CONSTRUCT": ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"],
}
RESULT_TYPES["DESCRIBE"] = RESULT_TYPES["CONSTRUCT"]
ALIASES = {"application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml",
           "text/xml": "application/sparql-results+xml"}


class QueryError(Exception):
    """A query the endpoint will not answer; `status` is the HTTP status to give."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --- static analysis -------------------------------------------------------------------------------
_TOKENS = re.compile(
    r'(?P<skip>#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>)'
    r'|(?P<word>(?<![\w:?$])[A-Za-z]+(?![\w:]))', re.S)
UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


@dataclass
class QueryInfo:
    form: str
    keywords: set = field(default_factory=set)

    @property
    def has_dataset(self) -> bool:
        return "FROM" in self.keywords


def keywords(text: str) -> list[str]:
    """Bare keywords of a query, outside comments, strings and IRIs, upper-cased, in order."""
    return [m.group("word").upper() for m in _TOKENS.finditer(text) if m.group("word")]


def analyse(text: str) -> QueryInfo:
    """Refuse what must never run (updates, SERVICE) and tell the query form."""
    words = keywords(text)
    found = set(words)
    form = next((w for w in words if w in FORMS), None)
    if form is None and found & UPDATE_WORDS:
        raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only "
                              f"(found {sorted(found & UPDATE_WORDS)[0]}).")
    if "SERVICE" in found:
        raise QueryError(403, "SERVICE is not allowed: queries are answered from this store only.")
    if form is None:
        raise QueryError(400, "Malformed query: expected SELECT, ASK, CONSTRUCT or DESCRIBE.")
    return QueryInfo(form, found)


def pick_media_type(form: str, accepted) -> str:
    """Best media type for a query form given a werkzeug Accept object (None: the default)."""
    offers = RESULT_TYPES[form]
    if accepted is None or not accepted.values():
        return offers[0]
    candidates = offers + [alias for alias, target in ALIASES.items() if target in offers]
    best = accepted.best_match(candidates)
    if best is None:
        raise QueryError(406, f"Cannot serve {form} results as {accepted.to_header()}; "
                              f"available: {', '.join(offers)}.")
    return ALIASES.get(best, best)


# --- evaluation (runs in a worker process) ---------------------------------------------------------
class _TooMany(Exception):
    pass


class _LineLimit:
    """A write-only buffer that stops the serialiser after `limit` data lines (TSV rows)."""

    def __init__(self, limit: int):
        self.limit, self.lines, self.chunks = limit, -1, []  # the header line is not a row

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        if self.lines > self.limit:
            raise _TooMany()
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass


def bind_values(text: str, bindings: dict) -> str:
    """Bind variables by an inline VALUES block at the top of the outer WHERE group.

    Terms are written by Oxigraph's own serialisation (IRIs checked, literals escaped), so a value
    can never change the query's structure. Oxigraph's `substitutions` would need the variables in the
    projection, which aggregate queries do not allow.
    """
    for match in _TOKENS.finditer(text):
        if match.group("word") and match.group("word").upper() == "WHERE":
            brace = text.index("{", match.end())
            names = " ".join(f"?{name}" for name in bindings)
            row = " ".join(str(term) for term in bindings.values())
            return f"{text[:brace + 1]} VALUES ({names}) {{ ({row}) }}{text[brace + 1:]}"
    raise QueryError(400, "A parameterised query needs a WHERE clause.")


def term_from_wire(kind: str, value: str, extra: str | None):
    if kind == "iri":
        return ox.NamedNode(value)
    if kind == "lang":
        return ox.Literal(value, language=extra)
    return ox.Literal(value, datatype=ox.NamedNode(extra) if extra else None)


def evaluate(store: ox.Store, request: dict) -> tuple[bytes, str]:
    """Run one query and serialise it; raises QueryError with a status for every refusal."""
    options = {}
    if request.get("default_graphs"):
        options["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
    elif not request.get("has_dataset"):
        options["use_default_graph_as_union"] = True
    if request.get("named_graphs"):
        options["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
    query = request["query"]
    if request.get("substitutions"):
        query = bind_values(query, {k: term_from_wire(*v) for k, v in request["substitutions"].items()})
    try:
        result = store.query(query, **options)
    except SyntaxError as error:
        raise QueryError(400, f"Malformed query: {error}") from None
    media_type, limit = request["media_type"], request["limit"]
    try:
        if isinstance(result, ox.QueryBoolean):
            fmt = ox.QueryResultsFormat.from_media_type(media_type)
            return result.serialize(format=fmt), media_type
        if isinstance(result, ox.QuerySolutions):
            buffer = _LineLimit(limit)
            result.serialize(buffer, format=ox.QueryResultsFormat.TSV)
            tsv = b"".join(buffer.chunks)
            if media_type == "text/tab-separated-values":
                return tsv, media_type
            parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
            return parsed.serialize(format=ox.QueryResultsFormat.from_media_type(media_type)), media_type
        triples = []
        for triple in result:
            triples.append(triple)
            if len(triples) > limit:
                raise _TooMany()
        return ox.serialize(triples, format=ox.RdfFormat.from_media_type(media_type)) or b"", media_type
    except _TooMany:
        raise QueryError(400, f"The result exceeds the limit of {limit} rows; narrow the query or add a LIMIT.") from None
    except OSError as error:
        raise QueryError(400, f"Query failed: {error}") from None


def serve(connection, store_dir: str) -> None:
    """The query worker's loop: open the store read-only, answer requests until told to stop."""
    from clkg.store import open_reader

    store, opened_generation = None, None
    while True:
        request = connection.recv()
        if request is None:
            return
        try:
            if store is None or request["generation"] != opened_generation:
                store, opened_generation = None, None
                store = open_reader(store_dir)  # never while a writer has the store open, never half swapped
                opened_generation = request["generation"]
            connection.send(("ok",) + evaluate(store, request))
        except QueryError as error:
            connection.send(("error", error.status, error.message))
        except Exception as error:  # the store or the engine failed: report, keep the worker alive
            connection.send(("error", 400, f"Query failed: {error}"))
