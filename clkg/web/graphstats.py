"""What the dataset holds, per named graph: the counts and partitions of its VoID description, read
with SPARQL (`queries/pages/graph-stats.rq` and the partitions) through the worker pool, and kept for
the store's generation."""
from __future__ import annotations

from flask import current_app

from clkg import stores
from clkg.web.context import base, settings
from clkg.web.labels import natural_key
from clkg.web.pagequeries import as_int, select


def generation() -> str:
    """The store's generation token: what the counts (and the dumps) are valid for."""
    return stores.generation_info(settings()).token


def statistics() -> dict:
    """Per named graph: name, IRI, triples, subjects, properties, objects, entities and partitions
    (cached for the store's generation)."""
    cache = current_app.extensions.setdefault("clkg-void", {})
    key = generation()
    if key in cache:
        return cache[key]
    prefix = base() + "graph/"
    graphs = {}
    for row in select("graph-stats"):
        iri = str(row["graph"])
        if not iri.startswith(prefix):
            continue
        graphs[iri] = {"name": iri[len(prefix):], "iri": iri, "classes": [], "properties_used": [],
                       **{field: as_int(row.get(field)) for field in
                          ("triples", "subjects", "properties", "objects", "entities")}}
    for row in select("class-partitions"):
        if str(row["graph"]) in graphs:
            graphs[str(row["graph"])]["classes"].append((str(row["class"]), as_int(row["entities"])))
    for row in select("property-partitions"):
        if str(row["graph"]) in graphs:
            graphs[str(row["graph"])]["properties_used"].append((str(row["property"]), as_int(row["triples"])))
    result = {"graphs": sorted(graphs.values(), key=lambda g: natural_key(g["name"])),
              "triples": sum(g["triples"] for g in graphs.values())}
    cache.clear()
    cache[key] = result
    return result


def graph_names() -> list[str]:
    return [g["name"] for g in statistics()["graphs"]]


def graph_exists(name: str) -> bool:
    return name in graph_names()


def graph_stats(name: str) -> dict:
    return next(g for g in statistics()["graphs"] if g["name"] == name)


def vocabularies() -> list[str]:
    """Namespaces of every property and class used in the dataset."""
    found = set()
    for graph in statistics()["graphs"]:
        for term, _ in graph["classes"] + graph["properties_used"]:
            cut = max(term.rfind("#"), term.rfind("/"))
            if cut > 0:
                found.add(term[:cut + 1])
    return sorted(found)
