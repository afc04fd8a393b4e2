"""Every named query gives the same rows on the embedded store and on Virtuoso 7 over the same data.

The real graph (ontology, evidence, illustrative cases, the reasoner's `inferred` graph) is built once
and served twice by the product: from the embedded store, and from a real Virtuoso (CLKG_STORE=remote,
the graphs loaded by the product, every query sent by it). Every query of `queries/*.rq` runs on both
through the named-query API; every page query of `queries/pages/*.rq` through the query service the
pages use, with the parameters of `PAGE_CASES`. Parameter values of a named query come from its header:
its `examples`, its `enum` values and its `default`; a parameter with none of them takes the values of
`FALLBACK`.

The results are compared as multisets of rows. The normalisations, and why none hides a difference in
rows (each applies to a value, never to which rows there are or how many):
- numbers (xsd:integer, decimal, double, float and the integer types derived from them) are compared by
  value: Virtuoso answers some computed numbers with another numeric type or lexical form;
- a simple literal and an xsd:string literal are the same term (RDF 1.1), as pyoxigraph compares them;
- a GROUP_CONCAT column (found in the query's parsed algebra, with its separator) is compared as the
  multiset of its parts: SPARQL leaves the order of the concatenation to the store; of no parts, it is
  unbound on the embedded store and "" on Virtuoso (STR() of an unbound value is an error, which one
  store lets spoil the aggregate and the other skips);
- blank nodes are compared as "a blank node": their labels are the store's own.

A query with ORDER BY must also give its rows in the same order on both: the sequence of the rows' sort
keys (the ORDER BY variables, read from the parsed algebra, normalised as above) is the same. Rows that
tie on every key may come in any order, as SPARQL leaves it to the store.
"""
from __future__ import annotations

import collections
import decimal
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from clkg import config, namedqueries

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
def api_runner(app):
    client = app.test_client()

    def run(name: str, arguments: dict):
        response = client.get(f"/api/queries/{name}", query_string=arguments,
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        results = ox.parse_query_results(response.get_data(), format=ox.QueryResultsFormat.JSON)
        variables = [v.value for v in results.variables]
        return variables, [{n: s[n] for n in variables if s[n] is not None} for s in results]
    return run


@pytest.fixture(scope="module")
def embedded(real_app):
    return api_runner(real_app)


@pytest.fixture(scope="module")
def remote(remote_real_app):
    """The product itself on Virtuoso (CLKG_STORE=remote): its named-query API, its binding, its checks."""
    return api_runner(remote_real_app)


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


def order_keys(text: str) -> list[str]:
    """The variables of the query's outermost ORDER BY, from its parsed algebra ([] without one). Every
    condition must be a variable: a sort on an expression would need the expression's value to compare."""
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    node = prepareQuery(text).algebra
    while isinstance(node, CompValue) and node.name != "OrderBy":
        node = node.get("p")
    if not isinstance(node, CompValue):
        return []
    keys = [condition.expr if isinstance(condition, CompValue) else condition for condition in node.expr]
    assert all(isinstance(key, Variable) for key in keys), f"ORDER BY on an expression: {keys}"
    return [str(key) for key in keys]


def sort_keys(keys: list[str], rows: list[dict], concat: dict[str, str]) -> list[tuple]:
    return [tuple(normalise(row[k], concat.get(k)) if k in row else empty(k, concat) for k in keys) for row in rows]


def multiset(variables: list[str], rows: list[dict], concat: dict[str, str]) -> collections.Counter:
    return collections.Counter(tuple((v, normalise(row[v], concat.get(v))) if v in row else (v, empty(v, concat))
                                     for v in variables) for row in rows)


def empty(variable: str, concat: dict[str, str]):
    """An unbound value; a GROUP_CONCAT of no values is unbound on one store and "" on the other."""
    return ("concat", ()) if variable in concat else None


@pytest.mark.parametrize("name,arguments", cases())
def test_named_query_same_rows_on_both_stores(name, arguments, embedded, remote):
    text = (config.ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    concat = group_concat_columns(text)
    local_variables, local_rows = embedded(name, arguments)
    remote_variables, remote_rows = remote(name, arguments)
    assert remote_variables == local_variables
    here, there = multiset(local_variables, local_rows, concat), multiset(remote_variables, remote_rows, concat)
    only_here, only_there = here - there, there - here
    assert not only_here and not only_there, (
        f"{name} {json.dumps(arguments)}: {len(local_rows)} rows on the embedded store, {len(remote_rows)} on "
        f"Virtuoso; only on the embedded store: {list(only_here.elements())[:3]}; "
        f"only on Virtuoso: {list(only_there.elements())[:3]}")
    same_order(name, arguments, order_keys(text), local_rows, remote_rows, concat)


def same_order(name: str, arguments: dict, keys: list[str], local: list[dict], remote: list[dict], concat: dict) -> None:
    here, there = sort_keys(keys, local, concat), sort_keys(keys, remote, concat)
    differ = next((i for i, (a, b) in enumerate(zip(here, there)) if a != b), None)
    assert differ is None, (f"{name} {arguments}: ORDER BY {' '.join(keys)} puts row {differ} at {here[differ]} on "
                            f"the embedded store and at {there[differ]} on Virtuoso")


# --- the page queries -----------------------------------------------------------------------------------
C = config.CANONICAL_BASE
PAGE_CASES = {
    "case-actors": [{"resource": C + "case/example-1"}, {"resource": C + "case/example-2"}],
    "case-informants": [{"resource": C + "case/example-1"}],
    "case-list": [{}],
    "case-observations": [{"resource": C + "case/example-1"}, {"resource": C + "case/example-2"}],
    "case-partnerships": [{"resource": C + "case/example-1"}],
    "case-school": [{"resource": C + "case/example-1"}],
    "case-ties": [{"resource": C + "case/example-1"}],
    "claim-list": [{"section": ("typed", "3.1", None)}, {"section": ("typed", "5.1", None)}],
    "claim-sections": [{}],
    "class-partitions": [{}],
    "coded-concepts": [{}],
    "concept-evidence": [{"resource": C + "concept/M3"}, {"resource": C + "concept/C5.3"},
                         {"resource": C + "concept/D-TASK"}],
    "concept-list": [{}],
    "concept-relations": [{"resource": C + "concept/M3"}, {"resource": C + "concept/C5.3"}],
    "counts": [{}],
    "describe": [{"resource": C + "concept/M3"}, {"resource": C + "study/feys-devos-2015"}],
    "describe-incoming": [{"resource": C + "concept/M3"}, {"resource": C + "study/feys-devos-2015"}],
    "exists": [{"resource": C + "concept/M3"}, {"resource": C + "study/no-such-study"}],
    "graph-stats": [{}],
    "incoming": [{"resource": C + "concept/M3"}, {"resource": C + "study/feys-devos-2015"}],
    "instances": [{"resource": C + "ontology/Claim"}, {"resource": C + "ontology/Study"}],
    "labels": [{"resource": C + "concept/M3"}, {"resource": C + "claim/1.1-feys-devos-2015-horizontal-learning"},
               {"resource": C + "study/feys-devos-2015"}],
    "labels-of": [{"x": [("iri", C + "concept/M3", None), ("iri", C + "person/feys-e", None),
                         ("iri", "http://www.w3.org/1999/02/22-rdf-syntax-ns#first", None)]}],
    "property-partitions": [{}],
    "report": [{"resource": C + "study/desmet-etal-2019"}],
    "study-claims": [{"resource": C + "study/feys-devos-2015"}, {"resource": C + "study/verbiest-2012"}],
    "study-list": [{}],
    "vocabulary-terms": [{}],
    "vocabulary": [{"graph": C + "graph/ontology", "concepts": ("typed", C + "concept/", None)}],
}
PAGE_QUERIES = sorted((config.ROOT / "queries" / "pages").glob("*.rq"))


def test_every_page_query_has_cases():
    assert sorted(PAGE_CASES) == sorted(path.stem for path in PAGE_QUERIES)


def page_cases() -> list:
    return [pytest.param(name, arguments, id=f"{name}[{','.join(f'{k}={v}' for k, v in arguments.items())}]")
            for name, cases in sorted(PAGE_CASES.items()) for arguments in cases]


def run_page(app, name: str, arguments: dict):
    service = app.extensions["clkg"]
    text = namedqueries.parse(config.ROOT / "queries" / "pages" / f"{name}.rq").text
    substitutions = {f"_{k}": (v if isinstance(v, (tuple, list)) else ("iri", v, None)) for k, v in arguments.items()}
    if text.lstrip().upper().startswith("CONSTRUCT") or "\nCONSTRUCT" in text.upper():
        return None, service.construct(text, substitutions)
    body, _ = service.run(text, media_type="application/sparql-results+json", substitutions=substitutions)
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    variables = [v.value for v in results.variables]
    return variables, [{n: s[n] for n in variables if s[n] is not None} for s in results]


def canonical_triples(triples) -> set:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


@pytest.mark.parametrize("name,arguments", page_cases())
def test_page_query_same_answer_on_both_stores(name, arguments, real_app, remote_real_app):
    local_variables, local = run_page(real_app, name, arguments)
    remote_variables, there = run_page(remote_real_app, name, arguments)
    if local_variables is None:
        assert canonical_triples(there) == canonical_triples(local), f"{name}: {len(local)} triples here, {len(there)} there"
        return
    assert remote_variables == local_variables
    concat = group_concat_columns((config.ROOT / "queries" / "pages" / f"{name}.rq").read_text(encoding="utf-8"))
    here, away = multiset(local_variables, local, concat), multiset(remote_variables, there, concat)
    only_here, only_there = here - away, away - here
    assert local or there, f"{name} {arguments}: no rows on either store (choose a case with an answer)"
    assert not only_here and not only_there, (
        f"{name} {arguments}: {len(local)} rows on the embedded store, {len(there)} on Virtuoso; "
        f"only on the embedded store: {list(only_here.elements())[:3]}; only on Virtuoso: {list(only_there.elements())[:3]}")
    text = (config.ROOT / "queries" / "pages" / f"{name}.rq").read_text(encoding="utf-8")
    same_order(name, arguments, order_keys(text), local, there, concat)
