"""The write-ahead journal that keeps the store and the contribution files in agreement.

A contribution lives in two places: its named graph in the store and its file
`<data_dir>/contributions/<id>.trig` (a deleted one: `contributions/deleted/<id>.trig`). No single
operation changes both, so every write goes through a record in `<data_dir>/journal/`:

1. `begin`: the record `journal/<id>.ingest` (holding the entry's TriG, the file to be) or
   `journal/<id>.delete` is written aside, fsynced and renamed into place: the intent is durable.
2. The store changes in one transaction (`extend` of the graph, or `remove_graph`): the commit point.
3. `settle`: the files are made to agree with the store (the `.trig` written from the record, or
   moved to `deleted/`, or removed, or moved back), then the record is removed.

The store decides. Recovery (`recover`, run under the store's write lock before anything serves or
writes: app start, every command line that opens the store, every build and every write session)
settles each record left by a crash against the store as it is: for an ingest, graph in the store
-> the file is written (the entry is there: listed, deletable), graph absent -> no file (the entry
is absent, a retry stores it); for a delete, graph absent -> the file goes to `deleted/`, graph
present -> the file stays. Every step is idempotent, so a crash during recovery is recovered the
same way. A record without a store to ask (its directory removed by hand) is settled by the files.

Crash points (clkg/durable.py), in order: `<op>:journal-written` (record aside, not renamed),
`<op>:journaled`, then the caller's store steps, then `<op>:filed` (files agree) and `<op>:settled`
(record removed); `op` is `ingest` or `delete`.
"""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from clkg import config
from clkg.durable import aside_of, crashpoint, fsync_dir, move, write_file

JOURNAL = "journal"
CONTRIBUTIONS = "contributions"
DELETED = "deleted"
INGEST, DELETE = "ingest", "delete"


def graph_iri(contribution_id: str, base: str = config.CANONICAL_BASE) -> str:
    """The named graph of a contribution."""
    return f"{base}graph/contribution/{contribution_id}"


def folder(data_dir) -> Path:
    return Path(data_dir) / JOURNAL


def begin(data_dir, op: str, contribution_id: str, body: bytes = b"") -> Path:
    """Record the intent durably (before the store is touched); returns the record."""
    journal = folder(data_dir)
    journal.mkdir(parents=True, exist_ok=True)
    record = journal / f"{contribution_id}.{op}"
    write_file(record, body, crash_step=f"{op}:journal-written")
    crashpoint(f"{op}:journaled")
    return record


def pending(data_dir) -> list[Path]:
    """Records of operations not yet settled, oldest id first."""
    journal = folder(data_dir)
    if not journal.is_dir():
        return []
    return sorted(p for p in journal.iterdir() if p.suffix in (f".{INGEST}", f".{DELETE}")
                  and not p.name.startswith("."))


def in_store(handle, record: Path, base: str) -> bool:
    """Whether the record's graph is in the store (the deployment's base)."""
    return handle.contains_named_graph(ox.NamedNode(graph_iri(record.stem, base)))


def settle(data_dir, record: Path, present: bool) -> None:
    """Make the files agree with the store (`present`: the record's graph is in it), then drop the record."""
    contributions = Path(data_dir) / CONTRIBUTIONS
    op = record.suffix[1:]
    live = contributions / f"{record.stem}.trig"
    deleted = contributions / DELETED / live.name
    if op == INGEST and present:
        contributions.mkdir(parents=True, exist_ok=True)
        write_file(live, record.read_bytes())
    elif op == INGEST:
        aside_of(live).unlink(missing_ok=True)
        if live.exists():
            live.unlink()
            fsync_dir(contributions)
    elif present and deleted.exists() and not live.exists():  # a delete rolled back
        move(deleted, live)
    elif not present and live.exists():  # a delete rolled forward
        deleted.parent.mkdir(parents=True, exist_ok=True)
        move(live, deleted)
    crashpoint(f"{op}:filed")
    record.unlink(missing_ok=True)
    fsync_dir(record.parent)
    crashpoint(f"{op}:settled")


def recover(data_dir, handle, base: str) -> int:
    """Settle every pending record against the store (`handle`, opened for writing; None: no store,
    the files decide). Returns the records settled."""
    records = pending(data_dir)
    for record in records:
        if handle is not None:
            present = in_store(handle, record, base)
        else:
            present = (Path(data_dir) / CONTRIBUTIONS / f"{record.stem}.trig").exists()
        settle(data_dir, record, present)
    return len(records)


def remove_leftovers(data_dir) -> None:
    """Files written aside by an interrupted step (`.<name>.tmp`): never part of any state."""
    for place in (folder(data_dir), Path(data_dir) / CONTRIBUTIONS):
        if place.is_dir():
            for path in place.glob(".*.tmp"):
                path.unlink(missing_ok=True)
