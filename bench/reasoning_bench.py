"""Benchmark: HermiT materialisation time as the evidence grows, as ratios to the ontology alone.

    python bench/reasoning_bench.py --repeat 3

Times `clkg.reasoning.materialise` on (a) the ontology and concepts alone (the baseline, measured in the
same run), (b) with the real evidence graph, (c) with synthetic claims at 2x, 5x and 10x the real number
of claims. Prints medians and the ratio of each to the baseline. Not part of the tests.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clkg import reasoning  # noqa: E402

ONTOLOGY = sorted(str(p) for p in (ROOT / "ontology").glob("*.ttl"))
EVIDENCE = sorted(str(p) for p in (ROOT / "kg" / "evidence").glob("*.ttl"))
CODES = ([f"M{i}" for i in range(1, 16)] + ["C5.2.1", "C5.2.2", "C5.3.1", "C5.3.2a", "C5.3.3b"]
         + [f"O-{lv}-{vt}" for lv in ("STU", "TEA", "SCH") for vt in ("ACT", "RES", "PRA", "VIS", "INS")])


def synthetic(claims: int, folder: Path) -> str:
    lines = ["@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix clc: <https://w3id.org/clkg/concept/> .",
             "@prefix cls: <https://w3id.org/clkg/study/> . @prefix clm: <https://w3id.org/clkg/claim/> .",
             "@prefix cito: <http://purl.org/spar/cito/> . @prefix bibo: <http://purl.org/ontology/bibo/> ."]
    for i in range(claims // 5):
        lines.append(f"cls:b{i} a clo:Study, bibo:AcademicArticle .")
    polarities = ["supports", "supports", "supports", "nuances", "contradicts"]
    for i in range(claims):
        lines.append(f'clm:b{i} a clo:Claim ; cito:cites cls:b{i % (claims // 5)} ; cito:citesAsEvidence cls:b{i % (claims // 5)} ; '
                     f'clo:about clc:{CODES[i % len(CODES)]} ; clo:polarity clo:{polarities[i % 5]} ; '
                     f'clo:section "6.2" ; clo:quote "Zin {i}."@nl .')
    path = folder / f"synthetic-{claims}.ttl"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def median_seconds(paths: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        reasoning.materialise(paths)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="clkg-reasoning-bench-"))
    real_claims = sum(p.read_text(encoding="utf-8").count("a clo:Claim") for p in map(Path, EVIDENCE))
    runs = [("ontology alone (baseline)", ONTOLOGY), (f"+ real evidence ({real_claims} claims)", ONTOLOGY + EVIDENCE)]
    for factor in (2, 5, 10):
        runs.append((f"+ {factor}x synthetic claims ({factor * real_claims})",
                     ONTOLOGY + [synthetic(factor * real_claims, folder)]))
    baseline = None
    print(f"{'input':<45} {'median s':>9} {'ratio':>7}")
    for label, paths in runs:
        seconds = median_seconds(paths, args.repeat)
        baseline = baseline or seconds
        print(f"{label:<45} {seconds:9.2f} {seconds / baseline:7.1f}", flush=True)


if __name__ == "__main__":
    main()
