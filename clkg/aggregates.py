"""The evidence counts, computed once per store change instead of on every request.

The evidence map, the contested concepts and the evidence gaps count distinct studies per concept over
every claim (a broader concept counting its narrower ones): at 100 times the graph that is seconds of
the store's time per request. So the counts are kept as data, in the named graph `aggregates`, as RDF
Data Cube observations (`qb:Observation` in the data set `<base>aggregates/evidence`), and those named
queries read them:

| scope      | function           | measures                                                               |
|------------|--------------------|------------------------------------------------------------------------|
| `narrower` | `any`, or a CiTO   | `clo:supportingStudies`, `clo:nuancingStudies`, `clo:contradictingStudies`, |
|            | citation function  | `clo:studies` (distinct studies), `clo:claims`: the claims about the concept or a narrower one (skos:broader*), with that function |
| `direct`   | `any`              | `clo:supportingStudies`, `clo:doubtingStudies` (nuancing or contradicting), `clo:exampleDoubt` (the first doubting quote in code-point order): claims about the concept itself |

Dimensions: `clo:countedConcept`, `clo:countScope`, `clo:countedFunction`; a `narrower` observation of a
motive, condition or outcome cell also carries `clo:conceptGroup` ("motive", "condition", "outcome"), so
that the evidence map reads its rows from the counts without following class paths over the whole store
(16 ms of the store's time at 100x, against 4 ms). The `narrower` slices are
complete: every coded concept has an observation for every function, zeros included, so that the
queries join them without OPTIONAL and COALESCE (which Virtuoso 7 answered wrongly when filtered). Claims of the illustrative cases never count.
A claim counts as the shapes require it: typed `clo:Claim`, with a study (`cito:cites`), a polarity, a
quote and a citation function.

`update_store` recomputes the whole graph in one transaction: `clkg.store.build` calls it after
loading, a contribution's ingest and deletion in their write session (clkg/contributions.py), and the
recovery of an interrupted write after settling the journal. `VERSION` is part of the build stamp.
"""
from __future__ import annotations

from collections import defaultdict
from urllib.parse import quote

import pyoxigraph as ox

from clkg import config
from clkg.vocab import CITO, QB, RDF_TYPE, XSD

VERSION = "2"  # 2: the narrower counts carry their concept group
GRAPH = "aggregates"
FUNCTIONS = ("citesAsEvidence", "usesConceptIn", "citesAsAuthority", "usesMethodIn", "obtainsBackgroundFrom",
             "citesAsPotentialSolution", "citesAsRecommendedReading")
TYPE = ox.NamedNode(RDF_TYPE)
POLARITIES = {"supports": "supportingStudies", "nuances": "nuancingStudies", "contradicts": "contradictingStudies"}

CLAIMS = """
PREFIX clo:  <{clo}>
PREFIX cito: <http://purl.org/spar/cito/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?claim ?about ?study ?polarity ?function ?quote WHERE {{
  {restriction}
  ?claim a clo:Claim ; clo:about ?about ; cito:cites ?study ; clo:polarity ?polarity ; clo:quote ?quote ;
         ?function ?study .
  FILTER (?function IN ({functions}))
  FILTER NOT EXISTS {{ GRAPH <{illustrative}> {{ ?claim a clo:Claim }} }}
}}
"""
BROADER = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?narrower ?concept WHERE {{ ?concept skos:notation ?code . ?narrower skos:broader* ?concept }}
"""
GROUPS = """
PREFIX clo:  <{clo}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?concept ?group WHERE {{
  VALUES (?class ?group) {{ (clo:Motive "motive") (clo:Condition "condition") (clo:OutcomeCell "outcome") }}
  ?concept a/rdfs:subClassOf* ?class ; skos:notation ?code .
}}
"""


def graph_iri(base: str) -> str:
    return f"{base}graph/{GRAPH}"


def observation_iri(base: str, scope: str, function: str, concept: str) -> str:
    """`<base>aggregates/evidence/<scope>/<function>/<the concept's IRI, percent-encoded>`: a query finds
    the observation it needs by building this IRI (SPARQL's ENCODE_FOR_URI encodes as `quote` does),
    instead of searching the graph for it."""
    return f"{base}aggregates/evidence/{scope}/{function}/{quote(concept, safe='')}"


def update_store(store, base: str = config.CANONICAL_BASE, about: set[str] | None = None) -> int:
    """Bring the aggregates graph of `store` (an ox.Store or the writer's handle) up to date with what it
    holds now: every count, or with `about` (the concepts whose claims a write added or removed) only the
    counts those concepts and their broader ones have, so that a contribution costs a few concepts'
    claims, not the whole graph's. Returns the number of observations written."""
    graph = ox.NamedNode(graph_iri(base))
    quads, written = compute(store, base, about)
    if about is None:
        store.remove_graph(graph) if store.contains_named_graph(graph) else None
    else:
        stale = [quad for node in written for quad in store.quads_for_pattern(ox.NamedNode(node), None, None, graph)]
        for quad in stale:
            store.remove(quad)
    store.extend(quads)
    return sum(1 for q in quads if q.predicate == TYPE and q.object.value == QB + "Observation")


def compute(store, base: str = config.CANONICAL_BASE, about: set[str] | None = None) -> tuple[list, set[str]]:
    """The observations (as quads of the aggregates graph) for the claims in `store`, and the IRIs of
    every observation they replace (with `about`: also those of counts that have become empty)."""
    clo = f"{base}ontology/"
    broader = defaultdict(set)  # concept -> itself and every broader concept that has a code
    for row in store.query(BROADER.format(), use_default_graph_as_union=True):
        broader[row["narrower"].value].add(row["concept"].value)
    coded = {concept for concepts in broader.values() for concept in concepts}
    groups = defaultdict(set)  # coded concept -> its groups in the evidence map (motive, condition, outcome)
    for row in store.query(GROUPS.format(clo=clo), use_default_graph_as_union=True):
        groups[row["concept"].value].add(row["group"].value)
    direct_scope = None
    if about is not None:  # the counts that can change, and the claims they are made of
        coded = {concept for changed in about for concept in broader.get(changed, ())}
        direct_scope = set(about)
        about = {n for n, concepts in broader.items() if concepts & coded} | direct_scope
    query = CLAIMS.format(clo=clo, illustrative=f"{base}graph/illustrative",
                          functions=", ".join(f"<{CITO}{name}>" for name in FUNCTIONS),
                          restriction="" if about is None else
                          "VALUES ?about { " + " ".join(f"<{iri}>" for iri in sorted(about)) + " }")
    claims = list(store.query(query, use_default_graph_as_union=True))

    narrower = defaultdict(lambda: defaultdict(set))  # (concept, function) -> measure -> studies or claims
    direct = defaultdict(lambda: defaultdict(set))    # concept -> measure -> studies; and its doubting quotes
    for row in claims:
        claim, about_iri, study = row["claim"].value, row["about"].value, row["study"].value
        polarity = row["polarity"].value.rsplit("/", 1)[-1]
        function = row["function"].value.removeprefix(CITO)
        for concept in broader.get(about_iri, set()) & coded:
            for key in ((concept, "any"), (concept, function)):
                narrower[key]["studies"].add(study)
                narrower[key]["claims"].add(claim)
                if polarity in POLARITIES:
                    narrower[key][POLARITIES[polarity]].add(study)
        if direct_scope is not None and about_iri not in direct_scope:
            continue
        counts = direct[about_iri]
        counts["studies"].add(study)
        if polarity == "supports":
            counts["supportingStudies"].add(study)
        else:
            counts["doubtingStudies"].add(study)
            counts["quotes"].add(row["quote"].value)

    graph = ox.NamedNode(graph_iri(base))
    dataset = ox.NamedNode(f"{base}aggregates/evidence")
    quads = [ox.Quad(dataset, TYPE, ox.NamedNode(QB + "DataSet"), graph)]
    written = {observation_iri(base, "narrower", function, concept) for concept in coded
               for function in ("any", *FUNCTIONS)}
    written |= {observation_iri(base, "direct", "any", concept) for concept in (direct_scope or ())}

    def observation(concept: str, scope: str, function: str, measures: dict) -> None:
        node = ox.NamedNode(observation_iri(base, scope, function, concept))
        triples = [(TYPE, ox.NamedNode(QB + "Observation")), (ox.NamedNode(QB + "dataSet"), dataset),
                   (ox.NamedNode(clo + "countedConcept"), ox.NamedNode(concept)),
                   (ox.NamedNode(clo + "countScope"), ox.Literal(scope)),
                   (ox.NamedNode(clo + "countedFunction"), ox.Literal(function))]
        if scope == "narrower":  # the evidence map reads its rows from the counts alone (no class paths)
            triples += [(ox.NamedNode(clo + "conceptGroup"), ox.Literal(group)) for group in sorted(groups[concept])]
        for name, value in measures.items():
            literal = ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer")) if isinstance(value, int) \
                else ox.Literal(value)
            triples.append((ox.NamedNode(clo + name), literal))
        quads.extend(ox.Quad(node, predicate, value, graph) for predicate, value in triples)

    for concept in sorted(coded):  # every coded concept and function, evidence or not: the cube is complete
        for function in ("any", *FUNCTIONS):
            sets = narrower.get((concept, function), {})
            observation(concept, "narrower", function,
                        {name: len(sets.get(name, ())) for name in (*POLARITIES.values(), "studies", "claims")})
    for concept, sets in sorted(direct.items()):
        measures = {"supportingStudies": len(sets["supportingStudies"]), "doubtingStudies": len(sets["doubtingStudies"])}
        if sets["quotes"]:
            measures["exampleDoubt"] = min(sets["quotes"])
        observation(concept, "direct", "any", measures)
    return quads, written
