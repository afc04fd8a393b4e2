"""How validation time grows with the depth of nested blank nodes, now and before (one run).

    python bench/entry_depth_bench.py [--depths 50 100 200 400] [--before main] [--before-max-depth 200]

An entry is a study whose title nests `[ dcterms:title ... ]` N deep (a Turtle body of about 18 bytes a
level). Each depth is validated in this process (shapes only, no store context; warm), with this
checkout's `clkg.validation` and with the `clkg/validation.py` of the git revision `--before` (loaded from
git into a temporary module, so both run on the same machine in the same run; up to
`--before-max-depth`, since the old code needs minutes beyond it). Prints seconds per depth, the ratio
to the shallowest depth for each, and before / now at each depth. The entry limit (CLKG_MAX_DEPTH) is
lifted for the measurement.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from clkg import validation  # noqa: E402
from clkg.entryparse import Limits, parse_entry  # noqa: E402


def entry_text(depth: int) -> bytes:
    return ("@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
            "<https://w3id.org/clkg/study/x-2000> a clo:Study ; dcterms:title "
            + "[ dcterms:title " * depth + "1" + " ]" * depth + " .").encode()


def load_before(revision: str):
    """`clkg/validation.py` as it was at `revision`, as a module of its own."""
    source = subprocess.run(["git", "show", f"{revision}:clkg/validation.py"], cwd=ROOT, check=True,
                            capture_output=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="clkg-before-"))
    path = folder / "validation_before.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("validation_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["validation_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def seconds(module, depth: int, repeat: int) -> float:
    entry = parse_entry(entry_text(depth), ox.RdfFormat.TURTLE, limits=Limits(triples=10**6, depth=10**6))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        module.validate_entry(entry, None, None)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--before", default="main", help="git revision to compare with (its clkg/validation.py)")
    parser.add_argument("--before-max-depth", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2, help="runs per depth (the fastest counts)")
    args = parser.parse_args()

    before = load_before(args.before)
    for module in (validation, before):
        module.warm_up()
    now = {d: seconds(validation, d, args.repeat) for d in args.depths}
    old = {d: seconds(before, d, args.repeat) for d in args.depths if d <= args.before_max_depth}
    base = args.depths[0]
    print(f"{'depth':>6} {'now s':>8} {'now/d' + str(base):>9} {'before s':>9} {'before/d' + str(base):>12} "
          f"{'before/now':>11}")
    for depth in args.depths:
        line = f"{depth:>6} {now[depth]:>8.3f} {now[depth] / now[base]:>8.1f}x"
        if depth in old:
            line += f" {old[depth]:>9.3f} {old[depth] / old[base]:>11.1f}x {old[depth] / now[depth]:>10.1f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
