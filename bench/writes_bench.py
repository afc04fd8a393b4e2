"""What crash safety costs a write: the journal's and the swap's durable steps against the whole write.

    python bench/writes_bench.py [--repeat 20] [--builds 3] [--data-dir DIR]

builds a store on the real ontology and the test corpus's context (no reasoner), then times:

- ingest: `contributions.ingest` of one entry (validation, store transaction, file), and within it the
  journal's steps (`journal.begin`: the record written and fsynced; `journal.settle`: the file placed
  and fsynced, the record removed);
- delete: `contributions.delete` of that entry, and within it the journal's steps;
- build: a forced `store.build`, and within it the swap's durable steps (every file of the new store
  fsynced, the link renamed, the older generation removed).

Prints the medians and each share (durable steps / whole write) from the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pyoxigraph as ox  # noqa: E402

from clkg import contributions, journal, store, validation  # noqa: E402
from test_ingest import new_study  # noqa: E402
from test_validation import entries_settings  # noqa: E402

spent: dict[str, float] = defaultdict(float)


def timed(module, name: str, label: str) -> None:
    """Wrap module.name so that the time spent inside it is added to `spent[label]`."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    setattr(module, name, wrapper)


def measure(function) -> tuple[float, float]:
    """(seconds of the whole call, seconds inside the wrapped durable steps)."""
    spent.clear()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start, sum(spent.values())


def report(name: str, samples: list[tuple[float, float]]) -> None:
    whole = statistics.median(s[0] for s in samples)
    durable = statistics.median(s[1] for s in samples)
    print(f"{name:8} whole {whole * 1000:8.1f} ms   durable steps {durable * 1000:7.1f} ms   "
          f"share {durable / whole:5.1%}   (n={len(samples)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="ingest + delete cycles")
    parser.add_argument("--builds", type=int, default=3, help="forced builds")
    parser.add_argument("--data-dir", type=Path, help="an empty folder for the store (default: a temporary one)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="clkg-writes-bench-")) / "data"
    settings = entries_settings(data_dir)
    store.build(settings, reason=False)
    timed(journal, "begin", "journal")
    timed(journal, "settle", "journal")
    entry = validation.parse_entry(new_study("meting", "Een gemeten schrijfbeurt"), ox.RdfFormat.TURTLE)
    contributions.ingest(settings, entry, "bench")  # warm up: shapes parsed, store caches
    contributions.delete(settings, contributions.list_all(settings)[0].id)
    ingests, deletes = [], []
    for _ in range(args.repeat):
        created = {}
        ingests.append(measure(lambda: created.update(id=contributions.ingest(settings, entry, "bench")[0].id)))
        deletes.append(measure(lambda: contributions.delete(settings, created["id"])))
    for name in ("fsync_tree", "_point", "_prune"):
        timed(store, name, "swap")
    builds = [measure(lambda: store.build(settings, force=True, reason=False)) for _ in range(args.builds)]
    report("ingest", ingests)
    report("delete", deletes)
    report("build", builds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
