"""Entries are read and validated off the web process: each in a process of its own, with a time and a
memory limit, so that a slow, huge or crashing entry costs its own request a 4xx or 503 and nothing else.

The processes are forked from the product's fork server (clkg/forking.py, which imports
clkg/entrywarm.py once: shapes parsed, SPARQL constraints prepared), so a process starts warm in a few
milliseconds and holds nothing of the web process (no locks, no threads, no store handles). In it:
`resource.setrlimit` caps the address space (what it starts with + CLKG_VALIDATION_MEMORY) and the CPU
seconds, and it runs at a lower priority than the web process and the query workers. The web process
waits at most CLKG_VALIDATION_TIMEOUT seconds and kills it then. At most CLKG_VALIDATION_WORKERS run at
once. A request open to everyone (POST /api/validate) that finds them all busy is answered 503 with
Retry-After at once, so that it never holds a server thread waiting; a contributor's request (a token
holder's POST /api/entries) waits its turn, up to the time limit, so that concurrent contributions are
all stored.

Jobs: `read` (an entry's triples, within the limits of clkg/entryparse.py), `validate` (read, the
context from the store opened read-only, pyshacl, the report: POST /api/validate), `check` (pyshacl on
an entry and a context the caller read: an ingest reads the context from the writer's own handle,
under the write lock, so that the duplicate check sees the store as it is).
"""
from __future__ import annotations

import logging
import math
import os
import resource
import signal
import threading
import time
import uuid

import pyoxigraph as ox

from clkg import forking
from clkg.entryparse import EntryError, Limits, parse_entry

log = logging.getLogger("clkg.entries")
SLOT_WAIT = 0.2  # seconds a public request waits for a free worker before it is answered 503
NICENESS = 10


class WorkerFault(RuntimeError):
    """A fault of the product inside a worker (not of the entry): the web app answers it 500."""


# --- in the worker process ---------------------------------------------------------------------------
def _limit_resources(memory_mb: int, seconds: float) -> int:
    """Cap this process: its address space at what it has now plus `memory_mb`, its CPU time. Returns
    the cap (bytes)."""
    with open("/proc/self/statm") as statm:
        now = int(statm.read().split()[0]) * resource.getpagesize()
    cap = now + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    os.nice(NICENESS)
    return cap


def _near_cap(cap: int) -> bool:
    """Whether this process came close to its address-space cap (a failed allocation surfaces as
    MemoryError, or in C code as another error)."""
    with open("/proc/self/status") as status:
        peak = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmPeak:")), 0)
    return peak > cap - 32 * 1024 * 1024


def _job_read(data: bytes, media_type: str, settings) -> list:
    """(Formats cross the process boundary by media type: pyoxigraph's RdfFormat does not pickle.)"""
    return parse_entry(data, ox.RdfFormat.from_media_type(media_type), settings.base_iri, Limits.of(settings))


def _open_store(data: bytes, media_type: str, settings, with_turtle: bool):
    """Before the cap: the embedded store starts its threads when it opens, and a thread's stack and
    allocator arena are address space the cap would refuse (the process aborts). A remote store's
    context is read over HTTP instead (clkg/stores/)."""
    from clkg import stores

    return stores.validation_source(settings)


def _job_validate(data: bytes, media_type: str, settings, with_turtle: bool, *, reader):
    from clkg import validation

    entry = _job_read(data, media_type, settings)
    report = validation.validate_entry(entry, reader, settings)
    return report.detached(with_turtle)


def _job_check(entry: list, context: list, origin: str | None):
    from clkg import validation

    return validation.check(entry, context, origin).detached(False)


JOBS = {"read": _job_read, "validate": _job_validate, "check": _job_check}
BEFORE_CAP = {"validate": {"reader": _open_store}}  # what a job opens before its process is capped


def _work(connection, job: str, args: tuple, memory_mb: int, seconds: float) -> None:
    """The worker process: one job, one reply, then exit."""
    cap = None
    try:
        opened = {name: open_(*args) for name, open_ in BEFORE_CAP.get(job, {}).items()}
        cap = _limit_resources(memory_mb, seconds)
        connection.send(("ok", JOBS[job](*args, **opened)))
    except EntryError as error:
        connection.send(("refused", error.status, error.message, error.headers))
    except RecursionError:
        connection.send(("refused", 400, "The entry is nested too deeply to be validated.", {}))
    except BaseException as error:
        if isinstance(error, MemoryError) or (cap is not None and _near_cap(cap)):
            connection.send(("refused", 413, "Reading and validating the entry needs more memory than the limit of "
                                             f"{memory_mb} MB (CLKG_VALIDATION_MEMORY): send a smaller entry.", {}))
        else:  # a fault of ours: told to the web process, which logs it and answers 500
            connection.send(("fault", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


# --- in the web process ------------------------------------------------------------------------------
class EntryWorkers:
    """Runs entry jobs in worker processes with the settings' limits (one instance per web app)."""

    def __init__(self, settings):
        self.settings = settings
        self._slots = threading.BoundedSemaphore(max(1, settings.validation_workers))
        self._context = forking.context()

    def start(self) -> None:
        """Start the fork server (it warms the validator up) in the background."""
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, name="clkg-entry-forkserver", daemon=True).start()

    def read(self, data: bytes, fmt, *, request_id: str | None = None, queue: bool = False) -> list:
        """The entry's triples (EntryError when it cannot be read within the limits). `queue`: wait for
        a free worker up to the time limit (a contributor's request) instead of a moment."""
        return self._run("read", (data, fmt.media_type, self.settings), request_id, queue)

    def validate(self, data: bytes, fmt, *, with_turtle: bool = False, request_id: str | None = None):
        """Read the entry and validate it against the store (a Report, its Turtle if asked)."""
        return self._run("validate", (data, fmt.media_type, self.settings, with_turtle), request_id)

    def runner(self, request_id: str | None = None, queue: bool = False):
        """`validation.validate_entry`'s runner: pyshacl and the report in a worker."""
        return lambda entry, context, origin=None: self._run("check", (entry, context, origin), request_id, queue)

    def _run(self, job: str, args: tuple, request_id: str | None, queue: bool = False):
        request_id = request_id or uuid.uuid4().hex
        if not self._slots.acquire(timeout=self.settings.validation_timeout if queue else SLOT_WAIT):
            raise EntryError(503, f"The server is validating {self.settings.validation_workers} entries already; "
                                  "try again in a moment. Nothing was stored.", {"Retry-After": "2"})
        try:
            return self._wait(job, args, request_id)
        finally:
            self._slots.release()

    def _wait(self, job: str, args: tuple, request_id: str):
        timeout = self.settings.validation_timeout
        parent, child = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_work, args=(child, job, args, self.settings.validation_memory,
                                                              timeout), daemon=True)
        started = time.monotonic()
        process.start()
        child.close()
        try:
            if not parent.poll(timeout):
                process.kill()
                log.warning("request %s: entry job %s stopped after the time limit of %g s", request_id, job, timeout)
                raise EntryError(503, f"Reading and validating the entry took longer than the limit of {timeout:g} s "
                                      "(CLKG_VALIDATION_TIMEOUT) and was stopped. Nothing was stored.")
            try:
                reply = parent.recv()
            except (EOFError, OSError):
                process.join(1)
                code = process.exitcode
                how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
                log.error("request %s: entry job %s: the worker stopped (%s) after %.2f s", request_id, job, how,
                          time.monotonic() - started)
                raise EntryError(503, f"The process validating the entry stopped ({how}; request {request_id}), "
                                      f"probably at its memory limit of {self.settings.validation_memory} MB "
                                      "(CLKG_VALIDATION_MEMORY). Nothing was stored.") from None
        finally:
            parent.close()
            if process.is_alive():
                process.kill()
            process.join()
        if reply[0] == "refused":
            raise EntryError(reply[1], reply[2], reply[3])
        if reply[0] == "fault":
            log.error("request %s: entry job %s failed in the worker: %s", request_id, job, reply[1])
            raise WorkerFault(f"request {request_id}: validation failed: {reply[1]}")
        return reply[1]
