"""Network measures of the case network maps (clkg/networks.py), checked against values computed by hand,
and their storage: computed at build time in the map's own graph, recomputed when the map changes,
replacing values typed by hand."""
from __future__ import annotations

import textwrap

import pyoxigraph as ox
import pytest

from clkg import config, networks, store
from clkg.config import Settings

CLO = "https://w3id.org/clkg/ontology/"
CLX = "https://w3id.org/clkg/case/"


def small_map(ties="AB AC BC CD DE", actors="ABCDE") -> networks.NetworkMap:
    return networks.NetworkMap("m", list(actors),
                               [networks.Tie(f"t{i}", pair[0], pair[1]) for i, pair in enumerate(ties.split())])


# The map:  A - B          n = 5 actors, 5 ties (undirected)
#            \ /
#             C - D - E
#
# degree: A 2, B 2, C 3, D 2, E 1; degree centrality = degree / (n - 1) = degree / 4.
# betweenness (pairs of other actors whose shortest path runs through the actor, / ((n-1)(n-2)/2) = 6):
#   C lies on A-D, A-E, B-D, B-E: 4/6; D lies on A-E, B-E, C-E: 3/6; A, B, E lie on none: 0.
# closeness = (n - 1) / sum of distances: A: 1+1+2+3 = 7 -> 4/7; B the same; C: 1+1+1+2 = 5 -> 4/5;
#   D: 2+2+1+1 = 6 -> 4/6; E: 3+3+2+1 = 9 -> 4/9.
# brokers (cut vertices): without C, {A, B} and {D, E} fall apart; without D, E is cut off. Not A, B, E.
# Burt's effective size = ties - 2 x (ties among the contacts) / ties: A: 2 - 2x1/2 = 1; C: 3 - 2x1/3 = 7/3;
#   D: 2 - 0 = 2; E: 1.
# Burt's constraint, p = 1/degree: E: (1)^2 = 1; D: (1/2)^2 + (1/2)^2 = 1/2;
#   A: (1/2 + 1/2 x 1/3)^2 + (1/2 + 1/2 x 1/2)^2 = 4/9 + 9/16 = 145/144; C: (1/3 + 1/3 x 1/2)^2 x 2 + (1/3)^2 = 11/18.
HAND = {
    "A": (2, 0.5, 0.0, 4 / 7, 1.0, 145 / 144, False),
    "B": (2, 0.5, 0.0, 4 / 7, 1.0, 145 / 144, False),
    "C": (3, 0.75, 4 / 6, 4 / 5, 7 / 3, 11 / 18, True),
    "D": (2, 0.5, 3 / 6, 4 / 6, 2.0, 1 / 2, True),
    "E": (1, 0.25, 0.0, 4 / 9, 1.0, 1.0, False),
}


def test_measures_equal_the_values_computed_by_hand():
    measures = networks.compute(small_map())
    assert set(measures) == set(HAND)
    for actor, (degree, dc, betweenness, closeness, effective, constraint, broker) in HAND.items():
        m = measures[actor]
        assert m.degree == degree, actor
        assert m.degree_centrality == pytest.approx(dc), actor
        assert m.betweenness == pytest.approx(betweenness), actor
        assert m.closeness == pytest.approx(closeness), actor
        assert m.effective_size == pytest.approx(effective), actor
        assert m.constraint == pytest.approx(constraint), actor
        assert m.broker is broker, actor


def test_an_isolated_actor_and_closeness_on_a_disconnected_map():
    # A-B, A-C, B-C, C-D and F without ties: n = 5.
    measures = networks.compute(small_map("AB AC BC CD", "ABCDF"))
    f = measures["F"]
    assert (f.degree, f.degree_centrality, f.betweenness, f.closeness, f.broker) == (0, 0.0, 0.0, 0.0, False)
    assert f.effective_size is None and f.constraint is None  # Burt's measures are undefined without ties
    # Wasserman-Faust: A reaches r - 1 = 3 others at distances 1, 1, 2: 3/4 x 3/(n-1) = 3/4 x 3/4 = 9/16
    assert measures["A"].closeness == pytest.approx(9 / 16)
    # C lies on A-D and B-D of the 6 pairs of other actors
    assert measures["C"].betweenness == pytest.approx(2 / 6)
    assert {a for a, m in measures.items() if m.broker} == {"C"}


def test_ties_are_undirected_and_counted_once_and_strength_does_not_weigh():
    plain = networks.compute(small_map("AB BC", "ABC"))
    doubled = networks.compute(networks.NetworkMap("m", ["A", "B", "C"], [
        networks.Tie("t1", "A", "B", 3.0), networks.Tie("t2", "B", "A", 1.0), networks.Tie("t3", "C", "B", 0.5),
        networks.Tie("t4", "C", "C"), networks.Tie("t5", "C", "Z")]))  # a loop and an actor off the map are left out
    assert plain == doubled
    assert doubled["B"].betweenness == pytest.approx(1.0) and doubled["B"].closeness == pytest.approx(1.0)
    assert doubled["B"].broker and not doubled["A"].broker


def test_a_cycle_has_no_broker_although_every_betweenness_is_positive():
    measures = networks.compute(small_map("AB BC CD DA", "ABCD"))
    assert all(m.betweenness > 0 for m in measures.values())
    assert not any(m.broker for m in measures.values())


def test_decimal_literals_are_canonical_and_rounded():
    assert networks.decimal_text(2 / 3) == "0.666667"
    assert networks.decimal_text(1) == "1"
    assert networks.decimal_text(0) == "0"
    assert networks.decimal_text(-0.0) == "0"
    assert networks.decimal_text(145 / 144) == "1.006944"


MAP_TTL = textwrap.dedent("""\
    @prefix clo: <https://w3id.org/clkg/ontology/> .
    @prefix clc: <https://w3id.org/clkg/concept/> .
    @prefix clx: <https://w3id.org/clkg/case/> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    clx:m a clo:NetworkMap ; clo:actor clx:a, clx:b, clx:c ; clo:tie clx:t1, clx:t2 {extra_tie_ref}.
    clx:a a clo:Actor ; clo:actorKind clc:actor-academic ; clo:degree "7"^^xsd:nonNegativeInteger ; clo:broker true .
    clx:b a clo:Actor ; clo:actorKind clc:actor-own-teacher .
    clx:c a clo:Actor ; clo:actorKind clc:actor-coach .
    clx:t1 a clo:Tie ; clo:tieSource clx:a ; clo:tieTarget clx:b ; clo:tieStrength 2 .
    clx:t2 a clo:Tie ; clo:tieSource clx:b ; clo:tieTarget clx:c .
    {extra_tie}""")


def triples_of(text: str) -> list:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]


def value(triples, actor: str, measure: str):
    found = [t.object.value for t in triples if t.subject.value == CLX + actor and t.predicate.value == CLO + measure]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_with_measures_replaces_what_was_typed_by_hand():
    entry = triples_of(MAP_TTL.format(extra_tie_ref="", extra_tie=""))
    result = networks.with_measures(entry)
    # a - b - c: b is the broker with betweenness 1; a's typed degree 7 and broker true are replaced
    assert value(result, "a", "degree") == "1" and value(result, "a", "broker") == "false"
    assert value(result, "b", "degree") == "2" and value(result, "b", "betweenness") == "1"
    assert value(result, "b", "broker") == "true" and value(result, "a", "closeness") == "0.666667"
    assert value(result, "a", "effectiveSize") == "1" and value(result, "b", "constraint") == "0.5"
    kept = [t for t in entry if not networks.is_measure(t.predicate)]
    assert all(t in result for t in kept)


def build(tmp_path, text: str) -> Settings:
    folder = tmp_path / "illustrative"
    folder.mkdir(exist_ok=True)
    (folder / "map.ttl").write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"], "illustrative": [folder]}
    store.build(settings, reason=False)
    return settings


def graph_values(settings: Settings, actor: str, measure: str) -> list:
    reader = store.open_read_only(settings)
    try:
        return [(q.object.value, q.graph_name.value) for q in reader.quads_for_pattern(
            ox.NamedNode(CLX + actor), ox.NamedNode(CLO + measure), None, None)]
    finally:
        del reader


def test_the_build_stores_measures_with_the_map_and_recomputes_them_when_the_map_changes(tmp_path):
    graph = "https://w3id.org/clkg/graph/illustrative"
    settings = build(tmp_path, MAP_TTL.format(extra_tie_ref="", extra_tie=""))
    assert graph_values(settings, "a", "degree") == [("1", graph)]  # the typed 7 is gone
    assert graph_values(settings, "b", "betweenness") == [("1", graph)]
    assert graph_values(settings, "a", "broker") == [("false", graph)]
    # the map changes: a tie a - c closes the triangle, nobody is a broker any more
    build(tmp_path, MAP_TTL.format(extra_tie_ref=", clx:t3 ", extra_tie="clx:t3 a clo:Tie ; clo:tieSource clx:a ; "
                                                                       "clo:tieTarget clx:c ."))
    assert graph_values(settings, "a", "degree") == [("2", graph)]
    assert graph_values(settings, "b", "betweenness") == [("0", graph)]
    assert graph_values(settings, "b", "broker") == [("false", graph)]
    assert graph_values(settings, "c", "closeness") == [("1", graph)]


def test_a_change_of_the_measures_rules_rebuilds_the_store(tmp_path, monkeypatch):
    settings = build(tmp_path, MAP_TTL.format(extra_tie_ref="", extra_tie=""))
    assert store.build(settings, reason=False) is False  # nothing changed
    monkeypatch.setattr(networks, "VERSION", networks.VERSION + "-next")
    assert store.build(settings, reason=False) is True
