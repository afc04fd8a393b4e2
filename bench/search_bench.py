"""Benchmark: the full-text search (clkg/fulltext.py, /search) against a single named-query call, through a
real server without its answer cache, on the real graph and on the synthetic graph of
bench/queries_bench.py (100x: ~16,000 studies, ~75,000 claims, their quotes the real report's quotes in
turn, so that the words and their frequencies are real).

    python bench/search_bench.py --scales 1 100 --repeat 30

For each graph: the time to build the index (what a server does at startup and after a write), then,
through the server, `repeat` rounds of the
named query studies-for-concept?concept=M3 (the baseline) and each search term, one after the other, so
that all meet the same moments of a shared machine. Prints the median and p95 of each, and the ratios of
the medians to the baseline's, from one run. Not part of the tests.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from clkg import fulltext, store  # noqa: E402
from clkg.config import Settings  # noqa: E402
from aggregates_bench import timed  # noqa: E402  (bench/ is on the path as a script)
from load_bench import stop  # noqa: E402
from queries_bench import build_graph, start_server  # noqa: E402

TERMS = ["professionalisering", "netwerk", "leraren samen leren", "Lüdtke", "M13"]
BASELINE = "/api/queries/studies-for-concept?concept=M3"


def real_quotes() -> list[str]:
    quotes = set()
    for path in sorted((ROOT / "kg" / "evidence").glob("*.ttl")):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value.endswith("/ontology/quote"):
                quotes.add(quad.object.value)
    return sorted(quotes)


def real_graph(workdir: Path) -> tuple[Settings, dict]:
    settings = Settings(data_dir=workdir / "data")
    store.build(settings)
    return settings, settings.source_dirs


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def bench(label: str, settings: Settings, dirs: dict, repeat: int) -> None:
    settings.source_dirs = dirs
    started = time.perf_counter()
    fulltext.current_index(settings)
    build = time.perf_counter() - started
    process, base = start_server(settings, dirs, {"CLKG_CACHE_MB": "0"})
    try:
        urls = {term: f"{base}/search?" + urllib.parse.urlencode({"q": term, "format": "json"}) for term in TERMS}
        for url in [f"{base}{BASELINE}", *urls.values()]:
            timed(url)  # every worker and the index warm
        times: dict[str, list[float]] = {"baseline": [], **{term: [] for term in TERMS}}
        for _ in range(repeat):
            times["baseline"].append(timed(f"{base}{BASELINE}"))
            for term, url in urls.items():
                times[term].append(timed(url))
        baseline = statistics.median(times["baseline"])
        print(f"\n{label}: building the index {build:.1f} s")
        print(f"{'request':<28} {'median ms':>10} {'p95 ms':>8} {'median / named query':>21}")
        for name, values in times.items():
            median = statistics.median(values)
            shown = "studies-for-concept M3" if name == "baseline" else f"search {name!r}"
            print(f"{shown:<28} {median * 1000:>10.1f} {p95(values) * 1000:>8.1f} {median / baseline:>20.2f}x",
                  flush=True)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100],
                        help="1 is the real graph; any other scale the synthetic graph with the real quotes")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    quotes = real_quotes()
    for scale in args.scales:
        workdir = Path(tempfile.mkdtemp(prefix=f"clkg-search-{scale}x-"))
        if scale == 1:
            settings, dirs = real_graph(workdir)
            bench("the real graph", settings, dirs, args.repeat)
        else:
            settings, dirs = build_graph(scale, workdir, quotes=quotes)
            bench(f"{scale}x synthetic graph", settings, dirs, args.repeat)


if __name__ == "__main__":
    main()
