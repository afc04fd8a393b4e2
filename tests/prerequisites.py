"""What the tests need from outside the repository, and what happens when it is missing.

- Chromium from the distribution (tests/test_browser.py): installed by `tests/browser_setup.sh` when the
  browser tests are collected and /usr/bin/chromium is missing, so that the README's one test command
  sets up a fresh machine.
- `../shared` beside the repository (the report's text, the W3C SHACL suite): a test that reads it
  calls `require()`; under CI (CI=true) a missing file fails the test with a message, elsewhere the
  test is skipped and the summary at the end says what was not run and why.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SETUP = Path(__file__).parent / "browser_setup.sh"

missing: set[str] = set()  # why tests were skipped: "X is missing at PATH"
setup_problems: list[str] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(path: Path, what: str) -> Path:
    """`path` if it exists; else fail (under CI) or skip the calling test, naming what is missing."""
    if path.exists():
        return path
    why = f"{what} is missing at {path}"
    if in_ci():
        pytest.fail(f"{why}: CI runs with ../shared beside the repository, so this is an error", pytrace=False)
    missing.add(why)
    pytest.skip(why)


def install_chromium_if_needed(items, terminal=None) -> None:
    """Run tests/browser_setup.sh once when a collected test needs Chromium and it is not installed."""
    if CHROMIUM.exists() or not any(Path(str(item.fspath)).name == "test_browser.py" for item in items):
        return
    if terminal is not None:
        terminal.write_line(f"{CHROMIUM} is missing: installing it with {BROWSER_SETUP.name} (apt-get) ...")
    try:
        done = subprocess.run(["bash", str(BROWSER_SETUP)], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as error:
        setup_problems.append(f"{BROWSER_SETUP.name} could not run: {error}")
        return
    if done.returncode != 0 or not CHROMIUM.exists():
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        setup_problems.append(f"{BROWSER_SETUP.name} exited with {done.returncode}; Chromium is not installed, so "
                              f"the browser tests fail:\n    " + "\n    ".join(tail))


def summary(terminalreporter) -> None:
    """The lines at the end of the run: a failed set-up, and the tests not run for lack of ../shared."""
    if setup_problems:
        terminalreporter.section("set-up problems", sep="=", red=True)
        for problem in setup_problems:
            terminalreporter.line(problem)
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if isinstance(r.longrepr, tuple)]
    for why in sorted(missing):
        tests = [r.nodeid for r in skipped if why in str(r.longrepr[2])]
        terminalreporter.section("not run: an input from outside the repository is missing", sep="=", yellow=True)
        terminalreporter.line(f"{len(tests)} test(s) skipped because {why} (under CI=true they fail):")
        for test in tests:
            terminalreporter.line(f"    {test}")
