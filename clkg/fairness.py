"""Who gets the next free query worker: bounded, per-client, round-robin admission.

Rules (the numbers are settings, see clkg/config.py):
- a client runs at most `per_client` queries at once (fewer than the workers), so one client's heavy
  queries always leave workers to the others;
- a request that finds no worker it may use waits, at most until its deadline; at most `queue` requests
  wait in all, and at most `queue_per_client` of one client: over either bound it is refused at once
  (503 for a full server, 429 for one client's flood), with Retry-After;
- when a worker frees, the waiting client that has used the workers least lately goes first (worker
  seconds, halved every HALF_LIFE seconds; equals in turn, round-robin), each its oldest request first,
  not in order of arrival: a client with many waiting requests, or with heavy ones, does not delay one
  with a few light ones;
- a client that has used more than `busy_after` worker seconds lately is *busy*: it may not take the
  last `reserve` free workers, which stay for the others, nor start a query while the pool says it has
  no room for another long one (`room_for_busy`): it waits instead of pushing an older long query out.
  (The pool counts only the time of a query past the point where it turns long, so a client of many
  short queries is never busy.)
A waiting request whose client has gone away leaves the queue (checked every `poll` seconds).
"""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Callable

from clkg.caller import ClientGone, Refused

HALF_LIFE = 10.0  # seconds over which a client's use of the workers counts half


class _Ticket:
    __slots__ = ("client", "gone", "ready", "worker", "left")

    def __init__(self, client: str, gone: Callable[[], bool]):
        self.client, self.gone, self.ready, self.worker, self.left = client, gone, threading.Event(), None, False


class FairQueue:
    """Hands out workers (any objects) to clients under the rules above; thread-safe."""

    def __init__(self, *, per_client: int, queue: int, queue_per_client: int, retry_after: float,
                 poll: float = 0.1, busy_after: float = 0.5, reserve: int = 1,
                 room_for_busy: Callable[[], bool] = lambda: True):
        self.per_client, self.queue, self.queue_per_client = per_client, queue, queue_per_client
        self.retry_after, self.poll = retry_after, poll
        self.busy_after, self.reserve, self.room_for_busy = busy_after, reserve, room_for_busy
        self._usage: dict[str, tuple[float, float]] = {}  # client -> (worker seconds, when counted)
        self._lock = threading.Lock()
        self._idle: list = []
        self._running: Counter = Counter()
        self._waiting: dict[str, deque[_Ticket]] = {}  # in round-robin order: the next client to serve first
        self._waiting_count = 0

    def add(self, worker) -> None:
        """A worker is ready for queries (new, or back from a query)."""
        with self._lock:
            self._idle.append(worker)
            self._dispatch()

    def acquire(self, client: str, deadline: float, gone: Callable[[], bool] = lambda: False):
        """A worker for `client`, or Refused (no room to wait, or none free by `deadline`) or ClientGone."""
        with self._lock:
            if self._idle and self._running[client] < self.per_client and self._may_take(client):
                return self._assign(client)  # nobody waiting may take it: _dispatch would have given it away
            if self._waiting_count >= self.queue:
                self._drop_gone()  # a burst of clients that left must not keep the next one out
            if self._waiting_count >= self.queue:
                raise Refused(503, f"The server is busy: {self._waiting_count} queries are waiting for a worker "
                                   f"(CLKG_QUERY_QUEUE); retry after a few seconds.", self.retry_after)
            if len(self._waiting.get(client, ())) >= self.queue_per_client:
                raise Refused(429, f"Too many queries from your address at once: {self._running[client]} "
                                   f"running and {len(self._waiting[client])} waiting is the most one client may "
                                   f"have (CLKG_QUERY_PER_CLIENT, CLKG_QUERY_QUEUE_PER_CLIENT).", self.retry_after)
            ticket = _Ticket(client, gone)
            self._waiting.setdefault(client, deque()).append(ticket)  # a new client joins at the back of the turn
            self._waiting_count += 1
        while True:
            ticket.ready.wait(max(0.0, min(deadline - time.monotonic(), self.poll)))
            left = gone()  # a socket check: outside the lock
            with self._lock:
                if ticket.worker is not None:
                    return ticket.worker
                expired = time.monotonic() >= deadline
                left = left or ticket.left
                if expired or left:
                    self._leave(ticket)
                    if not expired:
                        raise ClientGone()
                    raise Refused(503, "No query worker became free within the time limit; the server is busy, "
                                       "retry after a few seconds.", self.retry_after)

    def release(self, client: str, worker=None, used: float = 0.0) -> None:
        """The client's query is done after `used` seconds on its worker; the worker (None: it is gone, a
        new one will be `add`ed)."""
        with self._lock:
            now = time.monotonic()
            self._usage[client] = (self._used(client, now) + used, now)
            if len(self._usage) > 4 * (self.queue + self.per_client) + 1024:  # forget clients long quiet
                self._usage = {c: u for c, u in self._usage.items() if self._used(c, now) > 0.001}
            self._running[client] -= 1
            if self._running[client] <= 0:
                del self._running[client]
            if worker is not None:
                self._idle.append(worker)
            self._dispatch()

    def waiting(self) -> int:
        with self._lock:
            return self._waiting_count

    def idle(self) -> int:
        """Workers free right now."""
        with self._lock:
            return len(self._idle)

    # --- under the lock ----------------------------------------------------------------------------------
    def _used(self, client: str, now: float) -> float:
        seconds, at = self._usage.get(client, (0.0, now))
        return seconds * 0.5 ** ((now - at) / HALF_LIFE)

    def _may_take(self, client: str) -> bool:
        """A busy client may not take the last `reserve` free workers, nor any while there is no room for
        another long query."""
        if self._used(client, time.monotonic()) <= self.busy_after:
            return True
        return len(self._idle) > self.reserve and self.room_for_busy()

    def _assign(self, client: str):
        self._running[client] += 1
        return self._idle.pop()

    def _dispatch(self) -> None:
        """Give idle workers to waiting requests: of the clients under their limits, the one that used the
        workers least lately (the first in turn among equals)."""
        while self._idle:
            now = time.monotonic()
            allowed = [c for c in self._waiting if self._running[c] < self.per_client and self._may_take(c)]
            if not allowed:
                return
            client = min(allowed, key=lambda c: self._used(c, now))
            tickets = self._waiting.pop(client)
            ticket = tickets.popleft()
            if tickets:
                self._waiting[client] = tickets  # to the back of the turn
            self._waiting_count -= 1
            ticket.worker = self._assign(client)
            ticket.ready.set()

    def _drop_gone(self) -> None:
        """Take out of the queue the waiting requests whose clients have left (their threads then end)."""
        for tickets in list(self._waiting.values()):
            for ticket in [t for t in tickets if t.gone()]:
                ticket.left = True
                self._leave(ticket)
                ticket.ready.set()

    def _leave(self, ticket: _Ticket) -> None:
        tickets = self._waiting.get(ticket.client)
        if tickets is not None and ticket in tickets:
            tickets.remove(ticket)
            self._waiting_count -= 1
            if not tickets:
                del self._waiting[ticket.client]
