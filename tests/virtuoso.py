"""A real Virtuoso 7 (Debian's virtuoso-opensource) for the tests: a temporary database on 127.0.0.1.

`running_virtuoso()` copies the distribution's virtuoso.ini with every path moved into a temporary
directory, both ports (SQL and HTTP) bound to 127.0.0.1 on free ports and the services that would
announce or reach the network (zero-config, replication, hosting plug-ins) left out; starts `virtuoso-t`
in the foreground in its own process group; waits until `/sparql` answers; then, over SQL (isql), gives
the database administrator a random password and creates a user that may update (role SPARQL_UPDATE,
which opens `/sparql-auth` and the Graph Store endpoint `/sparql-graph-crud-auth`, both with digest
authentication). On leaving, the process group is killed and the directory removed. A Virtuoso that
does not answer within `seconds` fails with the tail of its log. `tests/services_setup.sh` installs it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DISTRIBUTION_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
SERVER = "virtuoso-t"
ISQL = "isql-vt"
SETUP_SCRIPT = Path(__file__).parent / "services_setup.sh"
# sections that start something beyond the two loopback ports (mDNS announcements, replication, plug-ins)
DROPPED_SECTIONS = {"zero config", "replication", "plugins", "striping", "mono"}


@dataclass
class Virtuoso:
    """A running test Virtuoso: its endpoints and the user that may update the store."""

    http_port: int
    sql_port: int
    user: str
    password: str
    directory: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def query_url(self) -> str:
        return f"{self.base}/sparql"

    @property
    def update_url(self) -> str:
        return f"{self.base}/sparql-auth"

    @property
    def gsp_url(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    def log_tail(self, lines: int = 40) -> str:
        log = self.directory / "virtuoso.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.is_file() else "(no log)"


def missing() -> str | None:
    """Why Virtuoso cannot run here (None when it can)."""
    if shutil.which(SERVER) is None or shutil.which(ISQL) is None:
        return f"{SERVER} and {ISQL} are not installed (run {SETUP_SCRIPT})"
    if not DISTRIBUTION_INI.is_file():
        return f"{DISTRIBUTION_INI} is missing (run {SETUP_SCRIPT})"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ini_sections(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """An ini file as (section, [(key, value)]), comments dropped; Virtuoso repeats keys, so no dict."""
    sections: list[tuple[str, list[tuple[str, str]]]] = [("", [])]
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1].strip(), []))
        elif "=" in line:
            key, _, value = line.partition("=")
            sections[-1][1].append((key.strip(), value.strip()))
    return sections


def loopback_ini(directory: Path, sql_port: int, http_port: int) -> str:
    """The distribution's virtuoso.ini for a database in `directory`, listening on 127.0.0.1 only."""
    database = {"DatabaseFile": "virtuoso.db", "ErrorLogFile": "virtuoso.log", "LockFile": "virtuoso.lck",
                "TransactionFile": "virtuoso.trx", "xa_persistent_file": "virtuoso.pxa"}
    temp_database = {"DatabaseFile": "virtuoso-temp.db", "TransactionFile": "virtuoso-temp.trx"}
    overrides = {
        "database": {key: str(directory / name) for key, name in database.items()},
        "tempdatabase": {key: str(directory / name) for key, name in temp_database.items()},
        "parameters": {"ServerPort": f"127.0.0.1:{sql_port}", "DisableUnixSocket": "1", "DirsAllowed": f"., {directory}",
                       "VADInstallDir": str(directory / "vad"), "NumberOfBuffers": "20000", "MaxDirtyBuffers": "15000",
                       "MaxQueryMem": "500M", "ThreadsPerQuery": "2", "CheckpointInterval": "0"},
        "httpserver": {"ServerPort": f"127.0.0.1:{http_port}", "ServerRoot": str(directory / "vsp"),
                       "DefaultMailServer": "127.0.0.1:1"},
        "uriqa": {"DefaultHost": f"127.0.0.1:{http_port}"},
        # no silent truncation and no "anytime" partial answers: a comparison must see every row
        "sparql": {"ResultSetMaxRows": "1000000", "MaxQueryExecutionTime": "0", "MaxQueryCostEstimationTime": "0"},
    }
    out = []
    for name, entries in ini_sections(DISTRIBUTION_INI.read_text(errors="replace")):
        if not name or name.lower() in DROPPED_SECTIONS:
            continue
        wanted = dict(overrides.get(name.lower(), {}))
        out.append(f"[{name}]")
        seen = set()
        for key, value in entries:
            if key in seen:
                continue
            seen.add(key)
            out.append(f"{key} = {wanted.pop(key, value)}")
        out.extend(f"{key} = {value}" for key, value in wanted.items())
        out.append("")
    return "\n".join(out)


def isql(server: Virtuoso, password: str, statements: str, timeout: float = 60) -> str:
    """Run SQL statements as the database administrator; raises with Virtuoso's message on an error."""
    script = server.directory / "setup.sql"
    script.write_text(statements)
    done = subprocess.run([ISQL, f"127.0.0.1:{server.sql_port}", "dba", password, str(script)],
                          capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql failed ({done.returncode}): {output[-2000:]}")
    return output


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _die_with_parent() -> None:
    """In the child before exec: Linux kills it when the test process dies without stopping it."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextlib.contextmanager
def running_virtuoso(seconds: float = 120):
    """Start a test Virtuoso (see the module's docstring); yield it; stop it and remove its files."""
    reason = missing()
    if reason:
        raise RuntimeError(f"Virtuoso cannot run: {reason}")
    directory = Path(tempfile.mkdtemp(prefix="clkg-virtuoso-"))
    server = Virtuoso(free_port(), free_port(), "clkg", secrets.token_hex(12), directory)
    (directory / "virtuoso.ini").write_text(loopback_ini(directory, server.sql_port, server.http_port))
    (directory / "vsp").mkdir()
    process = subprocess.Popen([SERVER, "+foreground", "+configfile", str(directory / "virtuoso.ini")],
                               cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True, preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + seconds
        while not _answers(server.query_url):
            if process.poll() is not None:
                raise RuntimeError(f"Virtuoso exited ({process.returncode}) before answering:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Virtuoso did not answer {server.query_url} within {seconds:g} s:\n"
                                   f"{server.log_tail()}")
            time.sleep(0.5)
        admin = "a" + secrets.token_hex(12)  # an SQL identifier: never starts with a digit
        isql(server, "dba", f"""
DB.DBA.USER_CREATE('{server.user}', '{server.password}');
GRANT SPARQL_UPDATE TO "{server.user}";
DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{server.user}', 15);
SET PASSWORD dba {admin};
""")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)
