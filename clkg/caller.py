"""Who asks, and until when: the caller of a query, as the query pool needs to know it.

A `Caller` carries the client's identity (for per-client fairness), the deadline of its request (the time
limit counts from the request's arrival, covering the wait for a worker and the run), the request id (for
the logs) and the client's socket, so that a query whose client has gone away can be stopped. The web
layer sets the current caller for each request (`activate`); code that runs queries on behalf of the request
(pages, validation context, named queries) needs no change to pass it on. Without one (the command
line, background work), a query is a local caller's with the full time limit.
"""
from __future__ import annotations

import ipaddress
import select
import socket
import time
from contextvars import ContextVar
from dataclasses import dataclass

from clkg.sparql import QueryError

LOCAL = "local"


class Refused(QueryError):
    """A query refused for lack of capacity: the status (429 or 503) with a Retry-After header."""

    def __init__(self, status: int, message: str, retry_after: float):
        super().__init__(status, message)
        self.headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))}


class ClientGone(QueryError):
    """The client closed its connection; nobody reads the answer (499, as proxies log it)."""

    def __init__(self):
        super().__init__(499, "The client closed the connection; the query was stopped.")


@dataclass
class Caller:
    client: str = LOCAL               # the client's address (or "local")
    deadline: float | None = None     # time.monotonic() by which the answer must be ready; None: from now
    request_id: str = "-"
    connection: socket.socket | None = None  # the client's socket, when the server exposes it

    def gone(self) -> bool:
        """The client closed its connection (a readable socket with nothing to read); False when unknown."""
        return self.connection is not None and peer_closed(self.connection)


_current: ContextVar[Caller | None] = ContextVar("clkg_caller", default=None)


def current() -> Caller | None:
    return _current.get()


def activate(caller: Caller):
    """Set the current caller; returns the token that `deactivate` takes."""
    return _current.set(caller)


def deactivate(token) -> None:
    _current.reset(token)


def deadline_of(caller: Caller, timeout: float) -> float:
    return caller.deadline if caller.deadline is not None else time.monotonic() + timeout


def peer_closed(connection: socket.socket) -> bool:
    """True when the peer has closed the connection: readable, and a peek reads end of stream (b"").
    Pending data (a pipelined request) means the client is still there. Sockets that cannot be peeked
    (TLS, a closed descriptor) answer False: cancellation then waits for the time limit."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return True
    except (OSError, ValueError, TypeError):
        return False


def client_address(remote_addr: str | None, forwarded_for: list[str], trusted: tuple) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the X-Forwarded-For
    chain is read from the right (the hop nearest this server), skipping trusted proxies, and the first
    address not trusted is the client. A chain that does not parse stops at the last trusted hop."""
    address = _ip(remote_addr)
    if address is None:
        return remote_addr or LOCAL
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    while _trusted(address, trusted) and hops:
        previous = _ip(hops.pop())
        if previous is None:
            break
        address = previous
    return str(address)


def _ip(text: str | None):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _trusted(address, trusted: tuple) -> bool:
    return any(address in network for network in trusted if network.version == address.version)
