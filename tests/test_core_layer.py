"""The core layer: one vocabulary module, one place that rebases IRIs."""
from __future__ import annotations

import pyoxigraph as ox

from clkg import vocab
from clkg.iris import Rebaser

DEPLOYED = "http://127.0.0.1:8000/kg/"


def test_rebasing_maps_every_position_and_back():
    quad = ox.Quad(ox.NamedNode(vocab.CLS + "a-2000"), ox.NamedNode(vocab.CLO + "about"),
                   ox.Literal("3", datatype=ox.NamedNode(vocab.CLO + "Code")), ox.NamedNode(vocab.CLG + "evidence"))
    rebaser = Rebaser(DEPLOYED)
    out = rebaser.out(quad)
    assert out.subject.value == DEPLOYED + "study/a-2000"
    assert out.predicate.value == DEPLOYED + "ontology/about"
    assert out.object.datatype.value == DEPLOYED + "ontology/Code"
    assert out.graph_name.value == DEPLOYED + "graph/evidence"
    assert rebaser.back(out) == quad
    assert rebaser.back([out]) == [quad]


def test_rebasing_leaves_foreign_iris_blank_nodes_and_plain_literals():
    rebaser = Rebaser(DEPLOYED)
    triple = ox.Triple(ox.BlankNode("b"), ox.NamedNode(vocab.DCTERMS + "title"), ox.Literal("https://w3id.org/clkg/x"))
    assert rebaser.out(triple) == triple
    assert rebaser.out("http://example.org/x") == "http://example.org/x"
    assert rebaser.back(DEPLOYED + "concept/M3") == vocab.CLC + "M3"


def test_the_canonical_base_is_the_identity():
    rebaser = Rebaser(vocab.CANONICAL_BASE)
    node = ox.NamedNode(vocab.CLC + "M3")
    assert rebaser.out(node) is node and rebaser.back(node) is node
    assert rebaser.text(f"SELECT * WHERE {{ <{vocab.CLC}M3> ?p ?o }}").count(vocab.CANONICAL_BASE) == 1


def test_prefix_map_names_each_namespace_once():
    namespaces = list(vocab.PREFIXES.values())
    assert len(namespaces) == len(set(namespaces))
    assert all(ns.endswith(("/", "#")) for ns in namespaces)
