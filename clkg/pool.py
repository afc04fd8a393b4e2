"""The query worker pool: processes that answer queries, each query with one worker until its deadline.

Workers open the store read-only (clkg/sparql.py `serve`). Which request gets a free worker is decided by
clkg/fairness.py (per-client limits, a bounded wait, round-robin). A query gets one deadline, counted from
its request's arrival (clkg/caller.py), for the wait and the run together. While it runs, the pool watches
the worker's pipe and the client's socket: a worker whose query passes the deadline, whose client has gone
away, or which dies is killed, logged with the request id, and replaced in the background, so that a
runaway query or a vanished client never holds the server.

Long queries step aside. A query still running after `long_after` seconds is *long*: its worker drops
to the lowest CPU priority and is stopped once it answers (it cannot be raised again), and the pool
keeps a spare worker ready, so that short requests neither wait for a worker nor share the CPU with
the long ones on equal terms. At most `long_workers` long queries run at once; one more, and the one
that has run longest is stopped (503 with Retry-After) to make room. So at most `size + long_workers`
worker processes exist, and `size` of them never run long queries; clkg/fairness.py keeps the last
free one for clients that have not kept the workers busy lately, and makes a busy client (one whose
queries ran long lately) wait while `long_workers` run, so that only a newcomer's query can push an older
long one out, not the same few clients over and over.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import multiprocessing.connection
import os
import threading
import time

from clkg import forking
from clkg.caller import Caller, ClientGone, current, deadline_of
from clkg.fairness import FairQueue
from clkg.sparql import QueryError, QueryRequest, serve

log = logging.getLogger(__name__)
READY_TIMEOUT = 60.0  # seconds a new worker may take to import and report ready
POLL = 0.25           # seconds between checks of a client socket that has unread data


def _worker_main(connection, target) -> None:
    """A worker process: report ready, then answer queries (clkg/sparql.py `serve`) until the web process
    closes the pipe (it stopped: a quiet end, not a traceback)."""
    try:
        connection.send("ready")
        serve(connection, target)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass


LOWEST_PRIORITY = 19  # the niceness of a worker whose query turned out long


def _lower_priority(pid: int) -> None:
    """Every thread of the process to the lowest CPU priority (Linux keeps a niceness per thread, and a
    worker queries on a thread of its own); a process already gone, or another system, is left as is:
    the worker is stopped after its query all the same."""
    try:
        threads = [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for thread in threads:
        try:
            os.setpriority(os.PRIO_PROCESS, thread, LOWEST_PRIORITY)
        except (OSError, AttributeError):
            pass


class _Worker:
    __slots__ = ("process", "connection", "long_since", "preempted")

    def __init__(self, process, connection):
        self.process, self.connection = process, connection
        self.long_since: float | None = None  # when its query was found long (then it is never reused)
        self.preempted = False  # stopped to make room for a newer long query

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

    def __init__(self, target, *, size: int, timeout: float, per_client: int, queue: int,
                 queue_per_client: int, long_after: float = 0.05, long_workers: int | None = None):
        self.target, self.timeout, self.size = target, timeout, size
        self.long_after = long_after
        self.long_workers = 2 * size if long_workers is None else long_workers
        self._long = 0  # workers running long queries (read without the lock by the fair queue)
        self.fair = FairQueue(per_client=per_client, queue=queue, queue_per_client=queue_per_client,
                              retry_after=timeout, room_for_busy=lambda: self._long < self.long_workers)
        self._context = forking.context()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._starting = 0  # workers being started in the background
        self._closed = False
        for worker in [self._spawn() for _ in range(size)]:  # start them all, then wait for each
            self._await_ready(worker)
            self.fair.add(worker)

    # --- a query -------------------------------------------------------------------------------------------
    def run(self, request: QueryRequest, caller: Caller | None = None) -> tuple[bytes, str]:
        """Evaluate `request` on a worker for `caller` (default: the current caller, else a local one)."""
        caller = caller or current() or Caller()
        deadline = deadline_of(caller, self.timeout)
        worker = self.fair.acquire(caller.client, deadline, caller.gone)
        started = time.monotonic()
        if caller.gone() or started >= deadline:  # do not start a query that cannot be answered
            self._give_back(caller, worker, 0.0)
            raise ClientGone() if caller.gone() else self._time_limit()
        self._top_up()  # a spare for the next request, if this one took the last free worker
        try:
            reply = self._ask(worker, request, deadline, caller)
        except _Stop as stop:
            self._retire(worker, caller, stop.reason, time.monotonic() - started)
            raise stop.error from None
        except BaseException:
            self._retire(worker, caller, "the query was interrupted", time.monotonic() - started)
            raise
        self._give_back(caller, worker, time.monotonic() - started)
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
        long_at = time.monotonic() + self.long_after
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                raise _Stop("time limit", self._time_limit())
            if worker.long_since is None and now >= long_at:
                self._demote(worker, caller)
            waitables = [worker.connection] + ([watch] if watch is not None else [])
            wait = remaining if watch is not None or caller.connection is None else min(remaining, POLL)
            if worker.long_since is None:
                wait = min(wait, max(0.0, long_at - now))
            ready = mp.connection.wait(waitables, timeout=wait)
            if worker.connection in ready:
                try:
                    return worker.connection.recv()
                except (EOFError, OSError):
                    if worker.preempted:
                        raise _Stop("stopped for a newer long query", QueryError(
                            503, f"The server is running the most long queries it runs at once "
                                 f"({self.long_workers}, CLKG_QUERY_LONG_WORKERS); this one had run longest and was "
                                 "stopped to make room. Retry after a few seconds.")) from None
                    raise self._crashed(worker) from None
            if caller.connection is not None and (watch is None or watch in ready):
                if caller.gone():
                    raise _Stop("client gone", ClientGone())
                watch = None

    # --- long queries ------------------------------------------------------------------------------------
    def _demote(self, worker: _Worker, caller: Caller) -> None:
        """The query runs long: its worker to the lowest CPU priority, a spare ready for the next short
        query; over `long_workers` long ones, the oldest is stopped."""
        _lower_priority(worker.pid)
        with self._lock:
            worker.long_since = time.monotonic()
            if worker in self._workers:
                self._long += 1
            long = sorted((w for w in self._workers if w.long_since is not None and not w.preempted),
                          key=lambda w: w.long_since)
            oldest = long[0] if len(long) > self.long_workers else None
            if oldest is not None:
                oldest.preempted = True
        if oldest is not None:
            log.warning("request %s: %d long queries at once; stopping the oldest (worker %s) to make room",
                        caller.request_id, len(long), oldest.pid)
            oldest.process.kill()  # its waiting thread sees the pipe close and answers 503
        self._top_up()

    def _give_back(self, caller: Caller, worker: _Worker, used: float) -> None:
        """After a query that held the worker `used` seconds: a worker that ran a long query is stopped
        (it keeps its low priority); an extra worker beyond `size` idle ones is stopped; else the worker
        is free again (up to `size` + the reserve + 1 idle: a spare is started below the reserve + 1, so
        the band between keeps a steady load from starting and stopping a worker per query)."""
        if worker.long_since is not None or self.fair.idle() > self.size + self.fair.reserve:
            self._kill(worker)
            self.fair.release(caller.client, None, self._beyond_short(used))
            self._top_up()
        else:
            self.fair.release(caller.client, worker, self._beyond_short(used))

    def _beyond_short(self, used: float) -> float:
        """What a query's time counts against its client (clkg/fairness.py): the part past `long_after`,
        so that many short queries never make a client busy, and a long one does."""
        return max(0.0, used - self.long_after)

    def _top_up(self) -> None:
        """Start a worker in the background when fewer than `size` are not running long queries, or
        when none is free and the cap of `size + long_workers` allows one more."""
        with self._lock:
            if self._closed:
                return
            total = len(self._workers) + self._starting
            short = total - self._long
            spare = self.fair.idle() <= self.fair.reserve  # none free beyond the reserve of the clients not busy
            wanted = short < self.size or (spare and total < self.size + self.long_workers)
            if not wanted:
                return
            self._starting += 1
        threading.Thread(target=self._replace, name="clkg-query-worker-start", daemon=True).start()

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
        process = self._context.Process(target=_worker_main, args=(child, self.target), daemon=True,
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
            if worker in self._workers and worker.long_since is not None:
                self._long -= 1
            self._workers.discard(worker)
        worker.process.kill()
        worker.process.join()
        worker.connection.close()

    def _retire(self, worker: _Worker, caller: Caller, reason: str, used: float = 0.0) -> None:
        """Kill a worker whose query cannot finish, log it, free the client's place, start a replacement."""
        self._kill(worker)
        log.warning("request %s: query worker %s killed (%s), client %s; starting a replacement",
                    caller.request_id, worker.pid, reason, caller.client)
        self.fair.release(caller.client, None, self._beyond_short(used))
        self._top_up()

    def _replace(self) -> None:
        """Start a worker (counted in `_starting` by the caller); it joins the pool once it reports ready."""
        try:
            while not self._closed:
                try:
                    worker = self._spawn()
                    self._await_ready(worker)
                except (OSError, RuntimeError, EOFError) as error:
                    log.error("a query worker failed to start (%s); retrying", error)
                    time.sleep(1)
                    continue
                if self._closed:
                    self._kill(worker)
                else:
                    self.fair.add(worker)
                return
        finally:
            with self._lock:
                self._starting -= 1

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._workers = self._workers, set()
        for worker in workers:
            worker.process.kill()
            worker.process.join()
