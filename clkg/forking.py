"""The one fork server of the product's worker processes (query workers, clkg/pool.py; entry workers,
clkg/entryworker.py). multiprocessing keeps a single fork server per process, started with the preload
list of whoever starts it first; so both kinds of worker name the same list here, and each finds its
warm-up done whichever started the server.

A worker forked from it is ready in milliseconds, not the second of a fresh interpreter (pyoxigraph,
rdflib, pyshacl), and never inherits the web process's threads or open store. Every child also runs the
program's main module again (multiprocessing's rule: `server.py`, `clkg.cli`); preloading the clkg
modules this process has imported makes that cheap too. Without a fork server (Windows): spawn.
"""
from __future__ import annotations

import multiprocessing as mp
import sys

WARM_UPS = ["clkg.poolwarm", "clkg.entrywarm"]  # the parser read every packaged query; the shapes prepared


def context():
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    ours = sorted(name for name in list(sys.modules) if name.split(".")[0] == "clkg")
    context.set_forkserver_preload(["__main__", "clkg.store", "clkg.pool", "clkg.entryworker", *ours, *WARM_UPS])
    return context
