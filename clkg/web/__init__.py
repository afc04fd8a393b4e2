"""The Flask application: `create_app()` wires the store, the query pool and the blueprints."""
from __future__ import annotations

import atexit
import logging
import time
import uuid

from flask import Flask, Response, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from clkg import caller, store
from clkg.web import caching
from clkg.config import Settings
from clkg.service import Service
from clkg.sparql import QueryError


def create_app(settings: Settings | None = None, *, build: bool = True, reason: bool | None = None) -> Flask:
    """Recover from an interrupted write, build the store if its sources changed, start the query
    workers, register the views."""
    settings = settings or Settings.from_env()
    store.recover(settings)  # before anything serves: the store link and the journal settled
    if build:
        store.build(settings, reason=reason)
    app = Flask(__name__)
    app.config["CLKG"] = settings
    caching.install(app, settings, settings.cache_mb * 1024 * 1024)  # first: its after_request hook runs last
    app.extensions["clkg"] = service = Service(settings)
    atexit.register(service.close)

    from clkg.web import api, dataset, entries, i18n, linked_data, pages, sparql_endpoint

    for views in (sparql_endpoint,  # /sparql: the SPARQL 1.1 protocol, service description, query page
                  api,              # /api/queries: the named competency questions
                  entries,          # /api/validate, /api/entries: validation and contributions
                  i18n,             # the interface language (en/nl)
                  linked_data,      # every minted IRI: 303 to HTML, Turtle, JSON-LD, N-Triples, RDF/XML
                  dataset,          # /.well-known/void and /dumps
                  pages):           # home, evidence map, search, listings
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
REQUEST_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
REQUEST_ID_LENGTH = 64


def request_id() -> str:
    """The id of the current request: the caller's X-Request-Id when it is short and plain (1-64 of
    letters, digits, `-_.`), so that a proxy's id can be followed through the logs, else a new one."""
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        plain = 0 < len(given) <= REQUEST_ID_LENGTH and set(given) <= REQUEST_ID_CHARACTERS
        g.request_id = given if plain else uuid.uuid4().hex
    return g.request_id


def install_request_hooks(app: Flask) -> None:
    """The one place where every response is finished: errors, request ids, logging, security headers."""
    from clkg.web import linked_data, security

    # Flask's app.logger is the "clkg.web" logger; asking for it gives it Flask's handler (the WSGI error stream)
    app.logger.debug("request hooks installed")

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        response = error_response(error.status, error.message)
        response.headers.update(getattr(error, "headers", {}))  # Retry-After on a refusal for capacity
        return response

    @app.errorhandler(404)
    def not_found(_error):
        if request.path.startswith("/api/"):
            return error_response(404, f"Nothing is published at {request.path}.")
        return linked_data.not_found()  # the helpful page for browsers, text or JSON otherwise

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


def error_response(status: int, message: str) -> Response:
    """Errors answer JSON to machines and plain text otherwise; never a traceback. Server faults (5xx)
    carry the request id, so that a report can be matched with the log."""
    best = request.accept_mimetypes.best_match(["application/json", "text/plain", "text/html"])
    if best == "application/json" or request.path.startswith("/api/"):
        body = {"error": message, "status": status}
        if status >= 500:
            body["request_id"] = request_id()
        response = jsonify(body)
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    return response


def request_caller(settings: Settings) -> caller.Caller:
    """Who sent this request (clkg/caller.py): the client's address (X-Forwarded-For only from a trusted
    proxy), the deadline of its queries (the time limit from now), its id, and the client's socket as the
    server exposes it (gunicorn, werkzeug's server; none under a test client: no cancellation there)."""
    address = caller.client_address(request.remote_addr, request.headers.getlist("X-Forwarded-For"),
                                    settings.trusted_proxies)
    connection = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    return caller.Caller(client=address, deadline=time.monotonic() + settings.query_timeout,
                         request_id=request_id(), connection=connection)


def service() -> Service:
    from flask import current_app

    return current_app.extensions["clkg"]
