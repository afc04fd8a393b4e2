"""Turtle files read into one rdflib graph: for the audits, the reasoner's input, the shapes and the
ontology documentation (the serving path reads Turtle with Oxigraph instead, see `store`)."""
from __future__ import annotations

from rdflib import Graph


def load(paths) -> Graph:
    """All the files, merged into one graph."""
    graph = Graph()
    for path in paths:
        graph.parse(str(path), format="turtle")
    return graph
