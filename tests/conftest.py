"""Shared fixtures: a miniature store for protocol tests, the real store for evidence tests."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

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
def live_server(command: list[str], data_dir: Path, seconds: float = 90):
    """Start a real server process on a free loopback port (`command` + [port]); yield its base URL."""
    port = free_port()
    env = dict(os.environ, CLKG_DATA_DIR=str(data_dir))
    process = subprocess.Popen(command + [str(port)], env=env, cwd=config.ROOT,
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
def source_text() -> Path:
    assert config.SOURCE_TEXT.is_file(), f"the report's text is missing at {config.SOURCE_TEXT}"
    return config.SOURCE_TEXT
