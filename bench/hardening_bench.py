"""Light requests under hostile load: their p99 latency as a ratio to the same requests on an idle server.

    python bench/hardening_bench.py [--seconds 20] [--studies 20]

Starts a real server (`clkg serve`, gunicorn, loopback) on the real ontology and evidence (no reasoner),
with the settings of the environment (the query pool sized from the machine) but no answer cache
(CLKG_CACHE_MB=0: with it, repeated light requests are answered from memory, not by the pool). Two light clients
(127.0.0.1) send, one after the other, `ASK {}` to /sparql, a small named query
(studies-for-concept?concept=M3) and a page (/concept/M3.html), for `--seconds` in each phase:

- idle: nothing else (the baseline);
- heavy queries, one client: 8 concurrent cartesian-product queries, each running to the time limit,
  all from one address (127.0.0.2), re-sent as soon as they are answered;
- heavy queries, eight clients: the same from eight addresses (127.0.0.10-17): more than the workers;
- validations: 8 concurrent POST /api/validate of a large valid entry (`--studies` studies with a claim
  each), from eight addresses (127.0.0.20-27; from one address the pool's per-client limit would refuse
  most of them, as it refuses the context queries of a validation like any other query);
- both: the heavy queries of one client and the validations together.

Prints per phase and per light request kind the median and p99 latency and the share of light requests
not answered 200 (refused: 429/503), then p99 / idle p99 (goal: under 3x), all from the same run. A
refused heavy request is re-sent after 50 ms. Not part of the tests.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clkg import store  # noqa: E402
from clkg.config import Settings  # noqa: E402
from load_bench import start_server, stop  # noqa: E402  (bench/ is on the path when run as a script)

LOAD_NICENESS = 10
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIGHT = {
    "ASK {}": ("GET", "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}), None, {}),
    "named query": ("GET", "/api/queries/studies-for-concept?concept=M3", None, {}),
    "page": ("GET", "/concept/M3.html", None, {"Accept": "text/html"}),
}
PREFIXES = """@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix clc: <https://w3id.org/clkg/concept/> .
@prefix cls: <https://w3id.org/clkg/study/> . @prefix clm: <https://w3id.org/clkg/claim/> .
@prefix clp: <https://w3id.org/clkg/person/> . @prefix clj: <https://w3id.org/clkg/venue/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
@prefix cito: <http://purl.org/spar/cito/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def surname(n: int) -> str:
    """A distinct ASCII surname per number (studies are named after their authors' surnames)."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = chr(ord("a") + digit) + letters
        if n == 0:
            return "Bench" + letters


def large_entry(studies: int) -> bytes:
    """A valid entry: `studies` new journal articles, each with an author and a claim about a motive."""
    parts = [PREFIXES, "clj:bench-journal a bibo:Journal ; dcterms:title \"Journal of Benchmarks\" .\n"]
    for n in range(studies):
        name = surname(n)
        study, person, motive = f"{name.lower()}-2020", f"{name.lower()}-a", f"M{n % 15 + 1}"
        parts.append(f"""
cls:{study} a clo:Study, bibo:AcademicArticle ;
    dcterms:title "Benchmark study {name} on school teams"@en ; dcterms:issued "2020"^^xsd:gYear ;
    bibo:authorList ( clp:{person} ) ; dcterms:creator clp:{person} ; dcterms:isPartOf clj:bench-journal ;
    bibo:doi "10.5555/bench.{n}" ; dcterms:bibliographicCitation "{name}, A. (2020). Benchmark study."@nl ;
    clo:inTextCitation "{name} (2020)" ; clo:inBibliography false .
clp:{person} a foaf:Person ; foaf:familyName "{name}" ; foaf:givenName "A." ; foaf:name "{name}, A." .
clm:4.3-{study}-{motive} a clo:Claim ; cito:citesAsEvidence cls:{study} ; clo:about clc:{motive} ;
    clo:polarity clo:supports ; clo:section "4.3" ; prov:wasDerivedFrom cls:desmet-etal-2019 ;
    clo:quote "{name} (2020) toont dat teams samen leren."@nl .
""")
    return "".join(parts).encode()


def request(base: str, method: str, path: str, body: bytes | None, headers: dict, source: str,
            timeout: float = 120) -> tuple[int, float]:
    """(status, seconds) of one request from the loopback address `source`; status 0 on a network error."""
    url = urllib.parse.urlsplit(base)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


class Load:
    """Threads that repeat one request until stopped; refused or failed ones are re-sent after 50 ms. They
    run in a process of their own, so that the light clients measured here do not wait for this
    process's interpreter lock behind them, and at a lower CPU priority: on one small machine the load's
    own clients would otherwise take CPU from the server, which a remote attacker's cannot."""

    def __init__(self, base: str, count: int, sources: list[str], method: str, path: str, body=None, headers=None):
        context = multiprocessing.get_context("fork")
        self.stop, self._answers = context.Event(), context.Queue()
        self.process = context.Process(target=self._run, daemon=True,
                                       args=(base, count, sources, method, path, body, headers or {}))
        self.process.start()

    def _run(self, base, count, sources, method, path, body, headers):
        os.nice(LOAD_NICENESS)
        answers = []
        threads = [threading.Thread(target=self._loop, args=(answers, base, sources[i % len(sources)], method, path,
                                                             body, headers)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self._answers.put(answers)

    def _loop(self, answers, base, source, method, path, body, headers):
        while not self.stop.is_set():
            status, _ = request(base, method, path, body, headers, source)
            answers.append(status)
            if status != 200:
                time.sleep(0.05)

    def end(self) -> list[int]:
        self.stop.set()
        answers = self._answers.get(timeout=180)
        self.process.join(10)
        return answers


def light_latencies(base: str, seconds: float, clients: int = 2) -> dict[str, list[tuple[int, float]]]:
    """Each light client sends the light requests in turn for `seconds`; (status, seconds) per kind."""
    results: dict[str, list] = {kind: [] for kind in LIGHT}
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            for kind, (method, path, body, headers) in LIGHT.items():
                results[kind].append(request(base, method, path, body, headers, "127.0.0.1"))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--studies", type=int, default=20, help="studies (each with a claim) in the large entry")
    args = parser.parse_args()

    settings = Settings.from_env()
    dirs = {"ontology": [ROOT / "ontology"], "evidence": [ROOT / "kg" / "evidence"]}
    settings.data_dir, settings.source_dirs = Path(tempfile.mkdtemp(prefix="clkg-hardening-bench-")), dirs
    store.build(settings, reason=False)
    entry = large_entry(args.studies)
    process, base = start_server(settings, dirs, {"CLKG_CACHE_MB": "0", "CLKG_QUERY_TIMEOUT": str(settings.query_timeout),
                                                  "CLKG_RESULT_LIMIT": str(settings.result_limit)})
    try:
        status, seconds = request(base, "POST", "/api/validate", entry, {"Content-Type": "text/turtle"}, "127.0.0.3")
        print(f"server: {settings.query_workers} query workers, {settings.query_per_client} per client, "
              f"time limit {settings.query_timeout:g} s; large entry: {len(entry)} bytes, "
              f"one validation alone {seconds:.2f} s (status {status})", flush=True)
        light_latencies(base, 2)  # warm up
        validate = ("POST", "/api/validate", entry, {"Content-Type": "text/turtle"})
        heavy = ("GET", "/sparql?" + urllib.parse.urlencode({"query": HEAVY}))
        validators = [f"127.0.0.{n}" for n in range(20, 28)]  # one client each: all eight run
        phases = {
            "idle": [],
            "heavy queries, one client": [(8, ["127.0.0.2"], *heavy)],
            "heavy queries, eight clients": [(8, [f"127.0.0.{n}" for n in range(10, 18)], *heavy)],
            "validations": [(8, validators, *validate)],
            "both": [(8, ["127.0.0.2"], *heavy), (8, validators, *validate)],
        }
        report = {}
        for phase, loads in phases.items():
            running = [Load(base, count, sources, *spec) for count, sources, *spec in loads]
            time.sleep(1 if loads else 0)
            report[phase] = light_latencies(base, args.seconds)
            background = [load.end() for load in running]
            print(f"{phase}: background answers " + "; ".join(
                f"{len(a)} ({', '.join(f'{s}: {a.count(s)}' for s in sorted(set(a)))})" for a in background), flush=True)
    finally:
        stop(process)

    print(f"\n{'phase':<30} {'request':<12} {'n':>5} {'median ms':>10} {'p99 ms':>9} {'not 200':>8} {'p99/idle':>9}")
    for phase, kinds in report.items():
        for kind, samples in kinds.items():
            times = [t for _, t in samples]
            idle = percentile([t for _, t in report["idle"][kind]], 0.99)
            refused = sum(1 for s, _ in samples if s != 200) / max(1, len(samples))
            p99 = percentile(times, 0.99)
            print(f"{phase:<30} {kind:<12} {len(samples):>5} {percentile(times, 0.5) * 1000:>10.1f} "
                  f"{p99 * 1000:>9.1f} {refused:>8.1%} {p99 / idle:>8.1f}x")


if __name__ == "__main__":
    main()
