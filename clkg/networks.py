"""Network measures of the school cases' network maps (3.1 of the report), computed with networkx.

A network map (`clo:NetworkMap`) holds actors (`clo:actor`) and ties (`clo:tie`, each a `clo:Tie` with
`clo:tieSource`, `clo:tieTarget`, optionally `clo:tieStrength` and `clo:tieKind`). Ties are undirected
(the ontology says either end may be the source), two ties between the same pair count as one, a tie
to itself or to an actor that is not on the map is left out. The measures are unweighted, as Korenhof
et al. (2010) define them ("graad is het aantal verbindingen", closeness "het aantal stappen"); the tie
strength only draws the map.

For every actor of a map:

| property              | measure                                                                        |
|-----------------------|--------------------------------------------------------------------------------|
| `clo:degree`          | the number of other actors it has a tie with (an integer)                      |
| `clo:degreeCentrality`| degree / (n - 1), networkx `degree_centrality` (0 on a map of one actor)       |
| `clo:betweenness`     | networkx `betweenness_centrality(normalized=True)`: the share of shortest      |
|                       | paths between pairs of other actors that pass through it, summed over the      |
|                       | pairs and divided by (n - 1)(n - 2) / 2, the number of such pairs              |
| `clo:closeness`       | networkx `closeness_centrality` (Wasserman-Faust): (r - 1) / (sum of the       |
|                       | distances to the r - 1 actors it reaches) x (r - 1) / (n - 1); on a connected  |
|                       | map simply (n - 1) / sum of distances; 0 for an actor without ties             |
| `clo:effectiveSize`   | Burt's effective size, networkx `effective_size` (only for an actor with ties) |
| `clo:constraint`      | Burt's constraint, networkx `constraint` (only for an actor with ties)         |
| `clo:broker`          | the broker rule below                                                          |

n is the number of actors on the map. Decimals are rounded to 6 places and written as `xsd:decimal` in
canonical form ("0.5", "1"), so that the same map always gives the same triples.

The broker rule (structural holes, Ugurlu 2016; Burt 1992): an actor is a broker (`clo:broker true`)
when it is a cut vertex of its map, that is when removing it leaves more groups of actors that cannot
reach each other than there were before: it alone bridges a structural hole between those groups.
Every broker has a betweenness above 0, but not the other way round (in a triangle with a tail, only
the actor holding the tail is a broker). Burt's effective size and constraint are kept beside it for
a graded view: a low constraint means ties into groups that are not tied to each other.

Measures are data computed from the map, never entered by hand (the shapes warn when an entry types
them). They are stored with the map, in the same named graph: `clkg.store.build` recomputes them for
every map of every graph after loading (replacing any value a file carries), and
`clkg.contributions.ingest` computes them before it writes a contributed case, so that the
contribution's file and graph carry them. `VERSION` is part of the store's build stamp: a change of
the rules rebuilds the store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import networkx as nx
import pyoxigraph as ox

from clkg import config
from clkg.vocab import RDF_TYPE, XSD

VERSION = "1"
MEASURES = ("degree", "degreeCentrality", "betweenness", "closeness", "effectiveSize", "constraint", "broker")
PLACES = 6


def clo(name: str, base: str = config.CANONICAL_BASE) -> str:
    return f"{base}ontology/{name}"


@dataclass
class Tie:
    iri: str
    source: str
    target: str
    strength: float | None = None
    kind: str | None = None


@dataclass
class NetworkMap:
    iri: str
    actors: list = field(default_factory=list)   # actor IRIs, in a stable order
    ties: list = field(default_factory=list)     # Tie


@dataclass
class Measures:
    degree: int
    degree_centrality: float
    betweenness: float
    closeness: float
    effective_size: float | None
    constraint: float | None
    broker: bool

    def values(self) -> dict:
        return {"degree": self.degree, "degreeCentrality": self.degree_centrality, "betweenness": self.betweenness,
                "closeness": self.closeness, "effectiveSize": self.effective_size, "constraint": self.constraint,
                "broker": self.broker}


# --- the measures ------------------------------------------------------------------------------------
def graph(network: NetworkMap) -> nx.Graph:
    """The map as an undirected simple graph: every actor a node (isolated ones too), one edge per pair
    of actors with a tie (the strongest tie's strength as `strength`, the kinds as `kinds`)."""
    g = nx.Graph()
    g.add_nodes_from(network.actors)
    on_map = set(network.actors)
    for tie in network.ties:
        if tie.source == tie.target or tie.source not in on_map or tie.target not in on_map:
            continue
        strength = tie.strength if tie.strength is not None else 1.0
        if g.has_edge(tie.source, tie.target):
            data = g.edges[tie.source, tie.target]
            data["strength"] = max(data["strength"], strength)
            data["kinds"] |= {tie.kind} if tie.kind else set()
        else:
            g.add_edge(tie.source, tie.target, strength=strength, kinds={tie.kind} if tie.kind else set())
    return g


def brokers(g: nx.Graph) -> set:
    """The actors bridging a structural hole: the cut vertices (articulation points) of the map."""
    return set(nx.articulation_points(g))


def compute(network: NetworkMap) -> dict[str, Measures]:
    """The measures of every actor of the map (see the module's documentation for the definitions)."""
    g = graph(network)
    n = g.number_of_nodes()
    if n == 0:
        return {}
    betweenness = nx.betweenness_centrality(g, normalized=True)
    closeness = nx.closeness_centrality(g)
    with_ties = [a for a in g if g.degree(a) > 0]
    effective = nx.effective_size(g, nodes=with_ties) if with_ties else {}
    constraint = nx.constraint(g, nodes=with_ties) if with_ties else {}
    cut = brokers(g)
    result = {}
    for actor in g:
        degree = g.degree(actor)
        result[actor] = Measures(
            degree=degree,
            degree_centrality=degree / (n - 1) if n > 1 else 0.0,
            betweenness=betweenness[actor],
            closeness=closeness[actor],
            effective_size=_finite(effective.get(actor)),
            constraint=_finite(constraint.get(actor)),
            broker=actor in cut)
    return result


def _finite(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def decimal_text(value: float) -> str:
    """A number as an xsd:decimal lexical form, rounded to PLACES decimals, in the canonical form the
    store keeps ("0.5", "1", "0"), so that a file and the store hold the same literal."""
    text = format(Decimal(repr(round(float(value), PLACES))).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def measure_triples(network: NetworkMap, base: str = config.CANONICAL_BASE) -> list[ox.Triple]:
    """The measures of a map as triples on its actors."""
    triples = []
    integer, decimal, boolean = (ox.NamedNode(XSD + t) for t in ("nonNegativeInteger", "decimal", "boolean"))
    for actor, measures in compute(network).items():
        subject = ox.NamedNode(actor)
        for name, value in measures.values().items():
            if value is None:
                continue
            if name == "degree":
                literal = ox.Literal(str(value), datatype=integer)
            elif name == "broker":
                literal = ox.Literal("true" if value else "false", datatype=boolean)
            else:
                literal = ox.Literal(decimal_text(value), datatype=decimal)
            triples.append(ox.Triple(subject, ox.NamedNode(clo(name, base)), literal))
    return triples


# --- maps from triples (an entry) --------------------------------------------------------------------
def maps_from_triples(triples, base: str = config.CANONICAL_BASE) -> list[NetworkMap]:
    """The network maps described by a list of triples (an entry or one named graph)."""
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)

    def objects(subject, name):
        return [t.object for t in by_subject.get(subject, []) if t.predicate.value == clo(name, base)]

    def first_value(subject, name):
        found = objects(subject, name)
        return found[0] if found else None

    maps = []
    map_class = clo("NetworkMap", base)
    subjects = [s for s, ts in by_subject.items()
                if any(t.predicate.value == RDF_TYPE and t.object.value == map_class for t in ts)]
    for subject in sorted(subjects, key=lambda s: s.value):
        actors = sorted({a.value for a in objects(subject, "actor") if isinstance(a, ox.NamedNode)})
        ties = []
        for tie in sorted(objects(subject, "tie"), key=lambda t: t.value):
            source, target = first_value(tie, "tieSource"), first_value(tie, "tieTarget")
            if not isinstance(source, ox.NamedNode) or not isinstance(target, ox.NamedNode):
                continue
            strength = first_value(tie, "tieStrength")
            kind = first_value(tie, "tieKind")
            ties.append(Tie(tie.value, source.value, target.value, _number(strength),
                            kind.value if isinstance(kind, ox.NamedNode) else None))
        maps.append(NetworkMap(subject.value, actors, ties))
    return maps


def _number(term) -> float | None:
    if not isinstance(term, ox.Literal):
        return None
    try:
        value = float(term.value)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def is_measure(predicate, base: str = config.CANONICAL_BASE) -> bool:
    return predicate.value in {clo(name, base) for name in MEASURES}


def with_measures(triples: list, base: str = config.CANONICAL_BASE) -> list:
    """The triples with the measures of every map they describe computed afresh: any measure given for
    an actor of a map is dropped, the computed ones are added after the rest."""
    maps = maps_from_triples(triples, base)
    if not maps:
        return list(triples)
    actors = {a for m in maps for a in m.actors}
    kept = [t for t in triples
            if not (isinstance(t.subject, ox.NamedNode) and t.subject.value in actors and is_measure(t.predicate, base))]
    computed = [t for m in maps for t in measure_triples(m, base)]
    return kept + computed


# --- maps in a store ---------------------------------------------------------------------------------
def _maps_query(base: str) -> str:
    return f"""
        PREFIX clo: <{base}ontology/>
        SELECT ?g ?map ?actor ?tie ?source ?target ?strength ?kind WHERE {{
          GRAPH ?g {{
            ?map a clo:NetworkMap .
            {{ ?map clo:actor ?actor }}
            UNION
            {{ ?map clo:tie ?tie .
               OPTIONAL {{ ?tie clo:tieSource ?source }} OPTIONAL {{ ?tie clo:tieTarget ?target }}
               OPTIONAL {{ ?tie clo:tieStrength ?strength }} OPTIONAL {{ ?tie clo:tieKind ?kind }} }}
          }}
        }}"""


def maps_in_store(store: ox.Store, base: str) -> dict[str, list[NetworkMap]]:
    """The network maps of every named graph of a store, by graph IRI."""
    found: dict = {}
    ties_seen: dict = {}
    for row in store.query(_maps_query(base)):
        graph_iri, map_iri = row["g"].value, row["map"].value
        network = found.setdefault(graph_iri, {}).setdefault(map_iri, NetworkMap(map_iri))
        actor = row["actor"]
        if isinstance(actor, ox.NamedNode):
            network.actors.append(actor.value)
        tie = row["tie"]
        if tie is not None:
            source, target = row["source"], row["target"]
            key = (graph_iri, map_iri, tie.value)
            if key in ties_seen or not isinstance(source, ox.NamedNode) or not isinstance(target, ox.NamedNode):
                continue
            ties_seen[key] = True
            kind = row["kind"]
            network.ties.append(Tie(tie.value, source.value, target.value, _number(row["strength"]),
                                    kind.value if isinstance(kind, ox.NamedNode) else None))
    result = {}
    for graph_iri, maps in found.items():
        for network in maps.values():
            network.actors = sorted(set(network.actors))
            network.ties.sort(key=lambda t: t.iri)
        result[graph_iri] = [maps[k] for k in sorted(maps)]
    return result


def update_store(store: ox.Store, base: str) -> int:
    """Recompute the measures of every map in the store, in the map's own named graph (the values a
    graph carries for the map's actors are replaced). Returns the number of maps."""
    count = 0
    predicates = [ox.NamedNode(clo(name, base)) for name in MEASURES]
    for graph_iri, maps in maps_in_store(store, base).items():
        graph_node = ox.NamedNode(graph_iri)
        stale, fresh = [], []
        for network in maps:
            for actor in network.actors:
                for predicate in predicates:
                    stale.extend(store.quads_for_pattern(ox.NamedNode(actor), predicate, None, graph_node))
            fresh.extend(ox.Quad(t.subject, t.predicate, t.object, graph_node) for t in measure_triples(network, base))
            count += 1
        for quad in stale:
            store.remove(quad)
        store.extend(fresh)
    return count
