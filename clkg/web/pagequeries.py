"""Running the queries behind the views: `queries/pages/*.rq` (and named queries) through the
service's worker pool, so that the time and size limits apply to pages as to the endpoint.

Parameters are bound by the service (`substitutions`): `select("describe", resource=iri(x))` binds
`?_resource`. Rows come back as `Value`s, strings that remember their kind, language and datatype.
"""
from __future__ import annotations

import json

import pyoxigraph as ox
from flask import current_app

from clkg import namedqueries, resources
from clkg.sparql import QueryError
from clkg.web.context import base, service

PAGE_QUERIES = resources.page_queries()
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SPARQL_JSON = "application/sparql-results+json"


class Value(str):
    """A term from a SPARQL JSON result, as a string that knows its kind, language and datatype."""

    kind = "literal"
    lang = None
    datatype = None

    @classmethod
    def of(cls, binding: dict) -> "Value":
        value = cls(binding["value"])
        value.kind = binding["type"] if binding["type"] != "typed-literal" else "literal"
        value.lang = binding.get("xml:lang")
        value.datatype = binding.get("datatype")
        return value

    @classmethod
    def of_literal(cls, term: ox.Literal) -> "Value":
        value = cls(term.value)
        value.kind, value.lang, value.datatype = "literal", term.language, term.datatype.value
        return value

    @classmethod
    def of_term(cls, term) -> "Value":
        """A term of the service's typed answers, as the SPARQL JSON result would have given it."""
        if isinstance(term, ox.Literal):
            value = cls.of_literal(term)
            if term.language or term.datatype.value == XSD_STRING:
                value.datatype = None  # the JSON result names no datatype for these
            return value
        value = cls(term.value)
        value.kind = "uri" if isinstance(term, ox.NamedNode) else "bnode"
        return value

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


def rows(body: bytes | str) -> list[dict]:
    """The rows of a SPARQL JSON result: {variable: Value}."""
    bindings = json.loads(body)["results"]["bindings"]
    return [{var: Value.of(term) for var, term in row.items()} for row in bindings]


def page_query(name: str) -> str:
    """The text of `queries/pages/<name>.rq`, rebased to the deployment's base IRI (cached per app)."""
    cache = current_app.extensions.setdefault("clkg-page-queries", {})
    if name not in cache:
        cache[name] = namedqueries.parse(PAGE_QUERIES / f"{name}.rq", base()).text
    return cache[name]


def iri(value: str) -> tuple:
    """A parameter bound as an IRI."""
    return ("iri", str(value), None)


def literal(value: str) -> tuple:
    """A parameter bound as a plain literal."""
    return ("typed", str(value), None)


def select(name: str, **params) -> list[dict]:
    """Run a page SELECT query with parameters (`resource=iri(...)`); rows of `Value`s by variable."""
    found = service().select(page_query(name), {f"_{key}": value for key, value in params.items()})
    return [{var: Value.of_term(term) for var, term in row.items()} for row in found]


def optional_select(name: str, **params) -> list[dict]:
    """A page query whose answer only adds to a page (labels, backlinks): past the result limit, the
    page is shown without it rather than not at all."""
    try:
        return select(name, **params)
    except QueryError as error:
        if error.status != 400:
            raise
        return []


def construct(name: str, **params) -> list[ox.Triple]:
    """Run a page CONSTRUCT query with parameters; the triples (blank nodes kept apart per call)."""
    return service().construct(page_query(name), {f"_{key}": value for key, value in params.items()})


def named(name: str, params: dict | None = None) -> list[dict]:
    """The rows of a named query (`queries/*.rq`), as `select` gives them."""
    return [{var: Value.of_term(term) for var, term in row.items()} for row in service().named(name, params)]


def as_bool(value) -> bool:
    return str(value).lower() in ("true", "1")


def as_int(value, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
