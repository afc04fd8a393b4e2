"""The query service: what the web app and the command line share (settings, worker pool, named queries)."""
from __future__ import annotations

from clkg.pool import QueryPool


class Service:
    """What the web app and the command line share: the settings, the worker pool, the named queries."""

    def __init__(self, settings, pool_size: int = 2):
        from clkg import config, namedqueries, store

        self.settings = settings
        self.pool = QueryPool(str(store.store_path(settings)), size=pool_size, timeout=settings.query_timeout)
        self.queries = namedqueries.load_all(config.ROOT / "queries", settings.base_iri)
        self._resolve = namedqueries.parse(config.ROOT / "queries" / "internal" / "resolve-concept.rq",
                                           settings.base_iri).text
        self._generation = store.generation

    def run(self, query: str, *, media_type: str | None = None, accept=None, default_graphs=(), named_graphs=(),
            substitutions=None) -> tuple[bytes, str]:
        """Evaluate a query in a worker, which checks it (clkg/sparqlguard.py) and picks the media type from
        `accept` (a werkzeug Accept object or a header) unless `media_type` is given; returns (body, media type)."""
        header = accept if isinstance(accept, (str, type(None))) else accept.to_header()
        return self.pool.run({
            "query": query, "media_type": media_type, "accept": header, "limit": self.settings.result_limit,
            "max_depth": self.settings.max_query_depth, "base_iri": self.settings.base_iri,
            "default_graphs": list(default_graphs), "named_graphs": list(named_graphs),
            "substitutions": substitutions or {}, "generation": self._generation(self.settings),
        })

    def run_named(self, name: str, args: dict, *, media_type: str | None = None, accept=None):
        """Bind the arguments of a named query (ParameterError names a bad one) and run it."""
        from clkg import namedqueries

        query = self.queries[name]
        substitutions = namedqueries.bind(query, args, self.resolve_concept)
        return self.run(query.text, media_type=media_type, accept=accept, substitutions=substitutions)

    def resolve_concept(self, value: str) -> str | None:
        import json

        body, _ = self.run(self._resolve, media_type="application/sparql-results+json",
                           substitutions={"_value": ("typed", value, None)})
        rows = json.loads(body)["results"]["bindings"]
        return rows[0]["concept"]["value"] if rows else None

    def close(self) -> None:
        self.pool.close()
