"""The product as a package: a wheel built from this checkout holds every file the product reads at run
time, and once installed in a fresh virtual environment it serves, from another directory, the same
answers as the checkout.

The wheel is built offline (`pip wheel --no-build-isolation`, with the setuptools of the `dev` extra)
from a copy of the checkout, so that nothing left over from an earlier build can slip into it. The
virtual environment sees the machine's packages (`--system-site-packages`) for the dependencies; the
wheel itself is installed with `--no-deps`, and the tests check that `clkg` is imported from it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from clkg import config
from conftest import free_port, live_server, named_query_runner

# every kind of file the product reads at run time: (folder in the checkout, in the wheel, pattern)
RESOURCES = [
    ("ontology", "clkg/resources/ontology", "*.ttl"),
    ("kg/evidence", "clkg/resources/kg/evidence", "*.ttl"),
    ("kg/cases/illustrative", "clkg/resources/kg/cases/illustrative", "*.ttl"),
    ("shapes", "clkg/resources/shapes", "*.ttl"),
    ("queries", "clkg/resources/queries", "*.rq"),
    ("queries/internal", "clkg/resources/queries/internal", "*.rq"),
    ("queries/pages", "clkg/resources/queries/pages", "*.rq"),
    ("templates/case", "clkg/resources/templates/case", "**/*"),
    ("clkg/web/templates", "clkg/web/templates", "*"),
    ("clkg/web/static", "clkg/web/static", "**/*"),
    ("clkg/web/translations", "clkg/web/translations", "*.json"),
]
LEFT_OUT = shutil.ignore_patterns(".git", ".data", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


def _clean_env(**extra) -> dict:
    """The environment of a process that must not see this checkout: no PYTHONPATH, no settings."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CLKG_")}
    return env | extra


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(config.ROOT, source, symlinks=True, ignore=LEFT_OUT)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--wheel-dir", str(work / "dist"), str(source)],
                          capture_output=True, text=True, timeout=600, env=_clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = (work / "dist").glob("clkg-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin/ folder."""
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True, timeout=300)
    done = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=600, env=_clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "bin"


def test_the_wheel_holds_every_file_the_product_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, packaged, pattern in RESOURCES:
        expected = {PurePosixPath(packaged, p.relative_to(config.ROOT / folder).as_posix())
                    for p in (config.ROOT / folder).glob(pattern) if p.is_file()}
        assert expected, f"nothing in {folder}/ matches {pattern}"
        found = {PurePosixPath(n) for n in names if PurePosixPath(n).parent == PurePosixPath(packaged)
                 or (pattern.startswith("**") and n.startswith(packaged + "/"))}
        assert found == expected, f"{folder}: missing from the wheel {sorted(map(str, expected - found))}, " \
                                  f"not in the checkout {sorted(map(str, found - expected))}"


def test_the_wheel_has_no_top_level_module_but_clkg(wheel):
    tops = {PurePosixPath(n).parts[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"clkg"}
    (entry_points,) = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "clkg = clkg.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_package_is_the_wheel_not_the_checkout(venv, tmp_path):
    code = "import clkg, clkg.resources as r; print(clkg.__file__); print(r.queries()); r.check()"
    done = subprocess.run([str(venv / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    module, queries = done.stdout.split()
    site = venv.parent.resolve()
    assert Path(module).resolve().is_relative_to(site), f"clkg imported from {module}, not from {site}"
    assert Path(queries).resolve().is_relative_to(site) and (Path(queries) / "studies-for-concept.rq").is_file()


def test_the_installed_server_answers_like_the_checkout(venv, real_app, tmp_path):
    """`clkg serve` of the wheel, run from an empty directory with its own data directory, gives the same
    rows for studies-for-concept?concept=M3 as the checkout's app over the same sources."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    expected = named_query_runner(real_app)("studies-for-concept", concept="M3")
    assert expected, "the checkout answers no rows for M3"
    command = [str(venv / "clkg"), "serve", "--host", "127.0.0.1", "--port"]
    with live_server(command, tmp_path / "data", seconds=600, env={"PYTHONPATH": ""}, cwd=elsewhere) as base:
        with urllib.request.urlopen(f"{base}/api/queries/studies-for-concept?concept=M3", timeout=60) as response:
            bindings = json.load(response)["results"]["bindings"]
        with urllib.request.urlopen(f"{base}/concept/M3.html", timeout=60) as response:
            assert response.status == 200 and b"M3" in response.read()
    rows = [{k: v["value"] for k, v in b.items()} for b in bindings]
    key = lambda row: json.dumps(row, sort_keys=True)
    assert sorted(rows, key=key) == sorted(expected, key=key)
    assert (tmp_path / "data" / "store").is_dir() and not (elsewhere / ".data").exists()


def test_a_broken_install_stops_with_a_message(venv, tmp_path):
    """The issue's case: the installed package without queries/internal/resolve-concept.rq. `clkg serve`
    names what is missing and exits non-zero, instead of a master that accepts and never answers."""
    done = subprocess.run([str(venv / "python"), "-c", "import clkg.resources as r; print(r.internal_query('resolve-concept'))"],
                          capture_output=True, text=True, env=_clean_env(), cwd=tmp_path, timeout=120)
    query = Path(done.stdout.strip())
    assert query.resolve().is_relative_to(venv.parent.resolve()), f"{query} is not the installed package's"
    kept = query.read_bytes()
    query.unlink()
    try:
        done = subprocess.run([str(venv / "clkg"), "serve", "--host", "127.0.0.1", "--port", str(free_port())], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120,
                              env=_clean_env(CLKG_DATA_DIR=str(tmp_path / "data")))
    finally:
        query.write_bytes(kept)
    assert done.returncode != 0
    assert "queries/internal" in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
