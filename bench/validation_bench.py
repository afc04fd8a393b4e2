"""Validating one entry against the shapes and the store, versus validating the whole graph.

    python bench/validation_bench.py [--entry FILE] [--repeat 20] [--whole-repeat 3] [--data-dir DIR]

builds the store from ontology/ and kg/evidence/ (no reasoner) and times:

- entry: `validation.validate_entry` as `clkg validate`, POST /api/validate and an ingest run it: the
  context pulled from the store with SPARQL (the description of every IRI the entry mentions, the
  studies it could duplicate, the concept class hierarchy), pyshacl on entry + context, the report;
- whole: pyshacl on the whole graph (ontology + evidence + the entry) with every target of the shapes,
  which is what validating an entry "against the graph" would cost without the small context.

Both are warm (shapes parsed, SPARQL constraints prepared). Prints the medians, the sizes of the data
graphs and the ratio whole / entry.
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

import pyoxigraph as ox  # noqa: E402
import rdflib  # noqa: E402

from clkg import store, validation  # noqa: E402
from clkg.config import Settings  # noqa: E402


def median_time(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def whole_graph(reader: ox.Store, settings: Settings, entry: list) -> rdflib.Graph:
    """Every triple of the store's ontology and evidence graphs, and the entry, as one rdflib graph."""
    graph = validation.DataGraph()
    for name in ("ontology", "evidence"):
        for quad in reader.quads_for_pattern(None, None, None, ox.NamedNode(settings.graph_iri(name))):
            graph.add(tuple(validation._term(t, False) for t in (quad.subject, quad.predicate, quad.object)))
    for triple in entry:
        graph.add(tuple(validation._term(t, True) for t in triple))
    return graph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entry", type=Path, default=ROOT / "tests" / "entries" / "valid" / "study-and-claim.ttl")
    parser.add_argument("--repeat", type=int, default=20, help="runs of the entry validation")
    parser.add_argument("--whole-repeat", type=int, default=3, help="runs of the whole-graph validation")
    parser.add_argument("--data-dir", type=Path, help="an existing data dir (default: a fresh temporary one)")
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir or Path(tempfile.mkdtemp(prefix="clkg-validation-bench-")))
    settings.source_dirs = {"ontology": [ROOT / "ontology"], "evidence": [ROOT / "kg" / "evidence"]}
    store.build(settings, reason=False)
    reader = store.open_read_only(settings)
    entry = validation.parse_entry(args.entry.read_bytes(), validation.format_for(path=args.entry))
    context = validation.StoreContext(reader)

    validation.warm_up()
    validation.validate_entry(entry, context, settings)
    entry_time, report = median_time(lambda: validation.validate_entry(entry, context, settings), args.repeat)
    context_size = len(validation.data_graph(entry, validation.context_triples(entry, context, settings))[0])
    context_time, _ = median_time(lambda: validation.context_triples(entry, context, settings), args.repeat)

    graph = whole_graph(reader, settings, entry)
    for subject in {validation._term(s, True) for s, _, _ in entry}:
        graph.add((subject, validation.IN_ENTRY, validation.TRUE))
    whole_time, (_, whole_report) = median_time(lambda: validation.validate_graph(graph), args.whole_repeat)
    whole_results = len(list(whole_report.objects(None, rdflib.namespace.SH.result)))

    print(f"entry: {args.entry.name}, {len(entry)} triples; store: {len(reader)} quads")
    print(f"entry validation: {entry_time * 1000:8.1f} ms median of {args.repeat} "
          f"(context queries {context_time * 1000:.1f} ms), data graph {context_size} triples, "
          f"{len(report.results)} result(s) on the entry")
    print(f"whole graph:      {whole_time * 1000:8.1f} ms median of {args.whole_repeat}, data graph {len(graph)} triples, "
          f"{whole_results} result(s) on the whole graph")
    print(f"ratio whole / entry: {whole_time / entry_time:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
