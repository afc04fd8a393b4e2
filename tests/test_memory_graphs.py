"""The graphs a query worker keeps in memory (clkg/sparql.py `EmbeddedTarget`, clkg/stores/ IN_MEMORY_GRAPHS):
a query whose dataset names only those graphs is answered from the worker's copy, with the answer the
on-disk store gives; any other query, and a request that names its own dataset, reads the store; a new
generation gets a new copy."""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from clkg import contributions, namedqueries, sparql, sparqlguard, store, stores, validation
from clkg.sparql import QueryRequest
from test_aggregates import CASES, QUERIES, integer, mini_store  # noqa: F401 (a fixture)
from test_ingest import new_study

JSON = "application/sparql-results+json"


def wire(bindings: dict) -> dict:
    """Named-query bindings (Oxigraph literals) as a QueryRequest carries them."""
    return {name: ("literal", term.value, term.datatype.value) for name, term in bindings.items()}


def solutions(body: bytes) -> list[tuple]:
    result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in result.variables]
    return [tuple(str(row[n]) if row[n] is not None else None for n in names) for row in result]


def answers(settings, request: QueryRequest, state: dict | None = None) -> tuple[list, list, dict]:
    """(the worker's answer once it has done its work between requests, the on-disk store's answer, the
    worker's state after it); the worker's first answer, before that work, is the store's."""
    state = {} if state is None else state
    target = stores.query_target(settings)
    first = solutions(target.evaluate(state, request)[0])
    while target.between_requests(state):
        pass
    from_worker = solutions(target.evaluate(state, request)[0])
    assert first == from_worker
    reader = store.open_read_only(settings)
    try:
        from_store = solutions(sparql.evaluate(reader, request)[0])
    finally:
        del reader
    return from_worker, from_store, state


def graph(settings, name: str) -> str:
    return settings.graph_iri(name)


def test_a_query_s_dataset_is_read_from_its_parse():
    def dataset(text: str) -> set:
        return set(sparqlguard.analyse(text, 64).dataset)

    assert dataset("SELECT * WHERE { ?s ?p ?o }") == set()
    assert dataset("PREFIX g: <http://example.org/graph/> SELECT * FROM g:a FROM NAMED <http://example.org/b> "
                   "WHERE { ?s ?p ?o }") == {"http://example.org/graph/a", "http://example.org/b"}
    assert dataset("BASE <http://example.org/> ASK FROM <graph/c> { ?s ?p ?o }") == {"http://example.org/graph/c"}
    # what looks like a dataset clause inside a string or a comment is not one
    assert dataset('SELECT * WHERE { ?s ?p "FROM <http://example.org/a>" } # FROM <http://example.org/b>') == set()
    assert not sparqlguard.analyse("SELECT * WHERE { ?s ?p ?o }", 64).has_dataset


@pytest.mark.parametrize("name,bindings", CASES, ids=[f"{n}-{'-'.join(str(v.value) for v in b.values()) or 'all'}"
                                                      for n, b in CASES])
def test_the_summary_queries_answer_from_memory_as_from_the_store(real_settings, name, bindings):
    text = namedqueries.parse(QUERIES / f"{name}.rq", real_settings.base_iri).text
    request = QueryRequest(text, limit=10_000, generation="g", media_type=JSON, substitutions=wire(bindings))
    from_worker, from_store, state = answers(real_settings, request)
    assert from_worker == from_store and from_worker, (name, bindings)
    emptied(state)
    assert run(real_settings, state, request) == [], "the answer did not come from the copy in memory"


def emptied(state: dict) -> None:
    """The worker's copy, emptied: what is answered from it now has no rows."""
    assert "memory" in state, "no copy was made between requests"
    state["memory"].clear()


def run(settings, state: dict, request: QueryRequest) -> list:
    return solutions(stores.query_target(settings).evaluate(state, request)[0])


@pytest.mark.parametrize("clauses", [
    "FROM <{ontology}> FROM <{evidence}>",               # one graph not kept in memory
    "FROM <{ontology}> FROM NAMED <{evidence}>",
    "",                                                  # no dataset: the whole store
])
def test_a_query_that_reaches_beyond_the_kept_graphs_reads_the_store(real_settings, clauses):
    clauses = clauses.format(ontology=graph(real_settings, "ontology"), evidence=graph(real_settings, "evidence"))
    text = f"SELECT (COUNT(*) AS ?quads) {clauses} WHERE {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"
    request = QueryRequest(text, limit=10, generation="g", media_type=JSON)
    from_worker, from_store, state = answers(real_settings, request)
    assert from_worker == from_store
    emptied(state)
    assert run(real_settings, state, request) == from_store


def test_the_protocol_s_dataset_replaces_the_query_s_and_is_read_from_the_store(real_settings):
    text = (f"SELECT (COUNT(*) AS ?triples) FROM <{graph(real_settings, 'ontology')}> WHERE {{ ?s ?p ?o }}")
    request = QueryRequest(text, limit=10, generation="g", media_type=JSON,
                           default_graphs=(graph(real_settings, "evidence"),))
    from_worker, from_store, state = answers(real_settings, request)
    assert from_worker == from_store
    emptied(state)
    assert run(real_settings, state, request) == from_store
    only_ontology, _, _ = answers(real_settings, QueryRequest(text, limit=10, generation="g", media_type=JSON))
    assert only_ontology != from_worker, "the evidence graph was not counted instead of the ontology"


def test_a_new_generation_gets_a_new_copy(mini_store):
    settings = mini_store
    text = namedqueries.parse(QUERIES / "evidence-gaps.rq", settings.base_iri).text
    state: dict = {}

    def gaps() -> list:
        request = QueryRequest(text, limit=10_000, generation=store.generation(settings), media_type=JSON,
                               substitutions=wire({"_min": integer(10 ** 6)}))
        from_worker, from_store, _ = answers(settings, request, state)
        assert "memory" in state and from_worker == from_store and from_worker
        return from_worker

    before = gaps()
    entry = validation.parse_entry(new_study("telling", "Counted in memory"), ox.RdfFormat.TURTLE, settings.base_iri)
    contributions.ingest(settings, entry, "tester")
    after = gaps()  # the same worker state: its copy of the old generation must not answer
    assert after != before, "the new study's counts did not reach the worker's copy"
