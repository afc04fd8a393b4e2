"""Rebasing IRIs between the canonical base and a deployment's base: the one place that does it.

Sources, shapes, queries and contribution files speak canonical IRIs (`clkg.vocab.CANONICAL_BASE`); the
store, the pages and the API speak the deployment's (`CLKG_BASE_IRI`). `Rebaser(base).out(x)` maps
canonical to deployed, `.back(x)` deployed to canonical, for strings, Oxigraph terms, triples and quads;
both are the identity when the bases are equal.
"""
from __future__ import annotations

import pyoxigraph as ox

from clkg.vocab import CANONICAL_BASE


def _swap(value: str, old: str, new: str) -> str:
    return new + value[len(old):] if value.startswith(old) else value


class Rebaser:
    """Maps IRIs (strings, terms, triples, quads) between the canonical base and `base`."""

    def __init__(self, base: str = CANONICAL_BASE):
        self.base = base
        self.identity = base == CANONICAL_BASE

    def out(self, item):
        """Canonical -> deployment."""
        return item if self.identity else _map(item, CANONICAL_BASE, self.base)

    def back(self, item):
        """Deployment -> canonical."""
        return item if self.identity else _map(item, self.base, CANONICAL_BASE)

    def text(self, text: str) -> str:
        """A whole text (a SPARQL query of the project's own files) with the canonical base replaced.
        Only for texts the project writes itself: their IRIs are the only place the base appears."""
        return text if self.identity else text.replace(CANONICAL_BASE, self.base)


def _map(item, old: str, new: str):
    if isinstance(item, str):
        return _swap(item, old, new)
    if isinstance(item, ox.NamedNode):
        return ox.NamedNode(_swap(item.value, old, new)) if item.value.startswith(old) else item
    if isinstance(item, ox.Literal):
        if item.datatype is not None and item.datatype.value.startswith(old):
            return ox.Literal(item.value, datatype=ox.NamedNode(_swap(item.datatype.value, old, new)))
        return item
    if isinstance(item, ox.Quad):
        return ox.Quad(_map(item.subject, old, new), _map(item.predicate, old, new), _map(item.object, old, new),
                       _map(item.graph_name, old, new))
    if isinstance(item, ox.Triple):
        return ox.Triple(_map(item.subject, old, new), _map(item.predicate, old, new), _map(item.object, old, new))
    if isinstance(item, (list, tuple)):
        return [_map(x, old, new) for x in item]
    return item  # blank nodes, the default graph
