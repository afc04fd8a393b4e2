"""The query worker pool: processes that answer queries, each query with one worker for a limited time.

Workers open the store read-only (clkg/sparql.py `serve`). A worker that passes the time limit is
killed and replaced, so a runaway query never holds the server.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import threading

from clkg.sparql import QueryError, serve

STARTUP_SECONDS = 60


class QueryPool:
    """Worker processes that answer queries; each query gets one worker for at most `timeout` s."""

    def __init__(self, store_dir: str, size: int = 2, timeout: float = 5.0):
        self.store_dir, self.timeout = store_dir, timeout
        self._context = mp.get_context("spawn")
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._workers = []
        self._starting = set()  # connections of workers that have not yet said they are ready
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self):
        parent, child = self._context.Pipe()
        process = self._context.Process(target=serve, args=(child, self.store_dir), daemon=True)
        process.start()
        child.close()
        with self._lock:
            self._workers.append(process)
            self._starting.add(parent)
        return process, parent

    def _await_ready(self, connection) -> None:
        """A new worker first raises its sandbox and loads its parser, then says "ready"; that start-up
        (seconds on a busy machine) is not counted in a query's time limit."""
        with self._lock:
            if connection not in self._starting:
                return
            self._starting.discard(connection)
        if not connection.poll(STARTUP_SECONDS):
            raise EOFError("the query worker did not start")
        connection.recv()

    def run(self, request: dict) -> tuple[bytes, str]:
        process, connection = self._idle.get()
        try:
            self._await_ready(connection)
            connection.send(request)
            if not connection.poll(self.timeout):
                process.kill()
                process.join()
                with self._lock:
                    self._workers.remove(process)
                process, connection = self._start()
                raise QueryError(503, f"The query was stopped after the time limit of {self.timeout:g} s.")
            reply = connection.recv()
        except (EOFError, BrokenPipeError, ConnectionError):
            process.kill()
            with self._lock:
                if process in self._workers:
                    self._workers.remove(process)
            process, connection = self._start()
            raise QueryError(503, "The query worker stopped unexpectedly; please try again.") from None
        finally:
            self._idle.put((process, connection))
        if reply[0] == "error":
            raise QueryError(reply[1], reply[2])
        return reply[1], reply[2]

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for process in workers:
            process.kill()
            process.join()
