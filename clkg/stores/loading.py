"""Load every named graph of a built embedded store into a remote store, replacing graph by graph.

With a Graph Store endpoint a graph is replaced by one PUT; with only an update endpoint, by one
update request `DROP SILENT GRAPH <g> ; INSERT DATA { GRAPH <g> { ... } }`. Either is one request, so the
store replaces the graph atomically if it can. A graph larger than one request's share (`chunk`) is
sent as the replacing request followed by additions (GSP POST, or INSERT DATA), which readers may see
half done while it runs. A chunk never splits the triples that share a blank node, since each request
has its own blank nodes. Graphs under the deployment's graph base (`<base>graph/`) that the embedded
store no longer has (a deleted contribution) are dropped, and the remote store's count of every graph
is checked against the embedded one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from clkg.stores.remote import LOAD_TIMEOUT, RemoteStore, RemoteStoreError

GSP_CHUNK = 100_000  # triples per Graph Store request
UPDATE_CHUNK = 2_000  # triples per INSERT DATA request (update endpoints parse the whole text at once)


@dataclass
class LoadReport:
    """What a load did: triples per graph loaded, and the stale graphs it dropped."""

    graphs: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def load_graphs(settings, remote: RemoteStore, *, progress: bool = False, chunk: int | None = None,
                source: ox.Store | None = None) -> LoadReport:
    """Replace, in `remote`, every named graph of the embedded store of `settings` (see the module's docstring);
    `source`: an open handle on it (a writer's), else it is opened read-only."""
    from clkg import store

    embedded = source if source is not None else store.open_read_only(settings)
    default_graph = next(iter(embedded.quads_for_pattern(None, None, None, ox.DefaultGraph())), None)
    if default_graph is not None:
        raise RemoteStoreError(remote.query_url, None, "the embedded store has triples in its default graph, "
                                                       "which a remote store's union of graphs would not keep apart")
    graphs = sorted(g.value for g in embedded.named_graphs())
    report = LoadReport()
    jobs = graphs
    if progress:
        from tqdm import tqdm
        jobs = tqdm(graphs, desc="loading into the remote store", unit="graph")
    for graph in jobs:
        triples = [quad.triple for quad in embedded.quads_for_pattern(None, None, None, ox.NamedNode(graph))]
        replace_graph(remote, graph, triples, chunk)
        report.graphs[graph] = len(triples)
    for graph in remote_graphs(remote, settings.graph_iri("")):
        if graph not in report.graphs:
            drop_graph(remote, graph)
            report.dropped.append(graph)
    for graph, expected in report.graphs.items():
        held = count_triples(remote, graph)
        if held != expected:
            raise RemoteStoreError(remote.query_url, None, f"after loading, the store holds {held} triples in <{graph}>; "
                                                           f"the embedded store has {expected}")
    return report


def replace_graph(remote: RemoteStore, graph: str, triples: list, chunk: int | None = None) -> None:
    """Replace one named graph by `triples`: one request if they fit in `chunk`, else the first chunk replaces
    and the others add."""
    if not triples:
        drop_graph(remote, graph)
        return
    use_gsp = bool(remote.gsp_url)
    pieces = chunks(triples, chunk or (GSP_CHUNK if use_gsp else UPDATE_CHUNK))
    for index, piece in enumerate(pieces):
        if use_gsp:
            body = ox.serialize(piece, format=ox.RdfFormat.N_TRIPLES)
            (remote.put_graph if index == 0 else remote.post_graph)(graph, body)
        else:
            target = ox.NamedNode(graph)
            remote.update((f"DROP SILENT GRAPH {target} ;\n" if index == 0 else "") + insert(target, piece),
                          timeout=LOAD_TIMEOUT)


def send_difference(remote: RemoteStore, graph: str, removed: list, added: list, *, whole: set | list) -> None:
    """Change a named graph by removing and adding triples: one update request (`DELETE DATA` then
    `INSERT DATA`, atomic where the store makes a request atomic) when they fit in one, else several;
    without an update endpoint, or with blank nodes (which `DELETE DATA` cannot name), the graph is
    replaced by `whole`."""
    if not removed and not added:
        return
    has_blank = any(isinstance(n, ox.BlankNode) for t in (*removed, *added) for n in (t.subject, t.object))
    if not remote.update_url or has_blank:
        replace_graph(remote, graph, list(whole))
        return
    target = ox.NamedNode(graph)
    operations = [f"DELETE DATA {{ GRAPH {target} {{\n{_lines(piece)}}} }}" for piece in chunks(removed, UPDATE_CHUNK)] \
        + [insert(target, piece) for piece in chunks(added, UPDATE_CHUNK)]
    if len(removed) + len(added) <= UPDATE_CHUNK:
        remote.update(" ;\n".join(operations), timeout=LOAD_TIMEOUT)
        return
    for operation in operations:
        remote.update(operation, timeout=LOAD_TIMEOUT)


def _lines(triples: list) -> str:
    return "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)


def insert(graph: ox.NamedNode, triples: list) -> str:
    """The update operation that adds `triples` to `graph`: INSERT DATA, or where blank nodes occur, an
    INSERT template with an empty WHERE (SPARQL 1.1 allows blank nodes in INSERT DATA; Virtuoso 7 does
    not, and a template makes the same fresh blank nodes, one per label)."""
    lines = _lines(triples)
    if any(isinstance(n, ox.BlankNode) for t in triples for n in (t.subject, t.object)):
        return f"INSERT {{ GRAPH {graph} {{\n{lines}}} }} WHERE {{}}"
    return f"INSERT DATA {{ GRAPH {graph} {{\n{lines}}} }}"


def drop_graph(remote: RemoteStore, graph: str) -> None:
    if remote.gsp_url:
        remote.delete_graph(graph)
    else:
        remote.update(f"DROP SILENT GRAPH {ox.NamedNode(graph)}")


def remote_graphs(remote: RemoteStore, prefix: str) -> list[str]:
    """The named graphs of the remote store whose IRI starts with `prefix`."""
    _, rows = remote.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f"FILTER (STRSTARTS(STR(?g), {ox.Literal(prefix)})) }}")
    return sorted(row["g"].value for row in rows if isinstance(row.get("g"), ox.NamedNode))


def count_triples(remote: RemoteStore, graph: str) -> int:
    _, rows = remote.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def chunks(triples: list, size: int) -> list[list]:
    """Triples in pieces of about `size`, never splitting the triples that share blank nodes (each piece is
    sent on its own, and a blank node means the same node only within one request)."""
    pieces, current = [], []
    for block in blank_node_blocks(triples):
        if current and len(current) + len(block) > size:
            pieces.append(current)
            current = []
        current.extend(block)
    if current:
        pieces.append(current)
    return pieces


def blank_node_blocks(triples: list) -> list[list]:
    """Triples grouped so that triples connected through blank nodes are in one group (union-find)."""
    parent: dict = {}

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def blanks(triple):
        return [n for n in (triple.subject, triple.object) if isinstance(n, ox.BlankNode)]

    for triple in triples:
        nodes = blanks(triple)
        for node in nodes:
            parent.setdefault(node, node)
        if len(nodes) == 2:
            parent[root(nodes[0])] = root(nodes[1])
    groups: dict = {}
    blocks = []
    for triple in triples:
        nodes = blanks(triple)
        if not nodes:
            blocks.append([triple])
            continue
        key = root(nodes[0])
        if key not in groups:
            groups[key] = []
            blocks.append(groups[key])
        groups[key].append(triple)
    return blocks
