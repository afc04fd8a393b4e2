"""Safe SPARQL evaluation: read-only, local-only, size-limited; what a query worker runs.

`evaluate` checks a query (clkg/sparqlguard.py, on its parse), picks the result's media type, runs it
on a read-only store and serialises the result (bytes); `serve` is the loop of a worker process
(clkg/pool.py starts them), which first raises the sandbox's walls (clkg/sandbox.py).
"""
from __future__ import annotations

import gc
import itertools
import logging
from dataclasses import dataclass, field

import pyoxigraph as ox

from clkg import config, sandbox, sparqlguard
from clkg.config import Settings
from clkg.errors import QueryError

log = logging.getLogger("clkg.sparql")

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
    """Bind variables by an inline VALUES row at the top of the outer WHERE group.

    Where the group opens is found by rdflib's grammar (sparqlguard.where_offset), and the terms are
    written by Oxigraph's own serialisation (IRIs checked, literals escaped): each is one term token, so
    a value can never change the query's structure. Oxigraph's `substitutions` would need the variables
    in the projection, which aggregate queries do not allow. A variable bound to a list of terms gets a
    VALUES block of its own, one row per term.
    """
    brace = sparqlguard.where_offset(text)
    single = {name: term for name, term in bindings.items() if not isinstance(term, list)}
    blocks = [f" VALUES ({' '.join(f'?{name}' for name in single)}) {{ ({' '.join(str(t) for t in single.values())}) }}"] \
        if single else []
    blocks += [f" VALUES ?{name} {{ {' '.join(str(t) for t in terms)} }}" for name, terms in bindings.items()
               if isinstance(terms, list)]
    return f"{text[:brace]}{''.join(blocks)}{text[brace:]}"


def term_from_wire(kind: str, value: str, extra: str | None):
    if kind == "iri":
        return ox.NamedNode(value)
    if kind == "lang":
        return ox.Literal(value, language=extra)
    return ox.Literal(value, datatype=ox.NamedNode(extra) if extra else None)


def accepted_types(header: str | None):
    """The Accept header (as sent by the web process) as werkzeug's object, or None."""
    if not header:
        return None
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    return parse_accept_header(header, MIMEAccept)


@dataclass(frozen=True)
class QueryRequest:
    """One query as the web process sends it to a worker (pickled across the process boundary):
    `substitutions` bind variables (`name -> (kind, value, language or datatype)`, see term_from_wire, or a
    list of those: one VALUES row each);
    `generation` tells the worker when to reopen the store; without `media_type` the worker picks one
    from `accept` (an Accept header) for the query's form."""

    query: str
    limit: int
    generation: str = ""
    media_type: str | None = None
    accept: str | None = None
    max_depth: int = Settings.max_query_depth
    base_iri: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    substitutions: dict = field(default_factory=dict)
    union_graphs: tuple[str, ...] = ()  # a remote store's default graph when the query names none (clkg/stores/)


def checked(request: QueryRequest) -> tuple[sparqlguard.QueryInfo, str, str]:
    """The guard's verdict on a request (clkg/sparqlguard.py: raises QueryError for every refusal), the
    media type of its answer, and its text with the substitutions bound."""
    info = sparqlguard.analyse(request.query, request.max_depth or Settings.max_query_depth)
    media_type = request.media_type or pick_media_type(info.form, accepted_types(request.accept))
    query = request.query
    if request.substitutions:
        query = bind_values(query, {k: [term_from_wire(*t) for t in v] if isinstance(v, list) else term_from_wire(*v)
                                    for k, v in request.substitutions.items()})
    return info, media_type, query


def evaluate(store: ox.Store, request: QueryRequest) -> tuple[bytes, str]:
    """Check, run and serialise one query; raises QueryError with a status for every refusal."""
    info, media_type, query = checked(request)
    options = {}
    if request.base_iri:
        options["base_iri"] = request.base_iri
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    elif not info.has_dataset:
        options["use_default_graph_as_union"] = True
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    try:
        result = store.query(query, **options)
    except SyntaxError as error:
        raise QueryError(400, f"Malformed query: {error}") from None
    return serialise(result, media_type, request.limit)


def serialise(result, media_type: str, limit: int) -> tuple[bytes, str]:
    """A query's result as bytes of the media type, refused past `limit` rows or triples."""
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


@dataclass(frozen=True)
class EmbeddedTarget:
    """Where a query worker finds the embedded store: the link to its current generation (clkg/store.py).
    A remote store's counterpart is clkg/stores/remote_reading.py `RemoteTarget`.

    `in_memory`: small named graphs (the ontology, the evidence counts) of which the worker keeps a copy in
    an in-memory store. A query whose dataset (its FROM and FROM NAMED clauses) names only these graphs is
    answered from the copy: the same quads of the same generation, so the same answer, without the on-disk
    store's cost per index lookup (a few microseconds each, most of the time of the summary queries, which
    read a few hundred counts). The copy of a new generation is made between requests, a step at a time
    (`between_requests`), never on a request's clock: until it is complete, the store answers."""

    path: str
    in_memory: tuple[str, ...] = ()
    needs_network = False  # the worker's seccomp wall stays up: Oxigraph's SERVICE client never reaches out

    def evaluate(self, state: dict, request: QueryRequest) -> tuple[bytes, str]:
        from clkg.store import open_reader

        if state.get("store") is None or request.generation != state.get("generation"):
            state.clear()
            state["store"] = open_reader(self.path)  # never while a writer has the store open, never half swapped
            state["generation"] = request.generation
            if self.in_memory:
                state["copying"] = copy_of_graphs(state["store"], self.in_memory)
        if "memory" in state and self._answers_from_memory(request):
            return evaluate(state["memory"], request)
        return evaluate(state["store"], request)

    def between_requests(self, state: dict) -> bool:
        """One step of the copy of the open generation's kept graphs; True while steps remain."""
        copying = state.get("copying")
        if copying is None:
            return False
        try:
            next(copying)
            return True
        except StopIteration as done:
            state["memory"] = done.value
        except Exception as error:  # the store failed: the queries go on reading it, a fault to look into
            log.error("query worker: no copy of %s in memory: %s: %s", ", ".join(self.in_memory),
                      type(error).__name__, error)
        del state["copying"]
        return False

    def _answers_from_memory(self, request: QueryRequest) -> bool:
        """The request's whole dataset is among the graphs kept in memory: the query names its graphs
        (FROM, FROM NAMED), only those, and the request does not name others (the protocol's
        default-graph-uri and named-graph-uri replace the query's own)."""
        if request.default_graphs or request.named_graphs:
            return False
        dataset = sparqlguard.analyse(request.query, request.max_depth or Settings.max_query_depth).dataset
        return bool(dataset) and dataset <= set(self.in_memory)


COPY_STEP = 256  # quads per step of a copy (about 2 ms): the longest a request waits for one


def copy_of_graphs(store: ox.Store, graphs: tuple[str, ...]):
    """A generator that copies the quads of `graphs` in `store` into an in-memory store, COPY_STEP quads
    per step, and returns that store when done."""
    memory = ox.Store()
    for graph in graphs:
        quads = store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        while step := list(itertools.islice(quads, COPY_STEP)):
            memory.extend(step)
            yield
    return memory


def answer(target, state: dict, request: QueryRequest) -> tuple:
    """One query request, as the reply to send: ("ok", body, media type) or ("error", status, message)."""
    try:
        return ("ok",) + target.evaluate(state, request)
    except QueryError as error:
        return ("error", error.status, error.message)
    except Exception as error:  # the store or the engine failed: a server fault, not the client's
        log.error("query worker: %s: %s", type(error).__name__, error)
        return ("error", 500, f"The query could not be answered because of a server fault ({type(error).__name__}).")


def serve(connection, target, memory_mib: int | None = None) -> None:
    """The query worker: raise the sandbox's walls, then answer requests until told to stop, all on one
    thread with a large stack (pyoxigraph's objects must live and die on the thread that made them).
    A worker without its walls answers every request with 503 and logs why (fail closed).
    `memory_mib` None: the CLKG_WORKER_MEMORY setting (the worker inherits the server's environment).
    `target`: where the queries go (EmbeddedTarget, or a remote store's, whose worker needs the network)."""
    try:
        sandbox.enter(config.worker_memory() if memory_mib is None else memory_mib, network=target.needs_network)
        refusal = None
    except (sandbox.SandboxError, config.SettingError) as error:
        log.critical("query worker refuses to serve: %s", error)
        refusal = ("error", 503, "The query service is not available: its sandbox could not be set up.")
    sandbox.run_on_big_stack(loop, connection, target, refusal)


def loop(connection, target, refusal) -> None:
    """Answer each QueryRequest (the pool's worker entry has already said "ready"); between requests, the
    target's own work (EmbeddedTarget.between_requests), a step at a time, while no request waits."""
    state: dict = {}
    while True:
        while target.between_requests(state) and not connection.poll():
            pass  # the target's work between requests, a step at a time, until a request comes
        request = connection.recv()
        if request is None:
            return
        connection.send(refusal or answer(target, state, request))
        gc.collect(1)  # pyoxigraph's results in reference cycles must be freed on this thread, not at exit
