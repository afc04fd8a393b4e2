"""End to end: the real server process on a free loopback port, queried by a real SPARQL client."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from clkg import config
from conftest import live_server as start_live_server
from test_ingest import new_study

COMMANDS = {
    "gunicorn (clkg serve)": [sys.executable, "-m", "clkg.cli", "serve", "--host", "127.0.0.1", "--port"],
    "python server.py": [sys.executable, str(config.ROOT / "server.py"), "--host", "127.0.0.1", "--port"],
}


@pytest.fixture(params=sorted(COMMANDS), scope="module")
def live_server(request, real_settings):
    with start_live_server(COMMANDS[request.param], real_settings.data_dir) as base:
        yield base


def test_sparql_client_queries_the_live_endpoint(live_server):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setQuery("PREFIX clo: <https://w3id.org/clkg/ontology/> "
                    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a clo:Study }")
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) > 100


def test_named_query_on_the_live_server(live_server):
    with urllib.request.urlopen(f"{live_server}/api/queries/studies-for-concept?concept=M3") as response:
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
        rows = json.load(response)["results"]["bindings"]
    assert rows and all(r["study"]["value"].startswith("https://w3id.org/clkg/study/") for r in rows)


def test_live_server_refuses_update_and_keeps_serving(live_server):
    request = urllib.request.Request(f"{live_server}/sparql", data=b"DROP ALL",
                                     headers={"Content-Type": "application/sparql-update"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"{live_server}/sparql?query=ASK%7B%7D") as response:
        assert json.load(response)["boolean"] is True


def gunicorn_workers(port: int) -> list[int]:
    """The worker processes of the gunicorn master serving on `port` (the `clkg serve` process)."""
    def cmdline(pid: str) -> list[str]:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return []

    def parent(pid: str) -> str:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            return ""

    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    master = next(p for p in pids if "serve" in cmdline(p) and str(port) in cmdline(p) and "--port" in cmdline(p))
    return sorted(int(p) for p in pids if parent(p) == master)


def test_several_web_processes_share_the_store_and_outlive_one_another(real_settings, tmp_path):
    """CLKG_WEB_PROCESSES=2: two gunicorn workers; a contribution through one is seen through every
    request at once; one killed, the other goes on answering while gunicorn replaces it."""
    data_dir = tmp_path / "data"
    shutil.copytree(real_settings.data_dir, data_dir, symlinks=True)
    env = {"CLKG_WEB_PROCESSES": "2", "CLKG_WRITE_TOKEN": "several-processes-token-0123", "CLKG_QUERY_WORKERS": "2"}
    with start_live_server(COMMANDS["gunicorn (clkg serve)"], data_dir, env=env) as base:
        port = int(base.rsplit(":", 1)[1])
        workers = gunicorn_workers(port)
        assert len(workers) == 2, workers

        def studies() -> set:
            with urllib.request.urlopen(f"{base}/api/queries/studies-for-concept?concept=M9") as response:
                return {row["study"]["value"] for row in json.load(response)["results"]["bindings"]}

        before = studies()
        request = urllib.request.Request(f"{base}/api/entries", data=new_study("processes", "Seen everywhere"),
                                         headers={"Content-Type": "text/turtle",
                                                  "Authorization": "Bearer several-processes-token-0123"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
        added = config.CANONICAL_BASE + "study/processes-2020"
        for _ in range(12):  # new connections: the kernel hands them to either process
            assert studies() == before | {added}

        os.kill(workers[0], signal.SIGKILL)
        for _ in range(12):
            assert added in studies()
        deadline = time.time() + 60
        while time.time() < deadline and (len(gunicorn_workers(port)) != 2 or workers[0] in gunicorn_workers(port)):
            time.sleep(0.5)
        assert len(gunicorn_workers(port)) == 2 and workers[0] not in gunicorn_workers(port)
        assert added in studies()
