"""The W3C SHACL core test suite (SHACL 1.0), run through the product's own validation path
(`clkg.validation.run_shacl`, the one pyshacl call every entry validation makes), so that an upgrade of
the validator that breaks SHACL semantics fails here.

The suite is read from ../shared/w3c-shacl-tests/ beside the repository (not copied; see its
SUMMARY.md): data-shapes-test-suite/tests/core/manifest.ttl and the manifests it includes. Each test is
compared the way the suite prescribes for full compliance: the validation report must be isomorphic to
the expected one, after keeping only rdf:type, sh:result, sh:conforms, sh:focusNode, sh:resultPath,
sh:resultSeverity, sh:sourceConstraint, sh:sourceConstraintComponent, sh:sourceShape and sh:value
(sh:resultMessage only where the expected report gives the same message), with report and result nodes
as blank nodes and sh:resultPath structures copied in.

KNOWN_DEVIATIONS lists the tests the validator is known to fail, each with the reason; they are
expected to fail (strictly: one that starts to pass must be taken off the list), and any other failure
is a new deviation.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import RDF, SH

import prerequisites
from clkg import config, validation

SUITE = config.ROOT.parent / "shared" / "w3c-shacl-tests" / "data-shapes-test-suite" / "tests" / "core"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
KEPT = {RDF.type, SH.result, SH.conforms, SH.focusNode, SH.resultPath, SH.resultSeverity, SH.sourceConstraint,
        SH.sourceConstraintComponent, SH.sourceShape, SH.value}

# test id (folder/name) -> why pyshacl does not pass it.
KNOWN_DEVIATIONS: dict[str, str] = {
    "property/uniqueLang-002": "pyshacl 0.40 activates sh:uniqueLang for \"1\"^^xsd:boolean; the spec (and the "
                               "test) only for true, so the constraint must be ignored and the data conform",
}


def _parse(path: Path) -> rdflib.Graph:
    """A test file as the product's data graph class (validation.DataGraph, with its prepared queries)."""
    return validation.DataGraph().parse(path, format="turtle", publicID=path.as_uri())


def collect(manifest: Path, tests: list) -> list:
    """Every sht:Validate entry reachable from a manifest, as (id, file, graph of the file, entry)."""
    graph = _parse(manifest)
    for include in graph.objects(None, MF.include):
        collect(Path(str(include).removeprefix("file://")), tests)
    for entries in graph.objects(None, MF.entries):
        for entry in Collection(graph, entries):
            if (entry, RDF.type, SHT.Validate) in graph:
                test_id = f"{manifest.parent.name}/{str(entry).rsplit('/', 1)[-1]}"
                tests.append((test_id, manifest, graph, entry))
    return tests


TESTS = collect(SUITE / "manifest.ttl", []) if (SUITE / "manifest.ttl").is_file() else []


def _clone(source: rdflib.Graph, node, target: rdflib.Graph):
    """A fresh copy of the blank-node structure under `node` (a path, a list): a path that two results
    share is cloned for each, as the suite prescribes."""
    if not isinstance(node, rdflib.BNode):
        return node
    copy = rdflib.BNode()
    for _, p, o in source.triples((node, None, None)):
        target.add((copy, p, _clone(source, o, target)))
    return copy


def normalise(source: rdflib.Graph, report_node, messages: set | None = None) -> rdflib.Graph:
    """A validation report reduced to what the suite compares (see the module docstring). `messages`:
    the result messages to keep (None: keep them all, for the expected report)."""
    out = rdflib.Graph()
    report = rdflib.BNode()
    out.add((report, RDF.type, SH.ValidationReport))
    conforms = source.value(report_node, SH.conforms)
    out.add((report, SH.conforms, rdflib.Literal(str(conforms).lower() == "true")))
    for result in source.objects(report_node, SH.result):
        node = rdflib.BNode()
        out.add((report, SH.result, node))
        out.add((node, RDF.type, SH.ValidationResult))
        for _, p, o in source.triples((result, None, None)):
            if p == SH.resultMessage and (messages is None or o in messages):
                out.add((node, p, o))
            if p in KEPT and p != RDF.type:
                out.add((node, p, _clone(source, o, out) if p == SH.resultPath else o))
    return out


def load(path: rdflib.URIRef, manifest: Path, graph: rdflib.Graph) -> rdflib.Graph:
    return graph if Path(str(path).removeprefix("file://")) == manifest else _parse(Path(str(path).removeprefix("file://")))


def test_the_suite_is_complete():
    """The suite as the summary describes it: 98 validation tests, all approved."""
    prerequisites.require(SUITE, "the W3C SHACL test suite")
    assert len(TESTS) == 98
    assert all((entry, MF.status, SHT.approved) in graph for _, _, graph, entry in TESTS)


@pytest.mark.parametrize("test_id, manifest, graph, entry", [
    pytest.param(*test, id=test[0], marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DEVIATIONS[test[0]])]
                 if test[0] in KNOWN_DEVIATIONS else []) for test in TESTS])
def test_w3c_shacl_core(test_id, manifest, graph, entry):
    action = graph.value(entry, MF.action)
    data = load(graph.value(action, SHT.dataGraph), manifest, graph)
    shapes = load(graph.value(action, SHT.shapesGraph), manifest, graph)
    expected_node = graph.value(entry, MF.result)
    assert expected_node is not None and (expected_node, RDF.type, SH.ValidationReport) in graph, \
        "every core test expects a validation report"

    conforms, report = validation.run_shacl(data, shapes)  # SHACL's own rule: any result means false

    expected_conforms = str(graph.value(expected_node, SH.conforms)).lower() == "true"
    assert conforms is expected_conforms, f"{test_id}: sh:conforms {conforms}, expected {expected_conforms}"
    messages = set(graph.objects(None, SH.resultMessage))
    expected = normalise(graph, expected_node)
    (report_node,) = set(report.subjects(RDF.type, SH.ValidationReport))
    actual = normalise(report, report_node, messages)
    if not isomorphic(to_isomorphic(expected), to_isomorphic(actual)):
        _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(f"{test_id}: the report differs from the expected one.\n"
                    f"expected, not given:\n{missing.serialize(format='nt')}\n"
                    f"given, not expected:\n{extra.serialize(format='nt')}")
