"""The Flask application: `create_app()` wires the store, the query pool and the blueprints.

The views live in modules of their own and never import this package: what they need of the app is in
`context` (settings, service, request id), the shape of errors in `errors`.
"""
from __future__ import annotations

import atexit
import logging
import time

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from clkg import caller, fulltext, store, stores
from clkg.config import Settings
from clkg.service import Service
from clkg.sparql import QueryError
from clkg.stores.remote import RemoteStoreError
from clkg.web import (api, caching, dataset, dumps, entries, errors, i18n, pages, resource, search, security,
                      sparql_endpoint)
from clkg.web.context import request_id
from clkg.web.errors import error_response


def create_app(settings: Settings | None = None, *, build: bool = True, reason: bool | None = None) -> Flask:
    """Recover from an interrupted write, build the store if its sources changed, start the query
    workers, register the views."""
    settings = settings or Settings.from_env()
    store.recover(settings)  # before anything serves: the store link and the journal settled
    if build:
        store.build(settings, reason=reason)
    stores.catch_up(settings)  # a remote store brought in step with the embedded one (clkg/stores/mirror.py)
    fulltext.current_index(settings)  # the search's index of this generation (clkg/fulltext.py)
    app = Flask(__name__)
    app.config["CLKG"] = settings
    caching.install(app, settings, settings.cache_mb * 1024 * 1024)  # first: its after_request hook runs last
    app.extensions["clkg"] = service = Service(settings)
    atexit.register(service.close)

    for views in (sparql_endpoint,  # /sparql: the SPARQL 1.1 protocol, service description, query page
                  api,              # /api/queries: the named competency questions
                  entries,          # /api/validate, /api/entries: validation and contributions
                  i18n,             # the interface language (en/nl)
                  resource,         # every minted IRI: 303 to HTML, Turtle, JSON-LD, N-Triples, RDF/XML
                  dataset,          # /.well-known/void
                  dumps,            # /dumps: the whole dataset and each graph, in four formats
                  search,           # /search: full-text search (clkg/fulltext.py)
                  pages):           # home, evidence map, listings
        app.register_blueprint(views.blueprint)

    @app.before_request
    def start_the_clock():
        """The request's caller for the query pool: client, deadline from now (its arrival), socket."""
        g.caller_token = caller.activate(request_caller(settings))

    @app.teardown_request
    def stop_the_clock(_error):
        token = g.pop("caller_token", None)
        if token is not None:
            caller.deactivate(token)

    install_request_hooks(app)
    return app


log = logging.getLogger("clkg.web")


def install_request_hooks(app: Flask) -> None:
    """The one place where every response is finished: errors, request ids, logging, security headers."""
    # Flask's app.logger is the "clkg.web" logger; asking for it gives it Flask's handler (the WSGI error stream)
    app.logger.debug("request hooks installed")

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        response = error_response(error.status, error.message)
        response.headers.update(getattr(error, "headers", {}))  # Retry-After on a refusal for capacity
        return response

    @app.errorhandler(RemoteStoreError)
    def remote_store_error(error: RemoteStoreError):
        """The remote store failed a read or a write the web process made itself (a dump, a contribution)."""
        log.error("request %s: %s %r: %s", request_id(), request.method, request.path, error,
                  extra={"request_id": request_id()})
        g.fault_logged = True
        return error_response(502, f"The store could not be reached or refused (request {request_id()}): {error}")

    @app.errorhandler(404)
    def not_found(_error):
        if request.path.startswith("/api/"):
            return error_response(404, f"Nothing is published at {request.path}.")
        return errors.not_found()  # the helpful page for browsers, text or JSON otherwise

    @app.errorhandler(405)
    def not_allowed(error):
        response = error_response(405, f"{request.method} is not allowed on {request.path}.")
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or ()))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Every other HTTP error in the same shape as ours, keeping its headers (Retry-After...)."""
        response = error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def server_fault(error: Exception):
        """A fault of ours: logged with everything needed to find it, answered without a traceback."""
        log.error("request %s: %s %r failed: %s: %s", request_id(), request.method, request.path,
                  type(error).__name__, error, exc_info=error, extra={"request_id": request_id()})
        g.fault_logged = True
        return error_response(500, f"Internal server error (request {request_id()}); it has been logged.")

    @app.before_request
    def assign_request_id():
        request_id()

    @app.after_request
    def finish(response):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["X-Request-Id"] = request_id()
        if response.status_code >= 500 and not g.get("fault_logged"):
            log.warning("request %s: %s %r answered %s", request_id(), request.method, request.path,
                        response.status_code, extra={"request_id": request_id()})
        return security.add_headers(response)


def request_caller(settings: Settings) -> caller.Caller:
    """Who sent this request (clkg/caller.py): the client's address (X-Forwarded-For only from a trusted
    proxy), the deadline of its queries (the time limit from now), its id, and the client's socket as the
    server exposes it (gunicorn, werkzeug's server; none under a test client: no cancellation there)."""
    address = caller.client_address(request.remote_addr, request.headers.getlist("X-Forwarded-For"),
                                    settings.trusted_proxies)
    connection = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    return caller.Caller(client=address, deadline=time.monotonic() + settings.query_timeout,
                         request_id=request_id(), connection=connection)
