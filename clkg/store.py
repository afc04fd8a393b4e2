"""The embedded on-disk store (Oxigraph): built from the Turtle sources into named graphs.

The store is rebuilt only when a source file changed (a fingerprint of the sources is kept beside
it). A rebuild writes a fresh directory and swaps it in, so readers of the old one are not disturbed.
Data files are written against the canonical base IRI; a deployment under another base gets every
IRI rewritten here, once, at build time.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from clkg import config
from clkg.config import Settings

STORE_DIR = "store"
FINGERPRINT = "fingerprint.json"
INFERRED = "inferred"


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
    return Path(settings.data_dir) / STORE_DIR


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


def inferred_quads(settings: Settings, files: dict[str, list[Path]]):
    """Class memberships the reasoner infers for the instance data, for the `inferred` graph."""
    from clkg import reasoning  # Java and owlready2 are only needed when a build reasons

    paths = [p for graph in ("ontology", "evidence") for p in files.get(graph, [])]
    inferred = reasoning.materialise(paths)
    graph = ox.NamedNode(settings.graph_iri(INFERRED))
    text = inferred.serialize(format="nt")
    quads = ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)
    return [ox.Quad(rebase(q.subject, settings.base_iri), q.predicate, rebase(q.object, settings.base_iri), graph)
            for q in quads]


def build(settings: Settings, *, force: bool = False, reason: bool | None = None, progress: bool = False) -> bool:
    """Rebuild the store when the sources changed (or when forced). Returns True if it rebuilt.

    `reason=None` keeps the choice of the last build (reasoning on for a first build).
    """
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint(settings)
    stamp_file = data_dir / FINGERPRINT
    last = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    if reason is None:
        reason = last.get("reason", True)
    if not force and store_path(settings).is_dir() and last.get("sources") == stamp and last.get("reason") == reason:
        return False
    files = source_files(settings)
    fresh = data_dir / f"{STORE_DIR}.new"
    shutil.rmtree(fresh, ignore_errors=True)
    store = ox.Store(str(fresh))
    jobs = [(graph, path) for graph, paths in files.items() for path in paths]
    if progress:
        from tqdm import tqdm
        jobs = tqdm(jobs, desc="loading", unit="file")
    try:
        for graph, path in jobs:
            store.bulk_extend(read_turtle(path, ox.NamedNode(settings.graph_iri(graph)), settings.base_iri))
        if reason and files.get("ontology"):
            store.bulk_extend(inferred_quads(settings, files))
        store.flush()
        store.optimize()
    except Exception:
        del store
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    del store
    _swap(fresh, store_path(settings))
    stamp_file.write_text(json.dumps({"sources": stamp, "reason": reason, "built": time.time()}))
    return True


def _swap(fresh: Path, target: Path) -> None:
    old = target.with_name(f"{STORE_DIR}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def open_read_only(settings: Settings) -> ox.Store:
    return ox.Store.read_only(str(store_path(settings)))


def generation(settings: Settings) -> str:
    """Changes whenever the store is rebuilt or written, so readers know to reopen it."""
    stamp_file = Path(settings.data_dir) / FINGERPRINT
    return stamp_file.read_text() if stamp_file.is_file() else ""
