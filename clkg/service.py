"""The query service: what the web app and the command line share (settings, worker pool, named queries)."""
from __future__ import annotations

from clkg.caller import Caller
from clkg.pool import QueryPool


class Service:
    """What the web app and the command line share: the settings, the worker pool, the named queries."""

    def __init__(self, settings, pool_size: int | None = None):
        """`pool_size`: query workers (default: the setting, sized from the machine)."""
        from clkg import namedqueries, resources, store

        self.settings = settings
        size = pool_size or settings.query_workers
        self.pool = QueryPool(str(store.store_path(settings)), size=size, timeout=settings.query_timeout,
                              per_client=min(settings.query_per_client, size), queue=settings.query_queue,
                              queue_per_client=settings.query_queue_per_client,
                              long_after=settings.query_long_after, long_workers=settings.query_long_workers)
        self.queries = namedqueries.load_all(resources.queries(), settings.base_iri)
        self._resolve = namedqueries.parse(resources.internal_query("resolve-concept"),
                                           settings.base_iri).text
        self._generation = store.generation

    def run(self, query: str, *, media_type: str | None = None, accept=None, default_graphs=(), named_graphs=(),
            substitutions=None, caller: Caller | None = None) -> tuple[bytes, str]:
        """Evaluate a query in a worker, which checks it (clkg/sparqlguard.py) and picks the media type from
        `accept` (a werkzeug Accept object or a header) unless `media_type` is given; returns (body, media type).
        `caller` (default: the current one, clkg/caller.py) gives the client, the deadline and the socket."""
        header = accept if isinstance(accept, (str, type(None))) else accept.to_header()
        return self.pool.run({
            "query": query, "media_type": media_type, "accept": header, "limit": self.settings.result_limit,
            "max_depth": self.settings.max_query_depth, "base_iri": self.settings.base_iri,
            "default_graphs": list(default_graphs), "named_graphs": list(named_graphs),
            "substitutions": substitutions or {}, "generation": self._generation(self.settings),
        }, caller)

    def run_named(self, name: str, args: dict, *, media_type: str | None = None, accept=None,
                  caller: Caller | None = None):
        """Bind the arguments of a named query (ParameterError names a bad one) and run it."""
        from clkg import namedqueries

        query = self.queries[name]
        substitutions = namedqueries.bind(query, args, lambda value: self.resolve_concept(value, caller))
        return self.run(query.text, media_type=media_type, accept=accept, substitutions=substitutions, caller=caller)

    def resolve_concept(self, value: str, caller: Caller | None = None) -> str | None:
        import json

        body, _ = self.run(self._resolve, media_type="application/sparql-results+json",
                           substitutions={"_value": ("typed", value, None)}, caller=caller)
        rows = json.loads(body)["results"]["bindings"]
        return rows[0]["concept"]["value"] if rows else None

    def close(self) -> None:
        self.pool.close()
