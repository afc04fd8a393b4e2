"""Benchmark: the named queries on a synthetic graph of the evidence's shape, timed three ways.

    python bench/queries_bench.py --scales 1 10 100 --repeat 5

For each scale (1x is about the real graph: ~160 studies, ~750 claims, ~100 coded concepts) it builds a
synthetic graph, then times every named query
  - through the HTTP endpoint of a real server process (`clkg serve`, gunicorn, loopback),
  - on pyoxigraph directly (the engine's own limit),
  - on rdflib's in-memory SPARQL engine (what a plain rdflib application would do),
and prints the medians and the ratios against pyoxigraph measured in the same run. Not part of the tests.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from clkg import config, namedqueries, store  # noqa: E402
from clkg.config import Settings  # noqa: E402
from clkg.sparql import bind_values, term_from_wire  # noqa: E402

PREFIXES = """@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix clc: <https://w3id.org/clkg/concept/> .
@prefix cls: <https://w3id.org/clkg/study/> . @prefix clm: <https://w3id.org/clkg/claim/> .
@prefix cito: <http://purl.org/spar/cito/> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix bibo: <http://purl.org/ontology/bibo/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
LEVELS, TYPES = ["STU", "TEA", "SCH"], ["ACT", "RES", "PRA", "VIS", "INS"]
KINDS = ["bibo:AcademicArticle", "bibo:Book", "bibo:Chapter", "bibo:Report", "bibo:Thesis", "clo:PolicyDocument"]


def concepts_ttl() -> tuple[str, list[str]]:
    """The coded concepts of the report with their hierarchy, as in the real ontology graph."""
    lines, codes = [PREFIXES, "clc:scheme a skos:ConceptScheme ."], []
    for cls, parent in [("TaskMotive", "Motive"), ("RelationMotive", "Motive"), ("GrowthMotive", "Motive"),
                        ("CultureCondition", "Condition"), ("SituationCondition", "Condition")]:
        lines.append(f"clo:{cls} rdfs:subClassOf clo:{parent} .")

    def concept(code, cls, broader=()):
        codes.append(code)
        up = "".join(f" ; skos:broader clc:{b}" for b in broader)
        lines.append(f'clc:{code} a clo:{cls}, skos:Concept ; skos:inScheme clc:scheme ; skos:notation "{code}" ; '
                     f'skos:prefLabel "{code} label"@en{up} .')
    for dim in ["D-TASK", "D-REL", "D-GROWTH"]:
        concept(dim, "MotiveDimension")
    for i in range(1, 16):
        concept(f"M{i}", "TaskMotive" if i <= 6 else "RelationMotive" if i <= 10 else "GrowthMotive",
                ["D-TASK" if i <= 6 else "D-REL" if i <= 10 else "D-GROWTH"])
    concept("C5.2", "CultureCondition")
    concept("C5.3", "SituationCondition")
    for i in range(1, 5):
        concept(f"C5.2.{i}", "CultureCondition", ["C5.2"])
    for code, up in [("C5.3.1", "C5.3"), ("C5.3.2", "C5.3"), ("C5.3.2a", "C5.3.2"), ("C5.3.2b", "C5.3.2"),
                     ("C5.3.3", "C5.3"), ("C5.3.3a", "C5.3.3"), ("C5.3.3b", "C5.3.3"), ("C5.3.3c", "C5.3.3")]:
        concept(code, "SituationCondition", [up])
    for level in LEVELS:
        concept(f"L-{level}", "OutcomeLevel")
    for kind in TYPES:
        concept(f"V-{kind}", "ValueType")
    for level in LEVELS:
        for kind in TYPES:
            concept(f"O-{level}-{kind}", "OutcomeCell", [f"L-{level}", f"V-{kind}"])
    for i in range(1, 9):
        concept(f"P{i}", "CriticalNote")
    for i in range(1, 7):
        concept(f"F1.2.{i}", "Manifestation")
    for p in ["supports", "nuances", "contradicts"]:
        lines.append(f'clo:{p} a clo:Polarity ; skos:notation "{p}" .')
    return "\n".join(lines) + "\n", codes


def evidence_ttl(scale: int, codes: list[str], seed: int = 7, quotes: list[str] | None = None) -> str:
    """The synthetic evidence; each claim's quote is "Zin k (Author, 2015).", or, given `quotes`, one of
    them in turn (real sentences, for benchmarks of the full-text search)."""
    rng = random.Random(seed)
    claimable = [c for c in codes if not c.startswith("D-")]
    lines = [PREFIXES]
    studies = 160 * scale
    for i in range(studies):
        year = rng.randint(1995, 2018)
        lines.append(f'cls:s{i} a clo:Study, {rng.choice(KINDS)} ; dcterms:title "Study {i}"@en ; '
                     f'dcterms:issued "{year}"^^xsd:gYear ; clo:inTextCitation "Author{i} ({year})" ; '
                     f'dcterms:isPartOf clj:j{i % (20 * scale)} .')
    for j in range(20 * scale):
        lines.append(f'clj:j{j} a bibo:Journal ; dcterms:title "Journal {j}" .')
    for k in range(750 * scale):
        polarity = rng.choices(["supports", "nuances", "contradicts"], [80, 17, 3])[0]
        quote = ox.Literal(quotes[k % len(quotes)] if quotes else f"Zin {k} (Author, 2015).", language="nl")
        lines.append(f'clm:c{k} a clo:Claim ; cito:cites cls:s{(study := rng.randrange(studies))} ; cito:citesAsEvidence cls:s{study} ; '
                     f'clo:about clc:{rng.choice(claimable)} ; clo:polarity clo:{polarity} ; '
                     f'clo:section "{rng.choice(["4.2", "5.3.3", "6.2"])}" ; clo:quote {quote} .')
    return "\n".join(lines).replace(PREFIXES, PREFIXES + "@prefix clj: <https://w3id.org/clkg/venue/> .\n", 1) + "\n"


def workload() -> list[tuple[str, dict]]:
    return [("studies-for-concept", {"concept": "M3"}), ("studies-for-concept", {"concept": "D-TASK"}),
            ("evidence-map", {}), ("evidence-gaps", {"min": "3"}), ("contested-concepts", {}),
            ("study-profile", {"study": "https://w3id.org/clkg/study/s1"}), ("motive-outcome-links", {}),
            ("studies", {"kind": "AcademicArticle", "from": "2010"}), ("outcome-levels", {})]


def bound_text(queries, name: str, args: dict) -> str:
    """The query text with its parameters bound, the same way the server binds them."""
    query = queries[name]
    resolve = lambda value: value if value.startswith("http") else f"https://w3id.org/clkg/concept/{value}"
    bindings = namedqueries.bind(query, args, resolve)
    return bind_values(query.text, {k: term_from_wire(*v) for k, v in bindings.items()}) if bindings else query.text


def median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _rdflib_child(dataset, text, connection):
    start = time.perf_counter()
    list(dataset.query(text))
    connection.send(time.perf_counter() - start)


def rdflib_times(files: list[Path], texts: dict, repeat: int, limit: float) -> dict:
    """Median per query on rdflib's engine, each run in a forked child killed after `limit` seconds."""
    import rdflib

    dataset = rdflib.Dataset(default_union=True)
    for path in files:
        dataset.graph(rdflib.URIRef(f"urn:file:{path.name}")).parse(path, format="turtle")
    context, results = mp.get_context("fork"), {}
    for key, text in texts.items():
        runs = []
        for _ in range(repeat):
            parent, child = context.Pipe()
            process = context.Process(target=_rdflib_child, args=(dataset, text, child))
            process.start()
            if parent.poll(limit):
                runs.append(parent.recv())
                process.join()
            else:
                process.kill()
                process.join()
                runs = None
                break
        results[key] = statistics.median(runs) if runs else None
    return results


def start_server(settings: Settings, dirs: dict, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, CLKG_DATA_DIR=str(settings.data_dir), CLKG_QUERY_TIMEOUT="120",
               CLKG_RESULT_LIMIT="1000000", PYTHONPATH=str(ROOT),
               CLKG_SOURCE_DIRS=json.dumps({k: [str(d) for d in v] for k, v in dirs.items()}))
    env.update(extra_env or {})  # may override the defaults above
    process = subprocess.Popen([sys.executable, "-m", "clkg.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/api/queries", timeout=2).read()
            return process, base
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the server exited while starting")
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def build_graph(scale: int, workdir: Path, quotes: list[str] | None = None) -> tuple[Settings, dict]:
    """The synthetic graph at `scale`, its Turtle in `workdir` and its store built; (settings, source dirs).
    `quotes`: the claims' quotes (see evidence_ttl)."""
    (workdir / "ontology").mkdir(parents=True)
    (workdir / "evidence").mkdir()
    concepts, codes = concepts_ttl()
    (workdir / "ontology" / "concepts.ttl").write_text(concepts)
    (workdir / "evidence" / "claims.ttl").write_text(evidence_ttl(scale, codes, quotes=quotes))
    dirs = {"ontology": [workdir / "ontology"], "evidence": [workdir / "evidence"]}
    settings = Settings(data_dir=workdir / "data", query_timeout=120, result_limit=1_000_000)
    settings.source_dirs = dirs
    store.build(settings, reason=False)
    return settings, dirs


def bench_scale(scale: int, repeat: int, rdflib_limit: float) -> list[dict]:
    settings, dirs = build_graph(scale, Path(tempfile.mkdtemp(prefix=f"clkg-bench-{scale}x-")))
    queries = namedqueries.load_all(config.ROOT / "queries")
    texts = {f"{name} {json.dumps(args) if args else ''}".strip(): bound_text(queries, name, args)
             for name, args in workload()}
    files = [p for folder in dirs.values() for d in folder for p in d.glob("*.ttl")]
    slow = rdflib_times(files, texts, repeat, rdflib_limit)
    engine = store.open_read_only(settings)
    fast = {key: median_seconds(lambda t=text: list(engine.query(t, use_default_graph_as_union=True)), repeat)
            for key, text in texts.items()}
    del engine
    process, base = start_server(settings, dirs)
    try:
        http = {}
        for (name, args), key in zip(workload(), texts):
            url = f"{base}/api/queries/{name}?{urllib.parse.urlencode(args)}"
            http[key] = median_seconds(lambda u=url: urllib.request.urlopen(u, timeout=300).read(), repeat)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return [{"scale": scale, "query": key, "http": http[key], "oxigraph": fast[key], "rdflib": slow[key]}
            for key in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rdflib-limit", type=float, default=60.0, help="seconds before an rdflib run is given up")
    args = parser.parse_args()
    print(f"{'scale':>5}  {'query':<45} {'http ms':>9} {'oxigraph ms':>12} {'rdflib ms':>11} {'http/ox':>8} {'rdflib/ox':>10}")
    for scale in args.scales:
        for row in bench_scale(scale, args.repeat, args.rdflib_limit):
            ox_ms, http_ms = row["oxigraph"] * 1000, row["http"] * 1000
            rdf = f"{row['rdflib'] * 1000:11.1f}" if row["rdflib"] is not None else f"{'>' + str(int(args.rdflib_limit)) + 's':>11}"
            ratio = f"{row['rdflib'] / row['oxigraph']:10.1f}" if row["rdflib"] is not None else f"{'>' + str(int(args.rdflib_limit / row['oxigraph'])):>10}"
            print(f"{row['scale']:>4}x  {row['query'][:45]:<45} {http_ms:9.1f} {ox_ms:12.1f} {rdf} {http_ms / ox_ms:8.1f} {ratio}",
                  flush=True)


if __name__ == "__main__":
    main()
