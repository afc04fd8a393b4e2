"""Benchmark: the evidence counts kept as data (clkg/aggregates.py) against the same counts computed on
every request, and against a trivial request, through a real server without its answer cache.

    python bench/aggregates_bench.py --scales 1 100 --repeat 10

For each scale it builds the synthetic graph of bench/queries_bench.py (100x: ~16,000 studies, ~75,000
claims), times the build's aggregates step, starts `clkg serve` (gunicorn, loopback, CLKG_CACHE_MB=0 so
that every request is computed), and times `repeat` requests each of:
  - `ASK {}` on /sparql (the trivial request),
  - the named queries evidence-map, contested-concepts and evidence-gaps (reading the kept counts),
  - the same three questions as they were computed before (tests/onthefly/*.rq) POSTed to /sparql;
and the time to recount everything (a build) against the counts one ingest about a motive changes.
Prints medians and the ratios to `ASK {}` and kept / on the fly, all from the same run (goal of issue 12:
these queries at 100x within 2x of a trivial request before any cache). Not part of the tests.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from clkg import aggregates, namedqueries, store  # noqa: E402
from clkg.sparql import bind_values  # noqa: E402
from queries_bench import build_graph, start_server  # noqa: E402  (bench/ is on the path as a script)
from load_bench import stop  # noqa: E402

QUESTIONS = {"evidence-map": ({}, ""), "contested-concepts": ({}, ""),
             "evidence-gaps": ({"_min": ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))},
                               "?min=3")}


def timed(url: str, data: bytes | None = None, headers: dict | None = None) -> float:
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/sparql-results+json",
                                                              **(headers or {})})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
    return time.perf_counter() - started


def median(url: str, repeat: int, data: bytes | None = None, headers: dict | None = None) -> float:
    timed(url, data, headers)  # warm up
    return statistics.median(timed(url, data, headers) for _ in range(repeat))


def bench_scale(scale: int, repeat: int) -> None:
    settings, dirs = build_graph(scale, Path(tempfile.mkdtemp(prefix=f"clkg-aggregates-{scale}x-")))
    reader = store.open_read_only(settings)
    started = time.perf_counter()
    observations = len(aggregates.compute(reader, settings.base_iri)[0])
    compute = time.perf_counter() - started
    motive = f"{settings.base_iri}concept/M3"
    started = time.perf_counter()
    aggregates.compute(reader, settings.base_iri, {motive})  # what an ingest of a claim about M3 recounts
    one = time.perf_counter() - started
    del reader
    process, base = start_server(settings, dirs, {"CLKG_CACHE_MB": "0"})
    try:
        trivial = median(f"{base}/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}), repeat)
        print(f"\n{scale}x: computing the counts {compute:.2f} s ({observations} quads), those an ingest about M3 "
              f"changes {one:.2f} s ({compute / one:.0f}x less); ASK {{}} {trivial * 1000:.1f} ms")
        print(f"{'question':<20} {'kept ms':>9} {'on the fly ms':>14} {'kept/ASK':>9} {'fly/ASK':>9} {'fly/kept':>9}")
        for name, (bindings, query_string) in QUESTIONS.items():
            kept = median(f"{base}/api/queries/{name}{query_string}", repeat)
            text = namedqueries.parse(ROOT / "tests" / "onthefly" / f"{name}.rq").text
            text = bind_values(text, bindings) if bindings else text
            fly = median(f"{base}/sparql", repeat, text.encode(), {"Content-Type": "application/sparql-query"})
            print(f"{name:<20} {kept * 1000:>9.1f} {fly * 1000:>14.1f} {kept / trivial:>8.1f}x {fly / trivial:>8.1f}x "
                  f"{fly / kept:>8.1f}x", flush=True)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    for scale in args.scales:
        bench_scale(scale, args.repeat)


if __name__ == "__main__":
    main()
