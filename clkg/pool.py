"""The query worker pool: processes that answer queries, each query with one worker until its deadline.

Workers open the store read-only (clkg/sparql.py `serve`). Which request gets a free worker is decided by
clkg/fairness.py (per-client limits, a bounded wait, round-robin). A query gets one deadline, counted from
its request's arrival (clkg/caller.py), for the wait and the run together. While it runs, the pool watches
the worker's pipe and the client's socket: a worker whose query passes the deadline, whose client has gone
away, or which dies is killed, logged with the request id, and replaced in the background, so that a
runaway query or a vanished client never holds the server.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import multiprocessing.connection
import sys
import threading
import time

from clkg.caller import Caller, ClientGone, current, deadline_of
from clkg.fairness import FairQueue
from clkg.sparql import QueryError, serve

log = logging.getLogger(__name__)
READY_TIMEOUT = 60.0  # seconds a new worker may take to import and report ready
POLL = 0.25           # seconds between checks of a client socket that has unread data


def _worker_main(connection, store_dir: str) -> None:
    """A worker process: report ready, then answer queries (clkg/sparql.py `serve`) until the web process
    closes the pipe (it stopped: a quiet end, not a traceback)."""
    try:
        connection.send("ready")
        serve(connection, store_dir)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass


def _worker_context():
    """Workers are forked from a fork server that has imported what they need once: a replacement is
    ready in milliseconds, not the second of a fresh interpreter (pyoxigraph, and networkx by way of
    clkg.store), and never inherits the web process's threads or open store. Every child also runs the
    program's main module again (multiprocessing's rule: `server.py`, `clkg.cli`); preloading the clkg
    modules this process has imported makes that cheap too. Without a fork server (Windows): spawn."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    ours = sorted(name for name in list(sys.modules) if name.split(".")[0] == "clkg")
    context.set_forkserver_preload(["__main__", __name__, "clkg.store", *ours])
    return context


class _Worker:
    __slots__ = ("process", "connection")

    def __init__(self, process, connection):
        self.process, self.connection = process, connection

    @property
    def pid(self):
        return self.process.pid


class _Stop(Exception):
    """The worker must go: `reason` for the log, `error` for the client."""

    def __init__(self, reason: str, error: QueryError):
        super().__init__(reason)
        self.reason, self.error = reason, error


class QueryPool:
    """`size` worker processes; each query gets one worker until its deadline (`timeout` s by default);
    `per_client`, `queue` and `queue_per_client` are the admission rules of clkg/fairness.py."""

    def __init__(self, store_dir: str, *, size: int, timeout: float, per_client: int, queue: int,
                 queue_per_client: int):
        self.store_dir, self.timeout, self.size = store_dir, timeout, size
        self.fair = FairQueue(per_client=per_client, queue=queue, queue_per_client=queue_per_client,
                              retry_after=timeout)
        self._context = _worker_context()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        for worker in [self._spawn() for _ in range(size)]:  # start them all, then wait for each
            self._await_ready(worker)
            self.fair.add(worker)

    # --- a query -------------------------------------------------------------------------------------------
    def run(self, request: dict, caller: Caller | None = None) -> tuple[bytes, str]:
        """Evaluate `request` on a worker for `caller` (default: the current caller, else a local one)."""
        caller = caller or current() or Caller()
        deadline = deadline_of(caller, self.timeout)
        worker = self.fair.acquire(caller.client, deadline, caller.gone)
        if caller.gone() or time.monotonic() >= deadline:  # do not start a query that cannot be answered
            self.fair.release(caller.client, worker)
            raise ClientGone() if caller.gone() else self._time_limit()
        try:
            reply = self._ask(worker, request, deadline, caller)
        except _Stop as stop:
            self._retire(worker, caller, stop.reason)
            raise stop.error from None
        except BaseException:
            self._retire(worker, caller, "the query was interrupted")
            raise
        self.fair.release(caller.client, worker)
        if reply[0] == "error":
            raise QueryError(reply[1], reply[2])
        return reply[1], reply[2]

    def _ask(self, worker: _Worker, request: dict, deadline: float, caller: Caller):
        """The worker's reply; _Stop when the deadline passes, the client goes away or the worker dies.
        Waits on the pipe and the client's socket together; a socket with unread data (a pipelined request)
        is checked every POLL seconds instead, as it stays readable."""
        try:
            worker.connection.send(request)
        except OSError:  # it died while idle
            raise self._crashed(worker) from None
        watch = caller.connection
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Stop("time limit", self._time_limit())
            waitables = [worker.connection] + ([watch] if watch is not None else [])
            wait = remaining if watch is not None or caller.connection is None else min(remaining, POLL)
            ready = mp.connection.wait(waitables, timeout=wait)
            if worker.connection in ready:
                try:
                    return worker.connection.recv()
                except (EOFError, OSError):
                    raise self._crashed(worker) from None
            if caller.connection is not None and (watch is None or watch in ready):
                if caller.gone():
                    raise _Stop("client gone", ClientGone())
                watch = None

    def _time_limit(self) -> QueryError:
        return QueryError(503, f"The query was stopped after the time limit of {self.timeout:g} s "
                               "(counted from the request's arrival).")

    @staticmethod
    def _crashed(worker: _Worker) -> _Stop:
        worker.process.join(1)
        return _Stop(f"crashed, exit code {worker.process.exitcode}",
                     QueryError(503, "The query worker stopped unexpectedly; please try again."))

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for monitoring)."""
        with self._lock:
            return sorted(worker.pid for worker in self._workers)

    # --- workers -------------------------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, self.store_dir), daemon=True,
                                        name="clkg-query-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.connection.poll(READY_TIMEOUT) or worker.connection.recv() != "ready":
            self._kill(worker)
            raise RuntimeError(f"a query worker did not start within {READY_TIMEOUT:g} s")

    def _kill(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.process.kill()
        worker.process.join()
        worker.connection.close()

    def _retire(self, worker: _Worker, caller: Caller, reason: str) -> None:
        """Kill a worker whose query cannot finish, log it, free the client's place, start a replacement."""
        self._kill(worker)
        log.warning("request %s: query worker %s killed (%s), client %s; starting a replacement",
                    caller.request_id, worker.pid, reason, caller.client)
        self.fair.release(caller.client, None)
        threading.Thread(target=self._replace, name="clkg-query-worker-replace", daemon=True).start()

    def _replace(self) -> None:
        """Start a worker in place of a killed one; it joins the pool once it reports ready."""
        while not self._closed:
            try:
                worker = self._spawn()
                self._await_ready(worker)
            except (OSError, RuntimeError, EOFError) as error:
                log.error("a replacement query worker failed to start (%s); retrying", error)
                time.sleep(1)
                continue
            if self._closed:
                self._kill(worker)
            else:
                self.fair.add(worker)
            return

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._workers = self._workers, set()
        for worker in workers:
            worker.process.kill()
            worker.process.join()
