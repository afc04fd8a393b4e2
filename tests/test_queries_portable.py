"""Every named query gives the same rows on the embedded store and on Virtuoso 7 over the same data.

The real graph (ontology, evidence, illustrative cases, the reasoner's `inferred` graph) is built once,
loaded into a real Virtuoso through the remote-store client (clkg/stores/loading.py), and every query
of `queries/*.rq` runs on both: on the embedded store through the product's named-query API, on
Virtuoso through the client, its parameters bound the way the product binds them (the same
`namedqueries.bind`, concepts resolved by the same resolve-concept query on Virtuoso, and the same
VALUES block of `sparql.bind_values`). Parameter values come from the query's header: its `examples`,
its `enum` values and its `default`; a parameter with none of them takes the values of `FALLBACK`.

The results are compared as multisets of rows. The normalisations, and why none hides a difference in
rows (each applies to a value, never to which rows there are or how many):
- numbers (xsd:integer, decimal, double, float and the integer types derived from them) are compared by
  value: Virtuoso answers some computed numbers with another numeric type or lexical form;
- a simple literal and an xsd:string literal are the same term (RDF 1.1), as pyoxigraph compares them;
- a GROUP_CONCAT column (found in the query's parsed algebra, with its separator) is compared as the
  multiset of its parts: SPARQL leaves the order of the concatenation to the store;
- blank nodes are compared as "a blank node": their labels are the store's own.
"""
from __future__ import annotations

import collections
import decimal
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from clkg import config, namedqueries, sparql
from clkg.stores import loading
from clkg.stores.remote import RemoteStore

QUERIES = sorted((config.ROOT / "queries").glob("*.rq"))
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + name for name in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                                   "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                   "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
# values for parameters whose header gives no examples, enum or default (a new parameter without any
# fails `test_every_parameter_has_values` until its header or this table gives some)
FALLBACK = {
    ("studies-for-concept", "concept"): ["M3", "M15", "C5.3.3", "D-TASK", "L-TEA", "O-TEA-INS"],
}


def header(path: Path) -> dict:
    return yaml.safe_load("\n".join(line[2:] for line in path.read_text(encoding="utf-8").splitlines()
                                    if line.startswith("#+"))) or {}


def parameter_values(path: Path) -> dict[str, list[str]]:
    """Each parameter's representative values: the header's examples, enum and default, else FALLBACK."""
    declared = header(path).get("params") or {}
    values = {}
    for parameter in namedqueries.parse(path).parameters:
        spec = declared.get(parameter.name) or {}
        found = [str(v) for v in spec.get("examples", [])] + [str(v) for v in spec.get("enum", [])]
        if spec.get("default") is not None:
            found.append(str(spec["default"]))
        values[parameter.name] = list(dict.fromkeys(found)) or FALLBACK.get((path.stem, parameter.name), [])
    return values


def cases() -> list:
    """(query name, arguments): without optional parameters, then each value of each parameter alone
    (with the first value of every required parameter)."""
    found = []
    for path in QUERIES:
        values = parameter_values(path)
        required = {p.name: values[p.name][0] for p in namedqueries.parse(path).parameters
                    if p.required and values[p.name]}
        combinations = [dict(required)]
        for name, options in values.items():
            combinations += [dict(required, **{name: value}) for value in options if required.get(name) != value]
        for arguments in combinations:
            label = ",".join(f"{k}={v}" for k, v in arguments.items()) or "no parameters"
            marks = [KNOWN_DIFFERENCES[(path.stem, name)] for name in arguments if (path.stem, name) in KNOWN_DIFFERENCES]
            found.append(pytest.param(path.stem, arguments, id=f"{path.stem}[{label}]", marks=marks))
    return found


# Differences between the stores that are known and not yet written around. Strict: the day the rows agree,
# the test fails and the entry must go.
KNOWN_DIFFERENCES: dict = {}  # the evidence map's function filter agrees since it reads the kept counts


def test_every_parameter_has_values():
    for path in QUERIES:
        for name, values in parameter_values(path).items():
            assert values, f"{path.name}: give parameter '{name}' examples in the header (or a FALLBACK value)"


# --- reading both stores --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def remote(virtuoso, real_settings) -> RemoteStore:
    store = RemoteStore(virtuoso.query_url, virtuoso.update_url, virtuoso.gsp_url, virtuoso.user,
                        virtuoso.password, timeout=120)
    report = loading.load_graphs(real_settings, store)
    assert report.triples > 10000
    return store


@pytest.fixture(scope="module")
def embedded(real_app):
    client = real_app.test_client()

    def run(name: str, arguments: dict):
        response = client.get(f"/api/queries/{name}", query_string=arguments,
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        results = ox.parse_query_results(response.get_data(), format=ox.QueryResultsFormat.JSON)
        variables = [v.value for v in results.variables]
        return variables, [{n: s[n] for n in variables if s[n] is not None} for s in results]
    return run


def run_remote(remote: RemoteStore, name: str, arguments: dict):
    """A named query on the remote store, bound as the product binds it."""
    resolver = namedqueries.parse(config.ROOT / "queries" / "internal" / "resolve-concept.rq")

    def resolve(value: str):
        text = sparql.bind_values(resolver.text, {"_value": sparql.term_from_wire("typed", value, None)})
        _, rows = remote.select(text)
        return rows[0]["concept"].value if rows else None

    query = namedqueries.parse(config.ROOT / "queries" / f"{name}.rq")
    substitutions = namedqueries.bind(query, arguments, resolve)
    text = query.text
    if substitutions:
        text = sparql.bind_values(text, {k: sparql.term_from_wire(*v) for k, v in substitutions.items()})
    return remote.select(text)


# --- comparing -------------------------------------------------------------------------------------------
def group_concat_columns(text: str) -> dict[str, str]:
    """Projected variables that are a GROUP_CONCAT, with their separator, from the parsed query algebra."""
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    columns = {}

    def children(node):
        for value in node.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, CompValue):
                    yield item

    def aggregates(node):
        if node.name.startswith("Aggregate_"):
            yield node
        for child in children(node):
            yield from aggregates(child)

    def walk(node):
        if node.name == "Extend" and str(node.expr).startswith("__agg_"):
            for aggregate in aggregates(node.p):
                if aggregate.name == "Aggregate_GroupConcat" and aggregate.res == node.expr:
                    columns[str(node.var)] = str(aggregate.separator) if aggregate.separator is not None else " "
        for child in children(node):
            walk(child)

    walk(prepareQuery(text).algebra)
    return columns


def normalise(term, separator: str | None):
    if isinstance(term, ox.BlankNode):
        return ("blank node",)
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    datatype = term.datatype.value
    if separator is not None:
        return ("concat", tuple(sorted(term.value.split(separator))) if term.value else ())
    if datatype in NUMERIC:
        number = decimal.Decimal(term.value) if "double" not in datatype and "float" not in datatype \
            else decimal.Decimal(float(term.value))
        return ("number", number.normalize())
    if datatype == XSD + "boolean":
        return ("boolean", term.value in ("true", "1"))
    return ("literal", term.value, term.language or datatype)


def multiset(variables: list[str], rows: list[dict], concat: dict[str, str]) -> collections.Counter:
    return collections.Counter(tuple((v, normalise(row[v], concat.get(v))) if v in row else (v, None)
                                     for v in variables) for row in rows)


@pytest.mark.parametrize("name,arguments", cases())
def test_named_query_same_rows_on_both_stores(name, arguments, embedded, remote):
    text = (config.ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    concat = group_concat_columns(text)
    local_variables, local_rows = embedded(name, arguments)
    remote_variables, remote_rows = run_remote(remote, name, arguments)
    assert remote_variables == local_variables
    here, there = multiset(local_variables, local_rows, concat), multiset(remote_variables, remote_rows, concat)
    only_here, only_there = here - there, there - here
    assert not only_here and not only_there, (
        f"{name} {json.dumps(arguments)}: {len(local_rows)} rows on the embedded store, {len(remote_rows)} on "
        f"Virtuoso; only on the embedded store: {list(only_here.elements())[:3]}; "
        f"only on Virtuoso: {list(only_there.elements())[:3]}")
