"""Answering the product's queries from a remote store, with the same checks and the same answers.

A query worker of a remote deployment does what an embedded one does up to the engine: rdflib's parse
decides what may run (clkg/sparqlguard.py: no update, no SERVICE, no parse tree too deep), the named
query's values are bound the same way, and the answer is read back and serialised here, under the same
result limit, in the media type the client asked for. Between the two, the remote store runs the query.

The dataset is made explicit, because the remote store's own default graph is not the deployment's: a
query that names no graph (no FROM, no `default-graph-uri`) gets the deployment's graphs (as the mirror
recorded them, clkg/stores/mirror.py) as its default graph, as on the embedded store, and as its named
graphs; Virtuoso's union would include its system graphs. A relative IRI resolves against the
deployment's base, as on the embedded store (`BASE` before the query: the last `BASE` wins, so the
query's own still does). Booleans come back in their canonical form (see `canonical_results`).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import pyoxigraph as ox

from clkg.errors import QueryError
from clkg.sparql import QueryRequest, checked, serialise
from clkg.stores.remote import JSON_RESULTS, N_TRIPLES, RemoteStore, RemoteStoreError

GRAPH_FORMS = {"CONSTRUCT", "DESCRIBE"}


@dataclass(frozen=True)
class RemoteTarget:
    """Where a query worker sends the queries of a remote deployment (see the module's docstring)."""

    remote: RemoteStore
    needs_network = True  # the worker asks the store over HTTP, so its seccomp wall is not raised

    def evaluate(self, state: dict, request: QueryRequest) -> tuple[bytes, str]:
        info, media_type, text = checked(request)
        if request.base_iri:
            text = f"BASE {ox.NamedNode(request.base_iri)}\n{text}"
        default, named = request.default_graphs, request.named_graphs
        if not info.has_dataset:
            default = default or request.union_graphs
            named = named or request.union_graphs
        accept = N_TRIPLES if info.form in GRAPH_FORMS else JSON_RESULTS
        try:
            body, _ = self.remote.query(text, accept, default_graphs=default, named_graphs=named)
        except RemoteStoreError as error:
            raise as_query_error(error) from None
        try:
            if info.form in GRAPH_FORMS:
                result = [canonical_triple(quad.triple) for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
            else:
                result = ox.parse_query_results(canonical_results(body), format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError, RecursionError) as error:  # JSON nested past the parser's depth too
            raise QueryError(502, f"The remote store's answer could not be read: {type(error).__name__}: {error}") from None
        return serialise(result, media_type, request.limit)

    def between_requests(self, state: dict) -> bool:
        return False  # nothing is kept: every query goes to the store


BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
CANONICAL_BOOLEAN = {"1": "true", "0": "false"}
BLANK_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def canonical_results(body: bytes) -> bytes:
    """SPARQL JSON results as the product answers them: every xsd:boolean in its canonical form (Virtuoso
    keeps a boolean as a number and answers `true` as "1"^^xsd:boolean: the same value, another term),
    and blank node labels that RDF allows (Virtuoso's `nodeID://b10007` is not one; the same label
    becomes the same new label, so the rows still share their blank nodes)."""
    results = json.loads(body)
    changed = False
    for row in (results.get("results") or {}).get("bindings") or []:
        for term in row.values():
            if term.get("datatype") == BOOLEAN and term.get("value") in CANONICAL_BOOLEAN:
                term["value"] = CANONICAL_BOOLEAN[term["value"]]
                changed = True
            elif term.get("type") == "bnode" and not BLANK_LABEL.fullmatch(str(term.get("value", ""))):
                term["value"] = "b" + hashlib.sha256(str(term.get("value")).encode()).hexdigest()[:24]
                changed = True
    return json.dumps(results).encode("utf-8") if changed else body


def canonical_triple(triple: ox.Triple) -> ox.Triple:
    value = triple.object
    if isinstance(value, ox.Literal) and value.datatype.value == BOOLEAN and value.value in CANONICAL_BOOLEAN:
        return ox.Triple(triple.subject, triple.predicate,
                         ox.Literal(CANONICAL_BOOLEAN[value.value], datatype=value.datatype))
    return triple


def as_query_error(error: RemoteStoreError) -> QueryError:
    """A remote store's refusal as the endpoint's answer: a query it cannot run is the client's 400 (with
    the store's words); no answer in time is a 503; anything else is the store's fault, a 502."""
    if error.status == 400:
        return QueryError(400, f"The store refused the query: {error.message}")
    if error.timed_out:
        return QueryError(503, f"The store did not answer in time ({error.message}).")
    return QueryError(502, f"The store could not answer: {error}")


class RemoteContext:
    """The validation context (clkg/validation.py) read from a remote store, over the deployment's graphs."""

    def __init__(self, remote: RemoteStore, graphs: tuple[str, ...]):
        self.remote, self.graphs = remote, tuple(graphs)

    def construct(self, query: str) -> list:
        return self.remote.construct(query, default_graphs=self.graphs, named_graphs=self.graphs)
