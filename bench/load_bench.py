"""Load benchmark: a real server under a real load tool (locust, headless), mixed named queries and pages.

    python bench/load_bench.py --scales 1 100 --clients 1 8 32 --seconds 20

For each scale (the synthetic graph of bench/queries_bench.py: 1x is about the real graph) it serves the
graph with `clkg serve` in three configurations, measured in the same run:
  - `before`: the server without its answer cache and with two query workers, as it was
    (CLKG_CACHE_MB=0, CLKG_QUERY_WORKERS=2);
  - `now`: the default settings;
  - `virtuoso`: the default settings on a remote store, Debian's Virtuoso 7 (tests/virtuoso.py starts it on
    127.0.0.1 with a temporary database; the graphs are loaded before the clock starts), with the cache
    off (CLKG_CACHE_MB=0), so that every request is answered by Virtuoso (`--no-virtuoso` leaves it out);
and drives each with locust at 1, 8 and 32 clients (every client sends its next request as soon as the
last is answered; each from an address of its own, as a trusted proxy gives it), printing the requests
answered per second (a refusal for capacity, 429 or 503, is quick and is not counted as throughput), the
50th/95th/99th percentile latency, and the ratios of `now` to `before` and of `now` to `virtuoso`. It also times the evidence map against a trivial request
(`ASK {}`) on the `now` and `virtuoso` servers, cold and cached, as ratios. Not part of the tests.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

sys.path.insert(0, str(ROOT / "tests"))

from queries_bench import build_graph, start_server  # noqa: E402  (start_server: also for hardening_bench)
from virtuoso import running_virtuoso  # noqa: E402  (the tests' Virtuoso: 127.0.0.1, a temporary database)


CONFIGS = {"before": {"CLKG_CACHE_MB": "0", "CLKG_QUERY_WORKERS": "2"}, "now": {}, "virtuoso": {"CLKG_CACHE_MB": "0"}}
CLIENTS_ENV = {"CLKG_TRUSTED_PROXIES": "127.0.0.1"}  # each locust user is a client of its own (X-Forwarded-For)


def virtuoso_env(virtuoso) -> dict:
    return {"CLKG_STORE": "remote", "CLKG_STORE_QUERY_URL": virtuoso.update_url, "CLKG_STORE_GSP_URL": virtuoso.gsp_url,
            "CLKG_STORE_USER": virtuoso.user, "CLKG_STORE_PASSWORD": virtuoso.password}


def load_virtuoso(settings, virtuoso) -> float:
    """The built graph into the Virtuoso, as `clkg build` does with CLKG_STORE=remote; seconds taken."""
    import dataclasses

    from clkg import store
    from clkg.stores import mirror
    from clkg.stores.remote import RemoteStore

    remote_settings = dataclasses.replace(settings, store="remote", store_query_url=virtuoso.update_url,
                                          store_gsp_url=virtuoso.gsp_url, store_user=virtuoso.user,
                                          store_password=virtuoso.password)
    remote = RemoteStore.from_settings(remote_settings)
    start = time.perf_counter()
    with store.lock(settings.data_dir, name=store.WRITERS_LOCK):
        mirror.load(remote_settings, remote)
    return time.perf_counter() - start

# the mixed workload: (weight, path); pages and named queries as researchers use them
WORKLOAD = [
    (4, "/api/queries/studies-for-concept?concept=M3"),
    (2, "/api/queries/studies-for-concept?concept=C5.3"),
    (2, "/api/queries/evidence-map"),
    (1, "/api/queries/contested-concepts"),
    (1, "/api/queries/evidence-gaps?min=3"),
    (1, "/api/queries/motive-outcome-links"),
    (1, "/api/queries/study-profile?study=https://w3id.org/clkg/study/s1"),
    (2, "/concept/M3.html"),
    (1, "/evidence-map"),
    (1, "/study/s2.html"),
    (1, "/"),
]

LOCUSTFILE = textwrap.dedent('''
    from locust import FastHttpUser, task, constant
    WORKLOAD = {workload!r}

    class Researcher(FastHttpUser):
        """One researcher: an address of its own, given as a trusted proxy would (X-Forwarded-For), so that
        the server's per-client limits see as many clients as locust runs, not one."""
        wait_time = constant(0)

        def on_start(self):
            import random
            self.address = f"10.{{random.randrange(256)}}.{{random.randrange(256)}}.{{random.randrange(1, 255)}}"

        @task
        def mixed(self):
            import random
            weights = [w for w, _ in WORKLOAD]
            path = random.choices([p for _, p in WORKLOAD], weights)[0]
            with self.client.get(path, name=path, catch_response=True,
                                 headers={{"X-Forwarded-For": self.address}}) as response:
                if response.status_code != 200:
                    response.failure(f"status {{response.status_code}}")
''')


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_locust(base: str, clients: int, seconds: int, workdir: Path) -> dict:
    """One headless locust run; the aggregated row of its CSV statistics."""
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(workload=WORKLOAD))
    prefix = workdir / f"stats-{clients}"
    subprocess.run([sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(clients),
                    "-r", str(clients), "-t", f"{seconds}s", "--host", base, "--csv", str(prefix), "--only-summary",
                    "--loglevel", "ERROR", "--stop-timeout", "10"],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows["Aggregated"]
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    # answered requests only: a refusal for capacity (429/503) is quick, and would count as throughput
    rps = float(total["Requests/s"]) * (requests - failures) / max(requests, 1)
    return {"rps": rps, "p50": _ms(total["50%"]), "p95": _ms(total["95%"]),
            "p99": _ms(total["99%"]), "requests": requests, "failures": failures}


def _ms(value: str) -> float:
    """A percentile of locust's CSV; N/A (no request finished) as NaN."""
    try:
        return float(value)
    except ValueError:
        return float("nan")


def median_ms(url: str, repeat: int, headers: dict | None = None) -> float:
    times = []
    for _ in range(repeat):
        request = urllib.request.Request(url, headers=headers or {})
        start = time.perf_counter()
        urllib.request.urlopen(request, timeout=300).read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9, help="requests per median in the single-request timings")
    parser.add_argument("--no-virtuoso", action="store_true", help="leave out the configuration on Virtuoso")
    args = parser.parse_args()
    for scale in args.scales:
        with contextlib.ExitStack() as stack:
            run_scale(scale, args, None if args.no_virtuoso else stack.enter_context(running_virtuoso()))


def run_scale(scale: int, args, virtuoso) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"clkg-load-{scale}x-"))
    settings, dirs = build_graph(scale, workdir)
    configs = {name: env for name, env in CONFIGS.items() if name != "virtuoso" or virtuoso}
    if virtuoso:
        print(f"{scale}x: loaded into Virtuoso in {load_virtuoso(settings, virtuoso):.1f} s", flush=True)
        configs["virtuoso"] = {**configs["virtuoso"], **virtuoso_env(virtuoso)}
    results = {}
    for name, env in configs.items():
        process, base = start_server(settings, dirs, {**CLIENTS_ENV, **env})
        try:
            if name in ("now", "virtuoso"):
                trivial = median_ms(f"{base}/sparql?query=ASK%7B%7D", args.repeat)
                start = time.perf_counter()
                urllib.request.urlopen(f"{base}/api/queries/evidence-map", timeout=300).read()
                cold = (time.perf_counter() - start) * 1000
                cached = median_ms(f"{base}/api/queries/evidence-map", args.repeat)
                again = "cached" if name == "now" else "again (cache off)"
                print(f"{scale}x {name}: evidence map: first request {cold:.1f} ms ({cold / trivial:.1f}x ASK {{}}), "
                      f"{again} {cached:.1f} ms ({cached / trivial:.2f}x ASK {{}}, which takes {trivial:.1f} ms)",
                      flush=True)
            for clients in args.clients:
                results[(name, clients)] = row = run_locust(base, clients, args.seconds, workdir)
                print(f"{scale}x {name:<7} {clients:>3} clients: {row['rps']:8.1f} answered/s  p50 {row['p50']:7.0f} ms  "
                      f"p95 {row['p95']:7.0f} ms  p99 {row['p99']:7.0f} ms  ({row['requests']} requests, "
                      f"{row['failures']} failed)", flush=True)
        finally:
            stop(process)
    for clients in args.clients:
        before, now = results[("before", clients)], results[("now", clients)]
        print(f"{scale}x {clients:>3} clients: now/before answered/s = {now['rps'] / max(before['rps'], 1e-9):.1f}x, "
              f"p99 before/now = {before['p99'] / max(now['p99'], 1e-9):.1f}x", flush=True)
        if ("virtuoso", clients) in results:
            other = results[("virtuoso", clients)]
            print(f"{scale}x {clients:>3} clients: now/virtuoso answered/s = {now['rps'] / max(other['rps'], 1e-9):.1f}x, "
                  f"p99 virtuoso/now = {other['p99'] / max(now['p99'], 1e-9):.1f}x", flush=True)


if __name__ == "__main__":
    main()
