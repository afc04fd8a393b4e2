"""Shared fixtures: a miniature store for protocol tests, the real store for evidence tests."""
from __future__ import annotations

import os
import socket
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def source_text() -> Path:
    assert config.SOURCE_TEXT.is_file(), f"the report's text is missing at {config.SOURCE_TEXT}"
    return config.SOURCE_TEXT
