"""Contributed entries: validated, then stored all or nothing, each in its own named graph.

A contribution is kept twice:
- as a file `<data_dir>/contributions/<id>.trig`, the system of record (canonical IRIs), which every
  store build loads again (clkg/store.py), so a rebuild never loses an entry;
- in the store, in the named graph `<base>graph/contribution/<id>`, with its provenance in the same
  graph: the graph is a prov:Entity, prov:wasAttributedTo the contributor (`<base>contributor/<slug>`,
  a prov:Agent with a foaf:name), prov:generatedAtTime, and dcterms:conformsTo the version of the
  shapes it was validated with (`<base>shapes/<hash>`, a hash of the files in shapes/).

An ingest is one writer session (store.write_session: exclusive file lock, store opened read-write,
closed before the lock is released), serialised within the process by a lock too. Inside it the entry
is validated against the store as it is at that moment (so two concurrent ingests of the same work
cannot both pass the duplicate check), then written through the journal (clkg/journal.py): the
record first (the entry's TriG, durable), the quads in one transaction, then the file, then the
record removed. A failure undoes the store's step and settles the record (no file, no quads); a crash
is settled by the recovery that runs before the next server, command or write: the entry is then
either wholly there (in the store, listed, deletable) or wholly absent. Deleting works the same way,
and is refused while another graph refers to what the contribution describes (a claim citing its
study, say).

A case's network map is stored with its measures (degree, betweenness, closeness, brokers:
clkg/networks.py), computed from the map after validation and before writing; values the entry
typed by hand are replaced (the shapes warn about them).
"""
from __future__ import annotations

import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from clkg import aggregates, config, journal, networks, store, validation
from clkg.config import Settings
from clkg.durable import crashpoint
from clkg.stores import mirror

PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ID_PATTERN = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")
DELETED = journal.DELETED

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class Refused(Exception):
    """The entry has violations: nothing was written. `report` says why."""

    def __init__(self, report: validation.Report):
        super().__init__(f"the entry has {len(report.violations)} violation(s)")
        self.report = report


class NotFound(Exception):
    pass


class Forbidden(Exception):
    pass


class Conflict(Exception):
    pass


@dataclass
class Contribution:
    id: str
    graph: str
    contributor: str
    generated_at: str
    shapes_version: str
    entries: list

    def to_json(self, url_root: str = "") -> dict:
        return {"id": self.id, "graph": self.graph, "contributor": self.contributor,
                "generatedAtTime": self.generated_at, "shapesVersion": self.shapes_version,
                "entries": self.entries} | ({"url": f"{url_root}api/entries/{self.id}"} if url_root else {})


def folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / store.CONTRIBUTIONS


graph_iri = journal.graph_iri


def agent_iri(contributor: str, base: str = config.CANONICAL_BASE) -> str:
    slug = unicodedata.normalize("NFKD", contributor).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-") or "contributor"
    return f"{base}contributor/{slug}"


def _lock(settings: Settings) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(Path(settings.data_dir).resolve()), threading.Lock())


def _new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)


def check_id(contribution_id: str) -> str:
    if not ID_PATTERN.match(contribution_id or ""):
        raise NotFound(f"No contribution {contribution_id!r}.")
    return contribution_id


def _concepts(quads: list, base: str) -> set[str]:
    """The concepts the claims among `quads` (canonical IRIs) are about, as the store names them: the
    evidence counts (clkg/aggregates.py) a write of these quads changes."""
    about = config.CANONICAL_BASE + "ontology/about"
    return {store.rebase(q.object, base).value for q in quads
            if q.predicate.value == about and isinstance(q.object, ox.NamedNode)}


def _rebased(quads: list, base: str) -> list:
    if base == config.CANONICAL_BASE:
        return quads
    r = store.rebase
    return [ox.Quad(r(q.subject, base), r(q.predicate, base), r(q.object, base), r(q.graph_name, base)) for q in quads]


def _entries(triples) -> list:
    kinds = {validation.CLO + "Study", validation.CLO + "Claim", validation.CLO + "Case"}
    return sorted({t.subject.value for t in triples
                   if t.predicate == RDF_TYPE and t.object.value in kinds and isinstance(t.subject, ox.NamedNode)})


def _fresh_blank_nodes(entry: list) -> list:
    """The entry with new blank nodes: a label like _:authors in two entries must not become one node
    of the store (Oxigraph's blank nodes are shared by all graphs)."""
    fresh: dict = {}

    def term(t):
        return fresh.setdefault(t.value, ox.BlankNode()) if isinstance(t, ox.BlankNode) else t

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in entry]


def ingest(settings: Settings, entry: list, contributor: str,
           runner=validation.check) -> tuple[Contribution, validation.Report]:
    """Validate and store one entry (triples from validation.parse_entry). Raises Refused (nothing
    written) when the entry has violations; returns the contribution and its report (warnings).
    `runner` checks entry + context (the web app's runs in a worker process, clkg/entryworker.py)."""
    contribution_id = _new_id()
    graph = graph_iri(contribution_id)
    version = validation.shapes_version()
    now = ""

    def work(handle: ox.Store):
        nonlocal now
        remote = mirror.session(settings, handle)  # a remote store: in step first, then told the change
        context = remote.context() if remote else validation.StoreContext(handle)
        report = validation.validate_entry(entry, context, settings, runner=runner)
        if not report.conforms:
            return report, False
        stored = networks.with_measures(entry)  # a case's network map carries its computed measures
        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        graph_node = ox.NamedNode(graph)
        agent = ox.NamedNode(agent_iri(contributor))
        provenance = [
            ox.Triple(graph_node, RDF_TYPE, ox.NamedNode(PROV + "Entity")),
            ox.Triple(graph_node, ox.NamedNode(PROV + "wasAttributedTo"), agent),
            ox.Triple(graph_node, ox.NamedNode(PROV + "generatedAtTime"),
                      ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime"))),
            ox.Triple(graph_node, ox.NamedNode(DCTERMS + "conformsTo"),
                      ox.NamedNode(f"{config.CANONICAL_BASE}shapes/{version}")),
            ox.Triple(agent, RDF_TYPE, ox.NamedNode(PROV + "Agent")),
            ox.Triple(agent, ox.NamedNode(FOAF + "name"), ox.Literal(contributor)),
        ]
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph_node) for t in _fresh_blank_nodes(stored) + provenance]
        record_body = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=dict(validation.PREFIXES))
        crashpoint("ingest:validated")
        record = journal.begin(settings.data_dir, journal.INGEST, contribution_id, record_body)
        extended = False
        stored_quads, stored_graph = _rebased(quads, settings.base_iri), graph_iri(contribution_id, settings.base_iri)
        try:
            store.mark_written(settings)  # readers reopen once this session ends, whatever its outcome
            handle.extend(stored_quads)  # one transaction: all quads or none
            extended = True
            crashpoint("ingest:extended")
            # the counts of the concepts the entry is about (an interrupted update: recovery recomputes all)
            aggregates.update_store(handle, settings.base_iri, _concepts(quads, settings.base_iri))
            handle.flush()
            crashpoint("ingest:flushed")
            if remote:
                remote.push(stored_graph, stored_quads)
                crashpoint("ingest:pushed")
            journal.settle(settings.data_dir, record, present=True)  # the file in place, the record removed
        except BaseException:
            if extended:
                handle.remove_graph(ox.NamedNode(stored_graph))
                aggregates.update_store(handle, settings.base_iri, _concepts(quads, settings.base_iri))
                if remote:
                    remote.undo(stored_graph, None)
            journal.settle(settings.data_dir, record, present=False)  # no file, no record
            raise
        return report, True

    with _lock(settings):
        report, accepted = store.write_session(settings, work)
    if not accepted:
        raise Refused(report)
    return Contribution(contribution_id, graph_iri(contribution_id, settings.base_iri), contributor, now, version,
                        _entries(entry)), report


def _file(settings: Settings, contribution_id: str) -> Path:
    path = folder(settings) / f"{check_id(contribution_id)}.trig"
    if not path.is_file():
        raise NotFound(f"No contribution {contribution_id!r}.")
    return path


def trig(settings: Settings, contribution_id: str) -> bytes:
    """A contribution as it is kept: its TriG document (NotFound when there is none)."""
    return _file(settings, contribution_id).read_bytes()


def read(settings: Settings, contribution_id: str) -> tuple[Contribution, list]:
    """A contribution from its file: its metadata and its quads (canonical IRIs)."""
    path = _file(settings, contribution_id)
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG, base_iri=config.CANONICAL_BASE))
    graph = graph_iri(contribution_id)
    meta = {q.predicate.value: q.object for q in quads if q.subject.value == graph}
    agent = meta.get(PROV + "wasAttributedTo")
    names = [q.object.value for q in quads if agent is not None and q.subject == agent
             and q.predicate.value == FOAF + "name"]
    shapes = meta.get(DCTERMS + "conformsTo")
    contribution = Contribution(
        contribution_id, graph_iri(contribution_id, settings.base_iri), names[0] if names else "",
        meta[PROV + "generatedAtTime"].value if PROV + "generatedAtTime" in meta else "",
        shapes.value.rsplit("/", 1)[-1] if shapes is not None else "", _entries(quads))
    return contribution, quads


def list_all(settings: Settings) -> list[Contribution]:
    store.settle_orphans(settings)  # a write another process left half done is settled first
    return [read(settings, path.stem)[0] for path in store.contribution_files(settings)
            if ID_PATTERN.match(path.stem)]


def delete(settings: Settings, contribution_id: str, contributor: str | None = None) -> Contribution:
    """Remove a contribution from the store and move its file to contributions/deleted/ (kept for
    the record, never loaded again). `contributor` None: the local command line, which may delete any."""
    contribution, quads = read(settings, contribution_id)
    if contributor is not None and contribution.contributor != contributor:
        raise Forbidden(f"Contribution {contribution_id} was made by another contributor; only the token that "
                        "made it may delete it.")
    path = folder(settings) / f"{contribution_id}.trig"
    graph = ox.NamedNode(contribution.graph)
    described = sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)
                        and q.subject.value != graph_iri(contribution_id)
                        and not q.subject.value.startswith(config.CANONICAL_BASE + "contributor/")})

    def work(handle: ox.Store):
        if not path.is_file():  # deleted meanwhile (the check above was made before the lock)
            return "missing"
        remote = mirror.session(settings, handle)  # a remote store: in step first, then told the change
        if described:
            values = " ".join(f"<{store.rebase(ox.NamedNode(v), settings.base_iri).value}>" for v in described)
            # a node this contribution introduced (described nowhere else) that another graph refers to
            counts = aggregates.graph_iri(settings.base_iri)  # counts refer to concepts; they are recomputed
            result = handle.query(f"SELECT ?x ?s ?g WHERE {{ VALUES ?x {{ {values} }} GRAPH ?g {{ ?s ?p ?x }} "
                                  f"FILTER (?g != <{graph.value}> && ?g != <{counts}>) "
                                  f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?x ?q ?r }} FILTER (?h != <{graph.value}>) }} "
                                  f"}} LIMIT 1")
            users = [(row["x"].value, row["s"].value, row["g"].value) for row in result]
            del result
            if users:
                return users[0]
        crashpoint("delete:checked")
        record = journal.begin(settings.data_dir, journal.DELETE, contribution_id)
        removed = False
        try:
            store.mark_written(settings)  # readers reopen once this session ends, whatever its outcome
            handle.remove_graph(graph)  # one transaction
            removed = True
            crashpoint("delete:removed")
            # the counts of the concepts it was about (an interrupted update: recovery recomputes all)
            aggregates.update_store(handle, settings.base_iri, _concepts(quads, settings.base_iri))
            handle.flush()
            crashpoint("delete:flushed")
            if remote:
                remote.push(graph.value, None)
                crashpoint("delete:pushed")
            journal.settle(settings.data_dir, record, present=False)  # the file moved to deleted/
        except BaseException:  # put everything back: all or nothing
            if removed:
                restored = _rebased(quads, settings.base_iri)
                handle.extend(restored)
                aggregates.update_store(handle, settings.base_iri, _concepts(quads, settings.base_iri))
                if remote:
                    remote.undo(graph.value, restored)
            journal.settle(settings.data_dir, record, present=True)  # the file back in contributions/
            raise
        return None

    with _lock(settings):
        user = store.write_session(settings, work)
    if user == "missing":
        raise NotFound(f"No contribution {contribution_id!r}.")
    if user is not None:
        raise Conflict(f"Contribution {contribution_id} cannot be deleted: {user[1]} (in <{user[2]}>) refers to "
                       f"{user[0]}, which it describes.")
    return contribution
