"""The embedded on-disk store (Oxigraph): built from the Turtle sources into named graphs.

The store is rebuilt only when a source file changed (a fingerprint of the sources is kept beside
it). A rebuild writes a fresh directory and swaps it in, so readers of the old one are not disturbed.
Data files are written against the canonical base IRI; a deployment under another base gets every
IRI rewritten here, once, at build time.

Contributed entries (clkg/contributions.py) are kept as TriG files in <data_dir>/contributions/, the
system of record, and every build loads them into their named graphs, so a rebuild never loses one.
Oxigraph allows one writer process. Two file locks: <data_dir>/writers.lock lets one writer at a time
work (a build from reading the contribution files to its swap, an ingest, a delete, a recovery);
<data_dir>/write.lock is held exclusively while the current store is open read-write or the link
changes, and shared by the query workers while they open their read-only handles. So a build that
loads a new store for seconds does not hold up readers, only other writers. After a write,
`mark_written` changes the generation so that the workers reopen.
The journal (clkg/journal.py) keeps the store and the files in agreement across crashes.

Versioned stores: each build writes `store-<n>.building`, renames it `store-<n>` once complete
(flushed, fsynced), then points the symbolic link `store` at it by one atomic rename (`os.replace`
of a fresh link). Readers resolve the link under the shared lock and open the directory it names,
so the store they open is always complete; the previous generation is kept (a reader may still have
it open) and older ones are removed. Whatever the moment of a crash, `store` names a complete store
(the old one until the rename, the new one after). `recover` (run before anything serves or writes)
removes half-built directories, moves a store of the older layout (a plain `store` directory) to a
generation, points a missing link at the newest complete generation, and settles the journal.
Crash points of a build: `build:loaded`, `build:built`, `build:completed`, `build:linked`,
`build:swapped`, `build:stamped`; of recovery: `recover:moved` (an older-layout store moved, not linked).
A running server also settles records a dead writer left before it lists contributions
(`settle_orphans`): a record seen while nobody holds the write lock is an orphan.

After loading, a build computes the network measures of every case's network map (clkg/networks.py)
and stores them with the map, in the map's own named graph; a change of the measures' rules
(`networks.VERSION`) rebuilds the store.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from clkg import aggregates, config, journal, networks
from clkg.config import Settings
from clkg.durable import crashpoint, fsync_dir, fsync_tree

STORE_DIR = "store"  # the link to the current generation, store-<n>
BUILDING = ".building"
LINK_ASIDE = ".store.link"
FINGERPRINT = "fingerprint.json"
INFERRED = "inferred"
REASONED = "reasoned"  # the reasoner's last answer, by the digest of its input (and of clkg/reasoning.py)
LOCK_FILE = "write.lock"  # the current store's: writers exclusive, readers shared while they open it
WRITERS_LOCK = "writers.lock"  # one writer at a time; readers never take it
CONTRIBUTIONS = journal.CONTRIBUTIONS


class BuildError(Exception):
    """A source file could not be loaded; the message names the file and the position."""


def source_files(settings: Settings) -> dict[str, list[Path]]:
    """Turtle files per named graph, in a stable order."""
    files = {}
    for graph, dirs in settings.source_dirs.items():
        paths = [p for d in dirs if Path(d).is_dir() for p in sorted(Path(d).rglob("*.ttl"))]
        files[graph] = paths
    return files


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256(settings.base_iri.encode())
    for graph, paths in source_files(settings).items():
        for path in paths:
            digest.update(f"{graph}|{path.name}|".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def store_path(settings: Settings) -> Path:
    """The link to the current store (open it with `open_read_only` or `open_reader`, which resolve it)."""
    return Path(settings.data_dir) / STORE_DIR


def current_store(data_dir) -> Path | None:
    """The directory of the current store, the link resolved; None when there is none."""
    pointer = Path(data_dir) / STORE_DIR
    if pointer.is_symlink():
        target = pointer.parent / os.readlink(pointer)
        return target if target.is_dir() else None
    return pointer if pointer.is_dir() else None  # the older layout, until `recover` moves it


def _generations(data_dir: Path) -> dict[int, Path]:
    """The complete stores, by generation number."""
    found = {}
    for path in data_dir.glob(f"{STORE_DIR}-*"):
        number = path.name[len(STORE_DIR) + 1:]
        if number.isdigit() and path.is_dir():
            found[int(number)] = path
    return found


def _generation_number(path: Path | None) -> int:
    suffix = path.name[len(STORE_DIR) + 1:] if path is not None else ""
    return int(suffix) if suffix.isdigit() else -1


def rebase(term, base: str):
    """Map a canonical-base IRI to the deployment's base (no-op when they are equal)."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(config.CANONICAL_BASE):
        return ox.NamedNode(base + term.value[len(config.CANONICAL_BASE):])
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(config.CANONICAL_BASE):
        return ox.Literal(term.value, datatype=rebase(term.datatype, base))
    return term


def read_turtle(path: Path, graph: ox.NamedNode, base: str):
    """Quads of one Turtle file in the given graph, IRIs rebased."""
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=config.CANONICAL_BASE))
    except SyntaxError as error:
        raise BuildError(f"{path}: {error}") from None
    if base == config.CANONICAL_BASE:
        return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]
    return [ox.Quad(rebase(q.subject, base), rebase(q.predicate, base), rebase(q.object, base), graph) for q in quads]


def contribution_files(settings: Settings) -> list[Path]:
    """The contributed entries, one TriG file each (its named graph and provenance inside)."""
    folder = Path(settings.data_dir) / CONTRIBUTIONS
    return sorted(folder.glob("*.trig")) if folder.is_dir() else []


def read_contribution(path: Path, base: str) -> list:
    """Quads of one contribution file (written against the canonical base), IRIs rebased."""
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG, base_iri=config.CANONICAL_BASE))
    except SyntaxError as error:
        raise BuildError(f"{path}: {error}") from None
    if base == config.CANONICAL_BASE:
        return quads
    return [ox.Quad(rebase(q.subject, base), rebase(q.predicate, base), rebase(q.object, base),
                    rebase(q.graph_name, base)) for q in quads]


def inferred_quads(settings: Settings, files: dict[str, list[Path]]):
    """Class memberships the reasoner infers for the instance data, for the `inferred` graph.

    HermiT is most of a cold build, so its answer is kept in `<data_dir>/reasoned/<digest>.nt`, keyed by
    the ontology and evidence files it read (canonical IRIs, so a change of base reuses it too): a build
    reasons again only when one of those files changed."""
    paths = [p for graph in ("ontology", "evidence") for p in files.get(graph, [])]
    digest = hashlib.sha256(Path(__file__).with_name("reasoning.py").read_bytes())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    kept = Path(settings.data_dir) / REASONED / f"{digest.hexdigest()[:32]}.nt"
    if kept.is_file():
        text = kept.read_bytes()
    else:
        from clkg import reasoning  # Java and owlready2 are only needed when a build reasons

        try:
            inferred = reasoning.materialise(paths)
        except (reasoning.InconsistentGraph, reasoning.ReasonerError) as error:
            raise BuildError(f"the reasoner refused the ontology and evidence: {error}") from None
        text = inferred.serialize(format="nt").encode()
        shutil.rmtree(kept.parent, ignore_errors=True)  # one answer kept: the last sources'
        kept.parent.mkdir(parents=True, exist_ok=True)
        aside = kept.with_suffix(".tmp")
        aside.write_bytes(text)
        os.replace(aside, kept)
    graph = ox.NamedNode(settings.graph_iri(INFERRED))
    quads = ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
    return [ox.Quad(rebase(q.subject, settings.base_iri), q.predicate, rebase(q.object, settings.base_iri), graph)
            for q in quads]


def build(settings: Settings, *, force: bool = False, reason: bool | None = None, progress: bool = False) -> bool:
    """Rebuild the store when the sources changed (or when forced). Returns True if it rebuilt.

    `reason=None` keeps the choice of the last build (reasoning on for a first build).
    """
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    recover(settings)
    stamp = fingerprint(settings)
    stamp_file = data_dir / FINGERPRINT
    last = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    if reason is None:
        reason = last.get("reason", True)
    if (not force and current_store(data_dir) is not None and last.get("sources") == stamp
            and last.get("reason") == reason and last.get("measures") == networks.VERSION
            and last.get("aggregates") == aggregates.VERSION):
        return False
    files = source_files(settings)
    jobs = [(graph, path) for graph, paths in files.items() for path in paths]
    if progress:
        from tqdm import tqdm
        jobs = tqdm(jobs, desc="reading", unit="file")
    # every file is parsed first, so a syntax error is reported (file, line, column) before anything runs
    sources = [read_turtle(path, ox.NamedNode(settings.graph_iri(graph)), settings.base_iri) for graph, path in jobs]
    # the reasoner may take minutes: it runs before the lock is taken, on the source files alone
    inferred = inferred_quads(settings, files) if reason and files.get("ontology") else []
    with lock(data_dir, name=WRITERS_LOCK):  # no ingest may write into the old store until the new one is in
        with lock(data_dir):
            _recover_locked(settings)  # the journal settled against the old store: the files are the truth
        number = max([time.time_ns(), *(n + 1 for n in _generations(data_dir))])
        complete = data_dir / f"{STORE_DIR}-{number}"
        fresh = complete.with_name(complete.name + BUILDING)
        store = ox.Store(str(fresh))
        try:
            for quads in sources:
                store.bulk_extend(quads)
            for path in contribution_files(settings):
                store.bulk_extend(read_contribution(path, settings.base_iri))
            crashpoint("build:loaded")
            store.bulk_extend(inferred)
            networks.update_store(store, settings.base_iri)  # the network maps' measures, in each map's graph
            aggregates.update_store(store, settings.base_iri)  # the evidence counts, in their own graph
            store.flush()
            store.optimize()
        except Exception:
            del store
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        del store
        fsync_tree(fresh)
        crashpoint("build:built")
        os.rename(fresh, complete)
        fsync_dir(data_dir)
        crashpoint("build:completed")
        with lock(data_dir):  # readers resolve the link before or after the swap, never during it
            _point(data_dir, complete)
            _write_stamp(stamp_file, {"sources": stamp, "reason": reason, "measures": networks.VERSION,
                                      "aggregates": aggregates.VERSION, "built": time.time()})
            crashpoint("build:stamped")
            _prune(data_dir)
    return True


def _point(data_dir: Path, target: Path) -> None:
    """Make `store` name `target`: a fresh link renamed over the old one, one atomic step."""
    link = data_dir / LINK_ASIDE
    link.unlink(missing_ok=True)
    os.symlink(target.name, link)
    crashpoint("build:linked")
    os.replace(link, data_dir / STORE_DIR)
    fsync_dir(data_dir)
    crashpoint("build:swapped")


def _prune(data_dir: Path) -> None:
    """Remove every store directory but the current one and the one before it (a reader may still
    have it open): half-built ones, complete ones never pointed at, older generations."""
    current = _generation_number(current_store(data_dir))
    older = [n for n in _generations(data_dir) if n < current]
    keep = {current, max(older, default=-1)}
    for number, path in _generations(data_dir).items():
        if current >= 0 and number not in keep:  # with no current store, every complete one is kept
            shutil.rmtree(path, ignore_errors=True)
    for path in data_dir.glob(f"{STORE_DIR}-*{BUILDING}"):
        shutil.rmtree(path, ignore_errors=True)
    for name in (f"{STORE_DIR}.new", f"{STORE_DIR}.old", LINK_ASIDE):  # the older layout's swap, a link aside
        path = data_dir / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def recover(settings: Settings) -> None:
    """Bring the data directory to a consistent state before anything serves or writes: the store
    link names a complete store and every journal record is settled (see the module docstring)."""
    with lock(settings.data_dir, name=WRITERS_LOCK), lock(settings.data_dir):
        _recover_locked(settings)


def settle_orphans(settings: Settings) -> None:
    """Settle the journal records of a writer that died, without waiting: a record seen while no writer
    holds the lock is an orphan (a writer holds it from its record to the record's removal). A running
    server calls this before it lists contributions, so a command-line write killed beside it is
    settled without a restart."""
    if journal.pending(settings.data_dir):
        with lock(settings.data_dir, wait=False, name=WRITERS_LOCK) as held:
            if held:
                with lock(settings.data_dir):
                    _recover_locked(settings)


def _recover_locked(settings: Settings) -> None:
    data_dir = Path(settings.data_dir)
    pointer = data_dir / STORE_DIR
    legacy_old = data_dir / f"{STORE_DIR}.old"
    if not pointer.is_symlink() and not pointer.exists() and legacy_old.is_dir():
        os.rename(legacy_old, pointer)  # the older layout, stopped inside its swap: the old store was complete
    if pointer.is_dir() and not pointer.is_symlink():  # the older layout: the store becomes a generation
        generation = data_dir / f"{STORE_DIR}-{time.time_ns()}"
        os.rename(pointer, generation)
        fsync_dir(data_dir)
        crashpoint("recover:moved")
    if current_store(data_dir) is None and _generations(data_dir):
        generations = _generations(data_dir)
        _point(data_dir, generations[max(generations)])
    _prune(data_dir)
    for stale in data_dir.glob(f".{FINGERPRINT}.*.tmp"):
        stale.unlink(missing_ok=True)
    journal.remove_leftovers(data_dir)
    if not journal.pending(data_dir):
        return
    current = current_store(data_dir)
    writer = Writer(current) if current is not None else None
    try:
        journal.recover(data_dir, writer, settings.base_iri)
        if writer is not None:
            aggregates.update_store(writer, settings.base_iri)  # the interrupted write may have left them stale
            writer.flush()
    finally:
        if writer is not None:
            writer.close()
    mark_written(settings)


def open_read_only(settings: Settings) -> ox.Store:
    return open_reader(store_path(settings))


def open_reader(pointer) -> ox.Store:
    """Open the store the link names, read-only: resolved under the shared lock, so never half swapped,
    and opened by its own directory, so a later swap cannot mix two generations' files."""
    pointer = Path(pointer)
    with lock(pointer.parent, shared=True):
        current = current_store(pointer.parent)
        if current is None:
            raise FileNotFoundError(f"no store at {pointer}: build it first (clkg build)")
        return ox.Store.read_only(str(current))


@contextmanager
def lock(data_dir, *, shared: bool = False, wait: bool = True, name: str = LOCK_FILE):
    """A file lock in the data directory (see the module docstring): the store's lock (write.lock) by
    default, exclusive for a writer, shared for opening readers; or `name=WRITERS_LOCK`. Yields True
    when held; with `wait=False`, False at once if another holds it."""
    path = Path(data_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Writer:
    """The writer's handle on the store for one session. `close` drops the only reference to the
    Oxigraph store, which closes it (and releases RocksDB's own lock), whatever still refers to this
    object: frames kept alive by a reference cycle (pyparsing's exceptions make them during a
    validation) would otherwise keep the store open after the session."""

    def __init__(self, path: Path):
        self._store = ox.Store(str(path))

    def __getattr__(self, name):
        if self._store is None:
            raise RuntimeError("the writer session is over")
        return getattr(self._store, name)

    def close(self) -> None:
        self._store = None


def write_session(settings: Settings, work):
    """Run `work(writer)` as the one writer: under the exclusive lock, on the store opened read-write,
    flushed and closed before the lock is released. Its changes should be one `writer.extend` (a
    transaction), so that a failure leaves nothing behind; a query result must not outlive `work`."""
    with lock(settings.data_dir, name=WRITERS_LOCK), lock(settings.data_dir):
        _recover_locked(settings)  # a write of another process may have been interrupted
        current = current_store(settings.data_dir)
        if current is None:
            raise FileNotFoundError(f"no store at {store_path(settings)}: build it first (clkg build)")
        writer = Writer(current)
        try:
            result = work(writer)
            writer.flush()
            return result
        finally:
            writer.close()


def mark_written(settings: Settings) -> None:
    """Change the generation after a write (keeping the build's keys), so that readers reopen the store."""
    stamp_file = Path(settings.data_dir) / FINGERPRINT
    stamp = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    stamp["written"] = time.time_ns()
    _write_stamp(stamp_file, stamp)


def _write_stamp(stamp_file: Path, stamp: dict) -> None:
    """Replace the fingerprint file atomically: a reader never sees half of it."""
    temporary = stamp_file.with_name(f".{stamp_file.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(stamp))
    os.replace(temporary, stamp_file)


def generation(settings: Settings) -> str:
    """Changes whenever the store is rebuilt or written, so readers know to reopen it."""
    stamp_file = Path(settings.data_dir) / FINGERPRINT
    return stamp_file.read_text() if stamp_file.is_file() else ""


@dataclass(frozen=True)
class GenerationInfo:
    """What a reader needs to know of the store's state, without knowing how the store keeps it."""

    token: str             # short; changes with every build and every write
    built: float | None    # when the store was built (seconds since the epoch), None if unknown
    changed: float         # when the generation began (a build or a write), 0.0 before any build


def generation_info(settings: Settings) -> GenerationInfo:
    """The current generation: its token, build time and the time it began (read from one open file,
    so that the three agree even while a writer replaces it)."""
    try:
        with open(Path(settings.data_dir) / FINGERPRINT, "rb") as handle:
            changed = os.fstat(handle.fileno()).st_mtime
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        text, changed = "", 0.0
    try:
        built = json.loads(text).get("built") if text else None
    except (ValueError, AttributeError):
        built = None
    token = hashlib.sha256(text.encode()).hexdigest()[:16]
    return GenerationInfo(token, built if isinstance(built, (int, float)) else None, changed)


def named_graph_quads(settings: Settings, graph_iri: str | None = None) -> list[ox.Quad]:
    """The quads of one named graph, or of every named graph (None), read from the current store; no
    time or size limit (a dump is meant to pass the query limits)."""
    source = open_read_only(settings)
    try:
        graph = None if graph_iri is None else ox.NamedNode(graph_iri)
        return [quad for quad in source.quads_for_pattern(None, None, None, graph)
                if not isinstance(quad.graph_name, ox.DefaultGraph)]
    finally:
        del source
