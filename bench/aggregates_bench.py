"""Benchmark: the evidence counts kept as data (clkg/aggregates.py) against the same counts computed on
every request, and against a trivial request, through a real server without its answer cache.

    python bench/aggregates_bench.py --scales 1 100 --repeat 40 --fly-repeat 3

For each scale it builds the synthetic graph of bench/queries_bench.py (100x: ~16,000 studies, ~75,000
claims), times the build's aggregates step, starts `clkg serve` (gunicorn, loopback, CLKG_CACHE_MB=0 so
that every request is computed), and times, for each of the named queries evidence-map,
contested-concepts and evidence-gaps (reading the kept counts):
  - `repeat` rounds of `ASK {}` on /sparql (the trivial request) and the named query, one after the
    other, so that both are measured in the same moments of a shared, noisy machine;
  - `fly_repeat` requests of the same question as it was computed before (tests/onthefly/*.rq) POSTed
    to /sparql;
and the time to recount everything (a build) against the counts one ingest about a motive changes.
Prints medians and the ratios kept / ASK and on the fly / kept, all from the same run (goal of issue 12:
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


def side_by_side(trivial: str, url: str, repeat: int) -> tuple[float, float]:
    """Medians of `repeat` rounds of (the trivial request, `url`), after three rounds of warming up (every
    query worker answers once and makes its copy of the graphs it keeps in memory between requests)."""
    for _ in range(3):
        timed(trivial), timed(url)
    rounds = [(timed(trivial), timed(url)) for _ in range(repeat)]
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def bench_scale(scale: int, repeat: int, fly_repeat: int) -> None:
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
        trivial = f"{base}/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
        print(f"\n{scale}x: computing the counts {compute:.2f} s ({observations} quads), those an ingest about M3 "
              f"changes {one:.2f} s ({compute / one:.0f}x less)")
        print(f"{'question':<20} {'ASK ms':>7} {'kept ms':>8} {'kept/ASK':>9} {'on the fly ms':>14} {'fly/kept':>9}")
        for name, (bindings, query_string) in QUESTIONS.items():
            ask, kept = side_by_side(trivial, f"{base}/api/queries/{name}{query_string}", repeat)
            text = namedqueries.parse(ROOT / "tests" / "onthefly" / f"{name}.rq").text
            text = bind_values(text, bindings) if bindings else text
            fly = median(f"{base}/sparql", fly_repeat, text.encode(), {"Content-Type": "application/sparql-query"})
            print(f"{name:<20} {ask * 1000:>7.1f} {kept * 1000:>8.1f} {kept / ask:>8.1f}x {fly * 1000:>14.1f} "
                  f"{fly / kept:>8.1f}x", flush=True)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--repeat", type=int, default=40, help="rounds of ASK {} and a kept-count query")
    parser.add_argument("--fly-repeat", type=int, default=3, help="requests of each question computed on the fly")
    args = parser.parse_args()
    for scale in args.scales:
        bench_scale(scale, args.repeat, args.fly_repeat)


if __name__ == "__main__":
    main()
