"""A server that cannot start says why and exits non-zero, promptly, without a traceback: `clkg serve`
(gunicorn) and `python server.py`, real processes with broken settings or sources."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clkg import config
from conftest import DATA, free_port

SERVE = [sys.executable, "-m", "clkg.cli", "serve", "--host", "127.0.0.1", "--port"]
DEV_SERVER = [sys.executable, str(config.ROOT / "server.py"), "--host", "127.0.0.1", "--port"]


def start(command: list[str], tmp_path: Path, **settings) -> subprocess.CompletedProcess:
    """Run a server command to its end (a server that starts after all fails the test by its timeout)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(config.ROOT), os.environ.get("PYTHONPATH")])),
               CLKG_DATA_DIR=str(tmp_path / "data"), **settings)
    return subprocess.run(command + [str(free_port())], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def source_dirs(**graphs) -> str:
    return json.dumps({"ontology": [str(DATA / "ontology")]} | {g: [str(f) for f in fs] for g, fs in graphs.items()})


@pytest.fixture()
def broken_turtle(tmp_path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "broken.ttl").write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c ;\n  ex:d "unterminated .\n')
    return folder


@pytest.mark.parametrize("command", [SERVE, DEV_SERVER], ids=["clkg serve", "python server.py"])
def test_a_missing_source_folder_is_named(command, tmp_path):
    absent = tmp_path / "no-such-folder"
    done = start(command, tmp_path, CLKG_SOURCE_DIRS=source_dirs(evidence=[absent]))
    assert done.returncode != 0
    assert f"the folder '{absent}' of the graph 'evidence' does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_malformed_source_setting_is_named(tmp_path):
    done = start(SERVE, tmp_path, CLKG_SOURCE_DIRS='{"evidence": ["kg/evidence"]')
    assert done.returncode == 2
    assert "CLKG_SOURCE_DIRS is not JSON" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [SERVE, DEV_SERVER], ids=["clkg serve", "python server.py"])
def test_a_turtle_syntax_error_is_named_with_its_line(command, tmp_path, broken_turtle):
    done = start(command, tmp_path, CLKG_SOURCE_DIRS=source_dirs(evidence=[broken_turtle]))
    assert done.returncode == 1
    assert "broken.ttl" in done.stderr and "line 3" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Listening at" not in done.stderr


def test_a_gunicorn_worker_that_cannot_boot_stops_the_master(tmp_path):
    """What can fail is checked before gunicorn starts; should a worker's app still fail (here the factory,
    which only the worker calls, is made to fail), the master stops with gunicorn's boot error instead of
    starting the worker again and again while accepting connections that are never answered."""
    script = tmp_path / "serve_with_failing_worker.py"
    script.write_text(textwrap.dedent("""
        import sys
        from clkg import server
        from clkg.config import Settings

        def fail(*args, **kwargs):
            raise RuntimeError("the worker's app cannot be made")

        if __name__ == "__main__":
            server.create_app = fail
            settings = Settings.from_env()
            settings.port = int(sys.argv[-1])
            sys.exit(server.serve(settings, threads=2))
    """))
    done = start([sys.executable, str(script)], tmp_path, CLKG_SOURCE_DIRS=source_dirs(evidence=[DATA / "evidence"]))
    assert done.returncode == 3, done.stderr[-2000:]
    assert "the server's worker cannot start: RuntimeError: the worker's app cannot be made" in done.stderr
    assert done.stderr.count("Booting worker") == 1
