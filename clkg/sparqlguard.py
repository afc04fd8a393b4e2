"""What a query may do, decided on rdflib's parse and algebra of it, never on its tokens.

Runs inside a query worker (clkg/sparql.py), under its memory limit and time limit, in a thread with a
large stack (clkg/sandbox.py), because parsing hostile text is where the risk is. `analyse` refuses
updates (403), SERVICE anywhere in the algebra (403), and queries nested deeper than Oxigraph can
evaluate without overflowing its stack (400); it tells the query form and the graphs of its dataset
clauses. `where_offset` finds, on the grammar, where a named query's VALUES row goes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pyparsing
from rdflib import paths
from rdflib.plugins.sparql import parser as grammar
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parserutils import CompValue

from clkg.errors import QueryError

FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
# Operator chains that rdflib keeps flat but Oxigraph builds as left-deep trees: every further operand is
# one level more of Oxigraph's recursion (a 10,000-term `1+1+...` overflows its stack).
CHAINS = {"ConditionalOrExpression": "other", "ConditionalAndExpression": "other",
          "AdditiveExpression": "other", "MultiplicativeExpression": "other"}
UPDATE_NAMES = {"Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE", "Add": "ADD",
                "Move": "MOVE", "Copy": "COPY", "InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
                "DeleteWhere": "DELETE WHERE", "Modify": "DELETE/INSERT"}


@dataclass(frozen=True)
class QueryInfo:
    form: str
    dataset: frozenset[str]  # the IRIs of the query's FROM and FROM NAMED clauses, as rdflib resolved them
    depth: int

    @property
    def has_dataset(self) -> bool:
        return bool(self.dataset)


def analyse(text: str, max_depth: int) -> QueryInfo:
    """Refuse what must never run and tell the query form; cached, so a named query is parsed once."""
    return _analyse(text, max_depth)


@functools.lru_cache(maxsize=256)
def _analyse(text: str, max_depth: int) -> QueryInfo:
    try:
        parsed = grammar.parseQuery(text)
        # the parse tree first (translateQuery changes it, and its algebra can drop a FILTER nested in an
        # EXISTS group), then the algebra: SERVICE in either is refused, the deeper of the two counts
        depth = deepest(parsed, max_depth)
        query = translateQuery(parsed)
        depth = max(depth, deepest(query.algebra, max_depth))
    except RecursionError:
        raise too_deep(max_depth) from None
    except pyparsing.ParseBaseException as error:
        refuse_update(text, max_depth)
        raise QueryError(400, f"Malformed query at line {error.lineno}, column {error.col}: {error.msg}. "
                              "(The endpoint accepts SPARQL 1.1 queries as rdflib's parser reads them.)") from None
    except QueryError:
        raise
    except ValueError as error:  # a bad \\u escape, an unknown prefix, a variable bound twice ...
        raise QueryError(400, f"Malformed query: {error}") from None
    except Exception as error:  # rdflib's algebra translation refused it
        raise QueryError(400, f"Malformed query: {type(error).__name__}: {error}") from None
    clauses = query.algebra.get("datasetClause") or []
    dataset = frozenset(str(clause["default"] if "default" in clause else clause["named"]) for clause in clauses)
    return QueryInfo(FORMS[query.algebra.name], dataset, depth)


def refuse_update(text: str, max_depth: int) -> None:
    """An update is not a malformed query: refuse it as forbidden, naming its first operation."""
    try:
        update = grammar.parseUpdate(text)
    except RecursionError:
        raise too_deep(max_depth) from None
    except Exception:
        return
    requests = update.get("request") or []
    names = [UPDATE_NAMES.get(getattr(r, "name", ""), "an update") for r in requests]
    raise QueryError(403, "SPARQL Update is not allowed: this endpoint is read-only"
                          + (f" (found {names[0]})." if names else "."))


def too_deep(max_depth: int) -> QueryError:
    return QueryError(400, f"The query is nested too deeply: at most {max_depth} levels of groups, subqueries, "
                           "brackets and chained operators are answered.")


def deepest(algebra, max_depth: int) -> int:
    """The depth of the algebra, walked without recursion; refuses SERVICE anywhere and too deep a tree."""
    deepest_seen, stack = 0, [(algebra, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise too_deep(max_depth)
        deepest_seen = max(deepest_seen, depth)
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                raise QueryError(403, "SERVICE is not allowed: queries are answered from this store only.")
            chain = CHAINS.get(node.name)
            for key, value in node.items():
                if key == "_vars":
                    continue
                if key == chain and isinstance(value, list):
                    stack.extend((item, depth + 1 + index) for index, item in enumerate(value))
                else:
                    stack.append((value, depth + 1))
        elif isinstance(node, (paths.SequencePath, paths.AlternativePath)):
            stack.extend((item, depth + 1 + index) for index, item in enumerate(node.args))
        elif isinstance(node, (paths.InvPath, paths.MulPath, paths.NegatedPath)):
            stack.extend((item, depth + 1) for item in getattr(node, "args", [getattr(node, "path", None)]))
        elif isinstance(node, (list, tuple, set, frozenset, pyparsing.ParseResults)):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
    return deepest_seen


# --- where a named query's VALUES row goes ---------------------------------------------------------
_DATASETS = pyparsing.ZeroOrMore(grammar.DatasetClause)
_HEAD = pyparsing.Located(
    grammar.Prologue
    + (grammar.SelectClause + _DATASETS
       | pyparsing.Keyword("CONSTRUCT") + grammar.ConstructTemplate + _DATASETS
       | pyparsing.Keyword("ASK") + _DATASETS
       | pyparsing.Keyword("DESCRIBE") + (pyparsing.OneOrMore(grammar.VarOrIri) | "*") + _DATASETS)
    + pyparsing.Optional(pyparsing.Keyword("WHERE")) + pyparsing.Literal("{"))
_HEAD.ignore(grammar.QueryUnit.ignoreExprs[0])  # the grammar's own comment rule, not a second one


@functools.lru_cache(maxsize=256)
def where_offset(text: str) -> int:
    """The offset just after the `{` that opens the query's outer WHERE group, found by rdflib's grammar
    (prologue, select or construct clause, dataset clauses), so that no string, IRI or comment can
    fool it. The text must be free of \\u escapes, which rdflib expands before parsing."""
    if grammar.expandUnicodeEscapes(text) != text:
        raise QueryError(500, "A parameterised query must not use \\u escapes.")
    try:
        start, _tokens, end = _HEAD.parse_string(text)
    except pyparsing.ParseBaseException:
        raise QueryError(500, "A parameterised query needs a WHERE group.") from None
    return end


# Touches most of the grammar, whose regular expressions pyparsing compiles on first use: parsed once at
# import, so that the pool's fork server hands every worker a parser that is ready.
WARM_UP = """PREFIX x: <http://x/> SELECT DISTINCT ?s (COUNT(*) AS ?n) (SAMPLE(?o) AS ?one) WHERE {
  ?s a x:C ; x:p "a"@en, 'b', 1, 1.5, 1e3, true, ?o . ?s x:q/x:r* [ x:t _:b ] .
  OPTIONAL { ?s x:q ?o } MINUS { ?s x:r () } FILTER(REGEX(STR(?o), "a", "i") && ?o > 1 || !BOUND(?o))
  FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } BIND(CONCAT("a", LCASE('b')) AS ?c) VALUES ?v { <http://x/> UNDEF }
  { SELECT ?s WHERE { ?s ?p ?o } } UNION { ?s ?p ?o } } GROUP BY ?s HAVING (COUNT(*) > 0) ORDER BY DESC(?n) LIMIT 1"""
analyse(WARM_UP, 1000)
