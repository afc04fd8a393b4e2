"""The remote store as a mirror of the embedded one, kept in step with every build and every write.

A deployment on a remote store still builds its embedded store (the reasoner, the counts and the network
measures are computed there) and writes contributions there first, under the journal's protocol; the
remote store then receives what changed through the SPARQL 1.1 protocols, and every read (named queries,
pages, linked data, dumps, validation context) is answered by the remote store.

One file, `<data dir>/remote.json`, says which generation of the embedded store the remote store holds:
its endpoint, the generation token (clkg/store.py `generation_info`) and the deployment's graphs in it.
It is the generation readers see (so an answer cached for it is an answer of the remote store), and it is
replaced, durably, only after a push succeeded. Every write changes the embedded store's generation first,
so whatever stops a push (the remote store down, a crash, a kill) leaves the file behind the embedded
store, and the next start or write loads the remote store again as a whole (`catch_up`) before anything
else: the two never disagree for longer than that, and readers meanwhile see the last complete state.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from clkg import store
from clkg.durable import write_file
from clkg.stores import loading
from clkg.stores.remote import RemoteStore

STATE_FILE = "remote.json"
log = logging.getLogger("clkg.stores")


@dataclass(frozen=True)
class Mirrored:
    """What the remote store holds, as the last successful push or load recorded it."""

    endpoint: str              # the query endpoint it was pushed for (another endpoint holds nothing of it)
    generation: str            # the embedded store's generation token it matches
    graphs: tuple[str, ...]    # the deployment's named graphs in it: the default graph of a query without FROM
    changed: float             # when it was recorded (seconds since the epoch)


def mirrored(settings) -> Mirrored | None:
    """The recorded state, None before the first load (or when the file is unreadable: load again)."""
    path = Path(settings.data_dir) / STATE_FILE
    try:
        with open(path, "rb") as handle:
            changed = Path(path).stat().st_mtime
            data = json.loads(handle.read())
        return Mirrored(str(data["endpoint"]), str(data["generation"]), tuple(map(str, data["graphs"])), changed)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record(settings, remote: RemoteStore, graphs) -> None:
    state = {"endpoint": remote.query_url, "generation": store.generation_info(settings).token,
             "graphs": sorted(graphs)}
    write_file(Path(settings.data_dir) / STATE_FILE, json.dumps(state, indent=1).encode("utf-8"))


def in_step(settings, remote: RemoteStore) -> bool:
    held = mirrored(settings)
    return held is not None and held.endpoint == remote.query_url \
        and held.generation == store.generation_info(settings).token


def load(settings, remote: RemoteStore, *, source: ox.Store | None = None, progress: bool = False) -> loading.LoadReport:
    """Replace every graph of the remote store by the embedded store's (`source`: the writer's handle
    when a write session holds the store) and record it. Call with the writers' lock held."""
    report = loading.load_graphs(settings, remote, source=source, progress=progress)
    _record(settings, remote, report.graphs)
    return report


def catch_up(settings, remote: RemoteStore, *, source: ox.Store | None = None) -> loading.LoadReport | None:
    """Load the remote store as a whole when it does not hold the embedded store's current generation
    (a build, a recovery, a push that did not finish); None when it is in step."""
    if in_step(settings, remote):
        return None
    return load(settings, remote, source=source)


def push_write(settings, remote: RemoteStore, handle: ox.Store, graph: str, quads: list | None,
               counts_before: set) -> None:
    """After a write to the embedded store (`handle`, the writer's): the entry's graph replaced by
    `quads` (or dropped: None), the kept counts that changed sent as a difference, then recorded."""
    if quads is None:
        loading.drop_graph(remote, graph)
    else:
        loading.replace_graph(remote, graph, [quad.triple for quad in quads])
    counts_graph = _counts_graph(settings)
    counts_after = counts_of(settings, handle)
    loading.send_difference(remote, counts_graph, sorted(counts_before - counts_after, key=str),
                            sorted(counts_after - counts_before, key=str), whole=counts_after)
    held = mirrored(settings)
    graphs = set(held.graphs if held else ())
    for name, present in ((graph, quads is not None), (counts_graph, bool(counts_after))):
        (graphs.add if present else graphs.discard)(name)
    _record(settings, remote, graphs)


def counts_of(settings, handle: ox.Store) -> set:
    """The triples of the kept counts (clkg/aggregates.py) in the embedded store, to compare before and after."""
    return {quad.triple for quad in handle.quads_for_pattern(None, None, None, ox.NamedNode(_counts_graph(settings)))}


def _counts_graph(settings) -> str:
    from clkg import aggregates

    return aggregates.graph_iri(settings.base_iri)


class WriteMirror:
    """One write session's side of the mirror (clkg/contributions.py): the remote store brought in step
    when the session begins, its context for validation, the push when the write is done, and its undo
    when the write fails after the push began."""

    def __init__(self, settings, remote: RemoteStore, handle: ox.Store):
        self.settings, self.remote, self.handle = settings, remote, handle
        catch_up(settings, remote, source=handle)
        self.counts_before = counts_of(settings, handle)
        self.pushing = False

    def context(self):
        from clkg.stores.remote_reading import RemoteContext

        held = mirrored(self.settings)
        return RemoteContext(self.remote, held.graphs if held else ())

    def push(self, graph: str, quads: list | None) -> None:
        self.pushing = True
        push_write(self.settings, self.remote, self.handle, graph, quads, self.counts_before)

    def undo(self, graph: str, quads: list | None) -> None:
        """Best effort, after the embedded store was put back: the graph as it was (`quads`, or gone);
        the counts, and anything this misses, are set right by the whole load that the next session or
        start makes (the generation moved on, so the record is behind)."""
        if not self.pushing:
            return
        try:
            if quads is None:
                loading.drop_graph(self.remote, graph)
            else:
                loading.replace_graph(self.remote, graph, [quad.triple for quad in quads])
        except Exception as error:  # the store that failed the push may fail this too; the load follows
            log.warning("the remote store keeps part of a failed write until its next load: %s", error)


def session(settings, handle: ox.Store) -> WriteMirror | None:
    """The mirror's side of a write session, None for an embedded deployment."""
    return WriteMirror(settings, RemoteStore.from_settings(settings), handle) if settings.store == "remote" else None
