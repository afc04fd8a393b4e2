"""The dumps: `/dumps/all.EXT` is the whole dataset and `/dumps/NAME.EXT` one named graph, EXT one of
`ttl` (triples only), `trig`, `nq` (quads) and `jsonld` (quads).

A dump is written from the store on first request and kept in `<data_dir>/dumps/<generation>/`, where
the generation changes with every build or write of the store; its size and SHA-256 are kept beside it
and published in the dataset's description, in the `ETag` and `Repr-Digest` headers and in
`/dumps/SHA256SUMS`. The quads are read from the store layer without the query limits, as a dump is
meant to pass them.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, request, send_file

from clkg import stores
from clkg.web.context import settings
from clkg.web.errors import not_found
from clkg.web.graphstats import generation, graph_exists, graph_names
from clkg.web.links import prefixes

blueprint = Blueprint("dumps", __name__)

DUMP_FORMATS = {
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE, "Turtle"),
    "trig": ("application/trig", ox.RdfFormat.TRIG, "TriG"),
    "nq": ("application/n-quads", ox.RdfFormat.N_QUADS, "N-Quads"),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD, "JSON-LD"),
}
ALL = "all"

_lock = threading.Lock()


def dump_dir() -> Path:
    return Path(settings().data_dir) / "dumps" / generation()


def dump(name: str, ext: str) -> dict:
    """The dump of one graph (or ALL) in one format, written on first use: path, size, sha256."""
    if ext not in DUMP_FORMATS or (name != ALL and not graph_exists(name)):
        raise KeyError(f"{name}.{ext}")
    folder = dump_dir()
    path = folder / f"{name}.{ext}"
    meta_path = path.with_name(path.name + ".json")
    if meta_path.is_file():
        return {**json.loads(meta_path.read_text()), "path": path}
    with _lock:
        if meta_path.is_file():
            return {**json.loads(meta_path.read_text()), "path": path}
        _clean_old_generations(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        _write_dump(name, ext, partial)
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        meta = {"size": partial.stat().st_size, "sha256": digest.hexdigest()}
        os.replace(partial, path)
        meta_path.write_text(json.dumps(meta))
    return {**meta, "path": path}


def _clean_old_generations(current: Path) -> None:
    root = current.parent
    if root.is_dir():
        for other in root.iterdir():
            if other.is_dir() and other.name != current.name:
                shutil.rmtree(other, ignore_errors=True)


def _write_dump(name: str, ext: str, target: Path) -> None:
    quads = stores.graph_quads(settings(), None if name == ALL else settings().graph_iri(name))
    fmt = DUMP_FORMATS[ext][1]
    if ext == "ttl":
        triples = list(dict.fromkeys(q.triple for q in quads))
        ox.serialize(triples, str(target), fmt, prefixes=prefixes())
    elif ext == "trig":
        ox.serialize(quads, str(target), fmt, prefixes=prefixes())
    else:
        ox.serialize(quads, str(target), fmt)
    if not target.exists():  # nothing to write
        target.write_bytes(b"[]" if ext == "jsonld" else b"")


def dump_url(name: str, ext: str) -> str:
    return f"{request.host_url.rstrip('/')}{request.script_root}/dumps/{name}.{ext}"


def dumps_of(name: str) -> list[dict]:
    """Every format of one graph's (or ALL's) dump, written if needed, with its URL, size, checksum."""
    found = []
    for ext, (media, _, label) in DUMP_FORMATS.items():
        meta = dump(name, ext)
        found.append({"name": name, "ext": ext, "media_type": media, "format": label, "url": dump_url(name, ext),
                      "href": f"{request.script_root}/dumps/{name}.{ext}", "size": meta["size"],
                      "sha256": meta["sha256"]})
    return found


@blueprint.get("/dumps/")
@blueprint.get("/dumps")
def dumps_index():
    return redirect(f"{request.script_root}/dataset.html#dumps", code=303)


@blueprint.get("/dumps/SHA256SUMS")
def checksums():
    lines = [f"{item['sha256']}  {item['name']}.{item['ext']}"
             for name in [ALL] + graph_names() for item in dumps_of(name)]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@blueprint.get("/dumps/<path:filename>")
def download(filename: str):
    stem, dot, ext = filename.rpartition(".")
    if not dot or ext not in DUMP_FORMATS or (stem != ALL and not graph_exists(stem)):
        return not_found()
    meta = dump(stem, ext)
    media_type = DUMP_FORMATS[ext][0]
    response = send_file(meta["path"], mimetype=media_type, conditional=True, etag=meta["sha256"],
                         download_name=Path(filename).name, max_age=3600)
    if not response.mimetype.startswith("application/ld+json"):
        response.headers["Content-Type"] = f"{media_type}; charset=utf-8"
    digest = base64.b64encode(bytes.fromhex(meta["sha256"])).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response
