"""The query worker's walls, raised once at its start: no outbound connection, a memory cap, a big stack.

pyoxigraph always evaluates SERVICE with its built-in HTTP client (it exposes no switch to turn it
off), so the guard (clkg/sparqlguard.py) is the first wall and this is the second: a seccomp filter
makes socket() fail with EPERM for every address family but AF_UNIX (the pipe to the web process is
inherited, never created), and io_uring (which can open sockets without socket()) is refused too.
A worker whose wall cannot be raised refuses to serve (fail closed).
"""
from __future__ import annotations

import errno
import logging
import resource
import socket
import threading

log = logging.getLogger("clkg.sandbox")
STACK_BYTES = 256 * 1024 * 1024   # parsing and evaluation run on this stack (Oxigraph recurses on the algebra)
RECURSION_LIMIT = 20_000          # rdflib's parser recurses about 20 frames per nested group


class SandboxError(RuntimeError):
    """The worker could not raise a wall; it must not serve."""


def forbid_network() -> None:
    """Install the seccomp filter on this process and all its threads (libseccomp through pyseccomp)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # no pyseccomp, or no libseccomp.so.2 on the machine
        raise SandboxError(f"seccomp is not available: {error}") from error
    try:
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
            rules.add_rule(seccomp.ERRNO(errno.EPERM), call)
        rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        rules.load()
    except Exception as error:
        raise SandboxError(f"the seccomp filter could not be loaded: {error}") from error
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return
    raise SandboxError("the seccomp filter is loaded but an AF_INET socket could still be created")


def limit_memory(mebibytes: int) -> None:
    """Cap the address space: an allocation past it fails (Oxigraph aborts, the pool replaces the worker)."""
    if mebibytes <= 0:
        return
    limit = mebibytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError) as error:
        raise SandboxError(f"the memory limit of {mebibytes} MiB could not be set: {error}") from error


def enter(memory_mib: int, *, network: bool = False) -> None:
    """Raise every wall, or raise SandboxError. `network`: the worker asks a remote store (clkg/stores/),
    so it needs its sockets; it runs no SPARQL engine of its own, so no SERVICE client is in it."""
    if not network:
        forbid_network()
    limit_memory(memory_mib)
    threading.stack_size(STACK_BYTES)
    import sys
    sys.setrecursionlimit(RECURSION_LIMIT)


def run_on_big_stack(function, *args):
    """Call `function(*args)` on a fresh thread with the large stack; return its value or raise its error."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed back to the caller's thread, without this thread's frames
            error.__context__ = error.__cause__ = None  # (pyoxigraph objects in them must die on this thread)
            outcome["error"] = error.with_traceback(None)

    thread = threading.Thread(target=target, name="clkg-query")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
