"""What every view asks of the application: its settings, the query service and the request's id.

A module of its own so that the views never import the package `clkg.web` (whose factory imports
every view): the views depend on this, the factory on the views, and nothing goes round in a circle.
"""
from __future__ import annotations

import uuid

from flask import current_app, g, has_request_context, request

from clkg.config import Settings
from clkg.service import Service

REQUEST_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
REQUEST_ID_LENGTH = 64


def settings() -> Settings:
    return current_app.config["CLKG"]


def base() -> str:
    """The deployment's base IRI (`CLKG_BASE_IRI`)."""
    return settings().base_iri


def service() -> Service:
    return current_app.extensions["clkg"]


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
