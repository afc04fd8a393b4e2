"""Shared fixtures: a miniature store for protocol tests, the real store for evidence tests."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import prerequisites
from clkg import config, store
from clkg.config import Settings

DATA = Path(__file__).parent / "data"


def mini_settings(data_dir: Path, **overrides) -> Settings:
    settings = Settings(data_dir=data_dir, query_timeout=overrides.pop("query_timeout", 2.0),
                        result_limit=overrides.pop("result_limit", 1000), **overrides)
    settings.source_dirs = {"ontology": [DATA / "ontology"], "evidence": [DATA / "evidence"],
                            "illustrative": [DATA / "illustrative"]}
    return settings


@pytest.fixture(scope="session")
def mini_app(tmp_path_factory):
    """The web app on the miniature graph, with a short time limit and a small result limit."""
    from clkg.web import create_app

    settings = mini_settings(tmp_path_factory.mktemp("mini"), query_timeout=1.5, result_limit=50)
    app = create_app(settings, reason=False)
    yield app
    app.extensions["clkg"].close()


@pytest.fixture()
def client(mini_app):
    return mini_app.test_client()


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory) -> Settings:
    """The real ontology and evidence, built once per session (with the reasoner)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("real"))
    store.build(settings)
    return settings


@pytest.fixture(scope="session")
def real_app(real_settings):
    from clkg.web import create_app

    app = create_app(real_settings)
    yield app
    app.extensions["clkg"].close()


@pytest.fixture(scope="session")
def evidence_graph():
    """The evidence and the ontology read from their Turtle files with rdflib: the independent count that
    the answers of the named queries are checked against."""
    from clkg import evidence

    paths = sorted((config.ROOT / "kg" / "evidence").glob("*.ttl")) + sorted((config.ROOT / "ontology").glob("*.ttl"))
    return evidence.load([str(p) for p in paths])


@pytest.fixture(scope="session")
def ask(real_app):
    """`ask(name, **params)`: a named query on the real graph, as rows."""
    return named_query_runner(real_app)


def named_query_runner(app):
    """`run(name, **params)`: a named query through the API, as a list of {variable: value} rows."""
    client = app.test_client()

    def run(name: str, **params) -> list[dict]:
        response = client.get(f"/api/queries/{name}", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [{k: v["value"] for k, v in b.items()} for b in response.get_json(force=True)["results"]["bindings"]]
    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def live_server(command: list[str], data_dir: Path, seconds: float = 90, env: dict | None = None,
                cwd: Path | None = None):
    """Start a real server process on a free loopback port (`command` + [port]); yield its base URL.
    `env` adds environment variables (settings) for the server; `cwd` is its directory (the checkout's)."""
    port = free_port()
    # the checkout's own package first, so a server started from a git worktree runs that worktree's code
    path = os.pathsep.join(filter(None, [str(config.ROOT), os.environ.get("PYTHONPATH", "")]))
    env = dict(os.environ, CLKG_DATA_DIR=str(data_dir), PYTHONPATH=path) | (env or {})
    process = subprocess.Popen(command + [str(port)], env=env, cwd=cwd or config.ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + seconds
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited early: {process.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/queries", timeout=2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise AssertionError(f"the server did not answer within {seconds} s")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def virtuoso():
    """A real Virtuoso 7 on 127.0.0.1 with a temporary database (tests/virtuoso.py; installed by
    tests/services_setup.sh), stopped and removed after the session."""
    from virtuoso import running_virtuoso

    with running_virtuoso() as server:
        yield server


REMOTE_WRITE_TOKEN = "remote-suite-token-0123456789"


def remote_settings(settings: Settings, virtuoso, data_dir: Path) -> Settings:
    """`settings` on another data directory, served from the test Virtuoso (CLKG_STORE=remote)."""
    import dataclasses

    remote = dataclasses.replace(settings, data_dir=data_dir, store="remote", store_query_url=virtuoso.update_url,
                                 store_gsp_url=virtuoso.gsp_url, store_user=virtuoso.user,
                                 store_password=virtuoso.password)
    remote.source_dirs = settings.source_dirs
    return remote


@pytest.fixture(scope="module")
def remote_real_app(real_settings, virtuoso, tmp_path_factory):
    """The real graph served from the test Virtuoso: a copy of the real data directory with CLKG_STORE=remote,
    writes open to REMOTE_WRITE_TOKEN. One per module: it loads the Virtuoso that other modules load too."""
    import dataclasses
    import shutil

    from clkg.web import create_app

    data_dir = tmp_path_factory.mktemp("remote-real") / "data"
    shutil.copytree(real_settings.data_dir, data_dir, symlinks=True)
    (data_dir / "remote.json").unlink(missing_ok=True)  # loaded again: another module may have changed it
    settings = dataclasses.replace(remote_settings(real_settings, virtuoso, data_dir),
                                   write_tokens={REMOTE_WRITE_TOKEN: "Remote tester"})
    settings.source_dirs = real_settings.source_dirs
    app = create_app(settings)
    yield app
    app.extensions["clkg"].close()


@pytest.fixture(scope="session")
def source_text() -> Path:
    return prerequisites.require(config.SOURCE_TEXT, "the report's text")


# --- the hostile-input suite: a real server that must survive what it is sent ---------------------------
HOSTILE_TOKEN = "hostile-suite-token"
SERVE_COMMAND = [sys.executable, "-m", "clkg.cli", "serve", "--host", "127.0.0.1", "--port"]


DEV_SERVER_COMMAND = [sys.executable, str(config.ROOT / "server.py"), "--host", "127.0.0.1", "--port"]


@contextlib.contextmanager
def mini_server(data_dir: Path, extra_evidence: list[Path] = (), env: dict | None = None,
                command: list[str] = SERVE_COMMAND):
    """A server process (`clkg serve`, gunicorn, by default) on the miniature graph built in `data_dir` (plus
    `extra_evidence` folders of Turtle in the evidence graph), writes open to HOSTILE_TOKEN, a 3 s time
    limit; `env` adds or overrides settings. Yields its base URL."""
    dirs = {"ontology": [str(DATA / "ontology")], "evidence": [str(DATA / "evidence")] + [str(d) for d in extra_evidence],
            "illustrative": [str(DATA / "illustrative")]}
    env = {"CLKG_SOURCE_DIRS": json.dumps(dirs), "CLKG_WRITE_TOKEN": HOSTILE_TOKEN, "CLKG_QUERY_TIMEOUT": "3",
           "CLKG_RESULT_LIMIT": "100000", **(env or {})}
    build_env = dict(os.environ, CLKG_DATA_DIR=str(data_dir), **env)
    subprocess.run([sys.executable, "-m", "clkg.cli", "build", "--no-reason"], env=build_env, cwd=config.ROOT,
                   check=True, capture_output=True)
    with live_server(command, data_dir, env=env) as base:
        yield base


@pytest.fixture(scope="module")
def hostile_server(request, tmp_path_factory):
    """`clkg serve` (gunicorn) on the miniature graph, writes open to HOSTILE_TOKEN; yields its base URL.
    One per test module, so that what one module does to it cannot hide a fault from another. A module
    may pin settings for its server in a dict `HOSTILE_SERVER_ENV`."""
    with mini_server(tmp_path_factory.mktemp("hostile"), env=getattr(request.module, "HOSTILE_SERVER_ENV", {})) as base:
        yield base


def assert_alive(base: str, within: float = 1.0) -> None:
    """The server answers `ASK {}` within `within` seconds (what every hostile test checks, during and after)."""
    import uuid

    query = urllib.parse.quote(f"ASK {{}} # {uuid.uuid4().hex}")  # a new text each time: never an answer from the cache
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}/sparql?query={query}", timeout=within + 5) as response:
        answer = json.load(response)
    elapsed = time.monotonic() - started
    assert answer["boolean"] is True
    assert elapsed < within, f"ASK {{}} took {elapsed:.2f} s (limit {within} s)"


def store_digest(base: str) -> str:
    """A digest of every quad the server answers from (named graphs included), to show a store unchanged."""
    import hashlib

    query = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    request = urllib.request.Request(f"{base}/sparql", data=query.encode(),
                                     headers={"Content-Type": "application/sparql-query", "Accept": "text/tab-separated-values"})
    with urllib.request.urlopen(request, timeout=30) as response:
        lines = response.read().decode().splitlines()
    return hashlib.sha256("\n".join(sorted(lines[1:])).encode()).hexdigest()


# --- what the suite needs from outside the repository (tests/prerequisites.py) ---------------------------
def pytest_collection_modifyitems(session, items):
    prerequisites.install_services_if_needed(items, session.config.pluginmanager.get_plugin("terminalreporter"))


def pytest_terminal_summary(terminalreporter):
    prerequisites.summary(terminalreporter)
