"""The evidence counts kept as data (clkg/aggregates.py): the named queries that read them answer exactly
what the same questions computed on the fly answer (tests/onthefly/*.rq, the queries as they were before
the counts were kept), on the real graph for every parameter, and on a store that an ingest and a
deletion changed."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from clkg import aggregates, contributions, namedqueries, sparql, store, validation
from clkg.vocab import XSD
from conftest import mini_settings
from test_ingest import new_study

ON_THE_FLY = Path(__file__).parent / "onthefly"
QUERIES = Path(namedqueries.__file__).parent.parent / "queries"


def rows(reader, text: str, bindings: dict) -> list[tuple]:
    text = sparql.bind_values(text, bindings) if bindings else text
    result = reader.query(text, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [tuple(str(row[name]) if row[name] is not None else None for name in names) for row in result]


def kept_and_on_the_fly(reader, name: str, bindings: dict, base: str) -> tuple[list, list]:
    kept = namedqueries.parse(QUERIES / f"{name}.rq", base).text
    fly = namedqueries.parse(ON_THE_FLY / f"{name}.rq", base).text
    return rows(reader, kept, bindings), rows(reader, fly, bindings)


def string(value: str) -> ox.Literal:
    return ox.Literal(value)


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


CASES = ([("evidence-map", {})]
         + [("evidence-map", {"__function": string(f)}) for f in aggregates.FUNCTIONS]
         + [("evidence-map", {"__group": string(g)}) for g in ("motive", "condition", "outcome")]
         + [("evidence-map", {"__group": string("outcome"), "__function": string("citesAsEvidence")})]
         + [("contested-concepts", {})]
         + [("evidence-gaps", {"_min": integer(n)}) for n in (1, 3, 10, 1000)])


@pytest.fixture(scope="module")
def real_reader(real_settings):
    reader = store.open_read_only(real_settings)
    yield reader
    del reader


@pytest.mark.parametrize("name,bindings", CASES, ids=[f"{n}-{'-'.join(str(v.value) for v in b.values()) or 'all'}"
                                                      for n, b in CASES])
def test_kept_counts_answer_as_the_counts_on_the_fly(real_reader, real_settings, name, bindings):
    kept, fly = kept_and_on_the_fly(real_reader, name, bindings, real_settings.base_iri)
    assert kept, "no rows: the comparison would prove nothing"
    if name == "contested-concepts":  # ties in its order were in no defined order before
        kept, fly = sorted(kept, key=str), sorted(fly, key=str)
    assert kept == fly


def test_the_counts_are_data_cube_observations_in_their_own_graph(real_reader, real_settings):
    graph = ox.NamedNode(aggregates.graph_iri(real_settings.base_iri))
    observations = {q.subject for q in real_reader.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("http://purl.org/linked-data/cube#Observation"), graph)}
    assert len(observations) > 100
    stored = set(real_reader.quads_for_pattern(None, None, None, graph))
    assert stored == set(aggregates.compute(real_reader, real_settings.base_iri)[0])


@pytest.fixture()
def mini_store(tmp_path):
    settings = mini_settings(tmp_path / "data")
    store.build(settings, reason=False)
    return settings


def counts_agree(settings) -> dict:
    """Every kept count as on the fly, after a write; returns the studies per coded concept (the evidence
    gaps under a bound above every count)."""
    reader = store.open_read_only(settings)
    try:  # the write updated the counts it touched; they are what a full recount gives
        graph = ox.NamedNode(aggregates.graph_iri(settings.base_iri))
        assert set(reader.quads_for_pattern(None, None, None, graph)) == set(aggregates.compute(reader, settings.base_iri)[0])
        for name, bindings in CASES:
            kept, fly = kept_and_on_the_fly(reader, name, bindings, settings.base_iri)
            assert sorted(kept, key=str) == sorted(fly, key=str), (name, bindings)
        kept, _ = kept_and_on_the_fly(reader, "evidence-gaps", {"_min": integer(10 ** 6)}, settings.base_iri)
        return {row[1]: row[3] for row in kept}
    finally:
        del reader


def test_an_ingest_and_a_deletion_keep_the_counts_current(mini_store):
    settings = mini_store
    before = counts_agree(settings)
    entry = validation.parse_entry(new_study("telling", "Counted once"), ox.RdfFormat.TURTLE, settings.base_iri)
    contribution, _ = contributions.ingest(settings, entry, "tester")
    after = counts_agree(settings)
    assert after != before and after['"M9"'] != before['"M9"'], "the new study about M9 is not counted"
    contributions.delete(settings, contribution.id)
    assert counts_agree(settings) == before
