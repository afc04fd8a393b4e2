"""The Flask application: `create_app()` wires the store, the query pool and the blueprints."""
from __future__ import annotations

import atexit

from flask import Flask, jsonify, request

from clkg import store
from clkg.web import caching
from clkg.config import Settings
from clkg.service import Service
from clkg.sparql import QueryError


def create_app(settings: Settings | None = None, *, build: bool = True, reason: bool | None = None) -> Flask:
    """Build the store if its sources changed, start the query workers, register the views."""
    settings = settings or Settings.from_env()
    if build:
        store.build(settings, reason=reason)
    app = Flask(__name__)
    app.config["CLKG"] = settings
    caching.install(app, settings, settings.cache_mb * 1024 * 1024)  # first: its after_request hook runs last
    app.extensions["clkg"] = service = Service(settings, pool_size=2)
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

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        return error_response(error.status, error.message)

    @app.errorhandler(404)
    def not_found(_error):
        if request.path.startswith("/api/"):
            return error_response(404, f"Nothing is published at {request.path}.")
        return linked_data.not_found()  # the helpful page for browsers, text or JSON otherwise

    @app.errorhandler(405)
    def not_allowed(_error):
        return error_response(405, f"{request.method} is not allowed on {request.path}.")

    @app.after_request
    def allow_cross_origin_reads(response):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return app


def error_response(status: int, message: str):
    """Errors answer JSON to machines and plain text otherwise; never a traceback."""
    best = request.accept_mimetypes.best_match(["application/json", "text/plain", "text/html"])
    if best == "application/json" or request.path.startswith("/api/"):
        return jsonify({"error": message, "status": status}), status
    return message + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def service() -> Service:
    from flask import current_app

    return current_app.extensions["clkg"]
