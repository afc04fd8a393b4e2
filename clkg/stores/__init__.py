"""The store a deployment serves from, whichever it is: the embedded Oxigraph store (the default), or a
remote triple store (CLKG_STORE=remote) that mirrors it (`mirror`). What the web app and the command
line need of a store is asked here, one function per need, so that nothing else knows which store it is:

- `query_target`: where the query workers send their queries (clkg/sparql.py `EmbeddedTarget`, or
  `remote_reading.RemoteTarget`);
- `serving`: the generation readers see (what caches and ETags are keyed on) and, for a remote store,
  the deployment's graphs, which are the default graph of a query that names none;
- `graph_quads`: a named graph's (or every graph's) quads, for the dumps;
- `select_all`: every row of one of the project's own SELECT queries, without the result limit (the
  texts of the full-text index, clkg/fulltext.py);
- `validation_source`: where the validation context is read (clkg/validation.py);
- `catch_up`: bring a remote store in step with the embedded one before serving (a no-op when it is).

Submodules: `remote` (the SPARQL 1.1 protocols' client), `loading` (graphs into a remote store),
`mirror` (keeping it in step), `remote_reading` (answering queries from it).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from clkg import store
from clkg.store import GenerationInfo
from clkg.stores import mirror, remote_reading
from clkg.stores.remote import RemoteStore


@dataclass(frozen=True)
class Serving:
    """What a reader needs to know of the store it reads, per request."""

    generation: str                 # changes whenever what is served changes (workers reopen, caches drop)
    union_graphs: tuple[str, ...]   # a remote store's default graph for queries that name none; () embedded


def remote_of(settings) -> RemoteStore | None:
    """The remote store of the settings (RemoteStoreError names a missing setting); None when embedded."""
    return RemoteStore.from_settings(settings) if settings.store == "remote" else None


# The embedded store's graphs that query workers keep in memory as well (clkg/sparql.py `EmbeddedTarget`):
# small (a few thousand quads each), and all that the summary queries (evidence map, contested concepts,
# evidence gaps) read, naming them in FROM and FROM NAMED.
IN_MEMORY_GRAPHS = ("ontology", "aggregates")


def query_target(settings):
    from clkg.sparql import EmbeddedTarget

    remote = remote_of(settings)
    if remote:
        return remote_reading.RemoteTarget(remote)
    return EmbeddedTarget(str(store.store_path(settings)), tuple(settings.graph_iri(g) for g in IN_MEMORY_GRAPHS))


def serving(settings) -> Serving:
    if settings.store != "remote":
        return Serving(store.generation(settings), ())
    held = mirror.mirrored(settings)
    return Serving(_token(held), held.graphs if held else ())


def generation_info(settings) -> GenerationInfo:
    """The served generation (clkg/store.py `GenerationInfo`): a remote store's is the one it was last
    brought to (clkg/stores/mirror.py), which changes only once it holds a write."""
    embedded = store.generation_info(settings)
    if settings.store != "remote":
        return embedded
    held = mirror.mirrored(settings)
    return GenerationInfo(_token(held), embedded.built, held.changed if held else 0.0)


def _token(held: mirror.Mirrored | None) -> str:
    if held is None:
        return ""
    return hashlib.sha256(f"{held.endpoint}\n{held.generation}".encode()).hexdigest()[:16]


def graph_quads(settings, graph_iri: str | None = None) -> list[ox.Quad]:
    """The quads of one named graph, or of every graph of the deployment (None), from the served store."""
    remote = remote_of(settings)
    if remote is None:
        return store.named_graph_quads(settings, graph_iri)
    held = mirror.mirrored(settings)
    graphs = [graph_iri] if graph_iri is not None else list(held.graphs if held else ())
    quads = []
    for graph in graphs:
        node = ox.NamedNode(graph)
        if remote.gsp_url:
            triples = remote.get_graph(graph) or []
        else:
            triples = remote.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}")
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in triples)
    return quads


def select_all(settings, text: str) -> list[dict]:
    """Every row ({variable: pyoxigraph term}, unbound left out) of a SELECT query the project wrote
    (never a visitor's: it runs without the query workers' limits), on the served store, whose default
    graph is the union of the deployment's graphs."""
    remote = remote_of(settings)
    if remote is not None:
        held = mirror.mirrored(settings)
        graphs = held.graphs if held else ()
        return remote.select(text, default_graphs=graphs, named_graphs=graphs)[1]
    reader = store.open_read_only(settings)
    try:
        result = reader.query(text, use_default_graph_as_union=True)
        names = [v.value for v in result.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in result]
    finally:
        del reader


def validation_source(settings):
    """Where the validation context of an entry is read (an object with `construct(query)`)."""
    from clkg import validation

    remote = remote_of(settings)
    if remote is None:
        return validation.StoreContext(store.open_read_only(settings))
    held = mirror.mirrored(settings)
    return remote_reading.RemoteContext(remote, held.graphs if held else ())


def prepare(settings, *, progress: bool = False, reason: bool | None = None) -> None:
    """Before reading: build the embedded store if a source changed, then bring a remote store in step."""
    store.build(settings, progress=progress, reason=reason)
    catch_up(settings)


def catch_up(settings) -> None:
    """Before serving from a remote store: load it whole unless it holds the embedded store's current
    generation (clkg/stores/mirror.py). Takes the writers' lock, so no write runs meanwhile."""
    remote = remote_of(settings)
    if remote is None or mirror.in_step(settings, remote):
        return
    with store.lock(settings.data_dir, name=store.WRITERS_LOCK):
        mirror.catch_up(settings, remote)
