"""What the tests need from outside the repository, and what happens when it is missing.

- Chromium (tests/test_browser.py) and Virtuoso 7 (the remote-store tests) from the distribution: installed
  by `tests/browser_setup.sh` and `tests/services_setup.sh` when their tests are collected and the program
  is missing, so that the README's one test command sets up a fresh machine.
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


# what a test file needs from the distribution: (test files, the program it needs, the script that installs it)
SERVICES = [
    (("test_browser.py",), CHROMIUM, BROWSER_SETUP),
    (("test_remote_store.py", "test_queries_portable.py"), Path("/usr/bin/virtuoso-t"),
     Path(__file__).parent / "services_setup.sh"),
]


def install_services_if_needed(items, terminal=None) -> None:
    """Run each set-up script once when a collected test needs its program and it is not installed."""
    collected = {Path(str(item.fspath)).name for item in items}
    for files, program, script in SERVICES:
        if program.exists() or not collected & set(files):
            continue
        if terminal is not None:
            terminal.write_line(f"{program} is missing: installing it with {script.name} (apt-get) ...")
        try:
            done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            setup_problems.append(f"{script.name} could not run: {error}")
            continue
        if done.returncode != 0 or not program.exists():
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            setup_problems.append(f"{script.name} exited with {done.returncode}; {program} is not installed, so "
                                  f"the tests that need it fail:\n    " + "\n    ".join(tail))


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
