"""Starting the web server: `serve()` (gunicorn, what `clkg serve` runs) and `main()`, the development
server (`python -m clkg.server`, or `python server.py` in a checkout), both on `clkg.web.create_app`.

A server that cannot start says why and exits non-zero: the packaged files and queries are checked and
the store is built and asked `ASK {}` before gunicorn starts, so a bad setting, a broken source file or
a missing resource stops the command with a message; a gunicorn worker whose app still cannot be made
ends the master with it (gunicorn's boot error, exit code 3).
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys

from clkg import namedqueries, resources, store, stores
from clkg.config import Settings
from clkg.stores.remote import RemoteStoreError
from clkg.web import create_app

__all__ = ["StartupError", "check", "check_apart", "create_app", "main", "prepare", "serve"]

WORKER_BOOT_ERROR = 3  # gunicorn's exit code for a worker that failed to boot: its master then halts


class StartupError(RuntimeError):
    """The app cannot be made or cannot answer: the message says why."""


def check(settings: Settings, *, progress: bool = True) -> None:
    """What can fail before serving, without starting query workers (a gunicorn master must not: its
    worker would inherit the pool's process machinery): the packaged files are there, every query file
    parses, the store is built if a source changed, and it opens and answers `ASK {}`. Raises
    ResourceError, BuildError or StartupError."""
    resources.check()
    for path in sorted(resources.queries().rglob("*.rq")):
        try:
            namedqueries.parse(path, settings.base_iri)
        except (OSError, ValueError) as error:
            raise StartupError(f"{path}: {error}") from error
    store.build(settings, progress=progress)
    try:
        reader = store.open_read_only(settings)
        answered = bool(reader.query("ASK {}"))
        del reader
    except OSError as error:
        raise StartupError(f"the store at {store.store_path(settings)} cannot be read: {error}") from error
    if not answered:
        raise StartupError(f"the store at {store.store_path(settings)} does not answer ASK {{}}")
    try:
        stores.catch_up(settings)  # a remote store: reachable, and holding what the embedded store holds
    except RemoteStoreError as error:
        raise StartupError(str(error)) from error


def check_apart(settings: Settings, *, progress: bool = True) -> None:
    """`check()` in a forked child, for a process that forks later (gunicorn's master). The embedded
    store starts its background threads when it first opens; a process forked after that inherits the
    store library's state but not its threads, and its first write then waits for them forever. The
    child's error is raised here as it was raised there."""
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (coverage does not follow a fork)
        os.close(readable)
        try:
            check(settings, progress=progress)
            failure = None
        except BaseException as error:  # sent to the parent, which raises it
            failure = error if isinstance(error, (ValueError, store.BuildError, resources.ResourceError,
                                                  StartupError)) else StartupError(f"{type(error).__name__}: {error}")
        with os.fdopen(writable, "wb") as pipe:
            try:
                pickle.dump(failure, pipe)
            except Exception:  # an error that does not pickle is sent as its message
                pickle.dump(StartupError(str(failure)), pipe)
        os._exit(0)  # at once: the store library's teardown is the child's no more
    os.close(writable)
    with os.fdopen(readable, "rb") as pipe:
        sent = pipe.read()
    _, status = os.waitpid(child, 0)
    if not sent:
        raise StartupError(f"the start-up check stopped without an answer (wait status {status})")
    failure = pickle.loads(sent)
    if failure is not None:
        raise failure


def prepare(settings: Settings, *, progress: bool = True):
    """`check()`, then make the app (its query workers running) in this process."""
    check(settings, progress=progress)
    try:
        return create_app(settings, build=False)
    except Exception as error:  # whatever stops the factory is reported, not shown as a traceback
        raise StartupError(f"the web app cannot be made: {type(error).__name__}: {error}") from error


def serve(settings: Settings, *, threads: int | None = None) -> int:
    """Production serving: gunicorn, CLKG_WEB_PROCESSES processes (one by default), threads for
    concurrency. The CPU work of queries is in each process's query workers (CLKG_QUERY_WORKERS, one per
    CPU by default), so one process serves a machine; several read the same store (writes are serialised
    by the store's file locks, caches follow the store's generation), at the price of per-client limits
    that each process keeps for itself. Threads: one per running and per waiting query and some to spare
    (Settings.web_threads), so that the pool, not gunicorn's own unbounded backlog of requests, decides
    who waits."""
    threads = threads or settings.web_threads
    from gunicorn.app.base import BaseApplication

    check_apart(settings)  # what can fail, before a port is opened; never opens the store in this process

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.web_processes)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", int(settings.query_timeout * 4 + 30))
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 27+: no socket in the user's home
                self.cfg.set("control_socket_disable", True)

        def load(self):
            try:
                return create_app(settings, build=False)
            except Exception as error:
                print(f"clkg: the server's worker cannot start: {type(error).__name__}: {error}", file=sys.stderr)
                sys.stderr.flush()
                # at once: a normal interpreter exit can crash in the native store's teardown, and gunicorn
                # would then start the worker again and again instead of stopping on its boot error
                os._exit(WORKER_BOOT_ERROR)

    Server().run()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m clkg.server [--host H] [--port P]`: the Werkzeug development server."""
    parser = argparse.ArgumentParser(description="Serve the Collective Learning Knowledge Graph (development server).")
    parser.add_argument("--host", help="address to bind (default: CLKG_HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: CLKG_PORT, else 8000)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        settings.host, settings.port = args.host or settings.host, args.port or settings.port
        app = prepare(settings)
    except (ValueError, store.BuildError, resources.ResourceError, StartupError) as error:  # ValueError: settings
        print(f"clkg: cannot start the server: {error}", file=sys.stderr)
        return 1
    app.run(host=settings.host, port=settings.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
