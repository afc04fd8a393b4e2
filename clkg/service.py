"""The query service: what the web app and the command line share (settings, worker pool, named
queries), with one typed call per kind of answer: `select` (rows of terms), `ask`, `construct`
(triples), `named` (a named query's rows), and `run` for a serialised answer (the endpoint, the API)."""
from __future__ import annotations

import pyoxigraph as ox

from clkg.caller import Caller
from clkg.pool import QueryPool
from clkg.sparql import QueryRequest

SPARQL_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


class Service:
    """What the web app and the command line share: the settings, the worker pool, the named queries."""

    def __init__(self, settings, pool_size: int | None = None):
        """`pool_size`: query workers (default: the setting, sized from the machine)."""
        from clkg import namedqueries, resources, stores

        self.settings = settings
        size = pool_size or settings.query_workers
        self.pool = QueryPool(stores.query_target(settings), size=size, timeout=settings.query_timeout,
                              per_client=min(settings.query_per_client, size), queue=settings.query_queue,
                              queue_per_client=settings.query_queue_per_client,
                              long_after=settings.query_long_after, long_workers=settings.query_long_workers)
        self.queries = namedqueries.load_all(resources.queries(), settings.base_iri)
        self._resolve = namedqueries.parse(resources.internal_query("resolve-concept"),
                                           settings.base_iri).text
        self._serving = stores.serving

    # --- serialised answers ------------------------------------------------------------------------------
    def run(self, query: str, *, media_type: str | None = None, accept=None, default_graphs=(), named_graphs=(),
            substitutions=None, caller: Caller | None = None) -> tuple[bytes, str]:
        """Evaluate a query in a worker, which checks it (clkg/sparqlguard.py) and picks the media type from
        `accept` (a werkzeug Accept object or a header) unless `media_type` is given; returns (body, media type).
        `caller` (default: the current one, clkg/caller.py) gives the client, the deadline and the socket."""
        header = accept if isinstance(accept, (str, type(None))) else accept.to_header()
        serving = self._serving(self.settings)
        request = QueryRequest(query=query, limit=self.settings.result_limit, generation=serving.generation,
                               union_graphs=serving.union_graphs,
                               media_type=media_type, accept=header, max_depth=self.settings.max_query_depth,
                               base_iri=self.settings.base_iri, default_graphs=tuple(default_graphs),
                               named_graphs=tuple(named_graphs), substitutions=dict(substitutions or {}))
        return self.pool.run(request, caller)

    def run_named(self, name: str, args: dict, *, media_type: str | None = None, accept=None,
                  caller: Caller | None = None):
        """Bind the arguments of a named query (ParameterError names a bad one) and run it."""
        from clkg import namedqueries

        query = self.queries[name]
        substitutions = namedqueries.bind(query, args, lambda value: self.resolve_concept(value, caller))
        return self.run(query.text, media_type=media_type, accept=accept, substitutions=substitutions, caller=caller)

    # --- typed answers -----------------------------------------------------------------------------------
    def select(self, query: str, substitutions=None, caller: Caller | None = None) -> list[dict]:
        """The rows of a SELECT: {variable: term} (unbound variables left out)."""
        body, _ = self.run(query, media_type=SPARQL_JSON, substitutions=substitutions, caller=caller)
        return _rows(body)

    def ask(self, query: str, substitutions=None, caller: Caller | None = None) -> bool:
        body, _ = self.run(query, media_type=SPARQL_JSON, substitutions=substitutions, caller=caller)
        return bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def construct(self, query: str, substitutions=None, caller: Caller | None = None) -> list[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE (blank nodes kept apart per call)."""
        body, _ = self.run(query, media_type=N_TRIPLES, substitutions=substitutions, caller=caller)
        return list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)) if body else []

    def named(self, name: str, args: dict | None = None, caller: Caller | None = None) -> list[dict]:
        """The rows of a named query (`queries/*.rq`) with its arguments, as `select` gives them."""
        body, _ = self.run_named(name, args or {}, media_type=SPARQL_JSON, caller=caller)
        return _rows(body)

    def resolve_concept(self, value: str, caller: Caller | None = None) -> str | None:
        rows = self.select(self._resolve, {"_value": ("typed", value, None)}, caller)
        return rows[0]["concept"].value if rows else None

    def close(self) -> None:
        self.pool.close()


def _rows(body: bytes) -> list[dict]:
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    names = [variable.value for variable in results.variables]
    return [{name: solution[name] for name in names if solution[name] is not None} for solution in results]
