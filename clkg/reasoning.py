"""OWL reasoning over the graph with HermiT (through owlready2).

Why: the ontology defines claim classes by restriction (a claim about an O-TEA-* cell is a
clo:TeacherOutcomeClaim, a claim whose polarity is nuances or contradicts a clo:ContestingClaim, ...)
and declares disjointness (task, relation and growth motives; culture and situation conditions). A DL
reasoner both checks that the data respects those axioms and materialises the class memberships they
imply, so that SPARQL queries (which do no reasoning) can read them from the `inferred` named graph.

The Turtle files are first reduced to their logical content (see `reasoning_view`): annotations carry
no logic, and leaving them out keeps HermiT fast and away from what it cannot read (xsd:gYear years,
rdf:langString quotes, the RDF lists of bibo:authorList).
"""
from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from clkg.turtle import load

BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
# Class-level vocabulary that is never an individual's type worth reporting.
NOT_A_MEMBERSHIP = {OWL.Thing, OWL.NamedIndividual, OWL.Class, RDFS.Class, OWL.Ontology}
ANNOTATION_BUILTINS = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo,
                       OWL.priorVersion, OWL.backwardCompatibleWith, OWL.incompatibleWith, OWL.deprecated}
AXIOM_NODE_TYPES = (OWL.AllDisjointClasses, OWL.AllDifferent, OWL.AllDisjointProperties,
                    OWL.NegativePropertyAssertion, OWL.Axiom)
CLASS_AXIOMS = (RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith, OWL.disjointUnionOf)


class InconsistentGraph(ValueError):
    """HermiT found the ontology plus instance data inconsistent."""


class ReasonerError(RuntimeError):
    """The reasoner could not run (Java missing, unreadable input, ...)."""


def _builtin(term) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(BUILTIN_NAMESPACES)


def reasoning_view(graph: Graph) -> Graph:
    """The logical part of `graph`: what HermiT needs, nothing it could trip over.

    Dropped: triples whose predicate is an annotation property or a property that no file declares
    as object or datatype property (so a term another file forgot to declare is read as an annotation
    and cannot make the input non-DL), axioms about annotation properties other than their
    declaration, and blank nodes that only those triples reached (RDF lists, the creator node).
    Added: owl:Class declarations for classes used only in rdf:type and owl:NamedIndividual
    declarations for named individuals, so the OWL parser never has to guess.
    """
    logical = {p for t in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in graph.subjects(RDF.type, t)}
    annotation = set(graph.subjects(RDF.type, OWL.AnnotationProperty)) - logical
    view = Graph()
    for s, p, o in graph:
        if s in annotation and p != RDF.type:
            continue
        if p in logical or (_builtin(p) and p not in ANNOTATION_BUILTINS):
            view.add((s, p, o))
    while True:  # drop unreferenced blank nodes that are not themselves axioms
        orphans = {s for s in set(view.subjects()) if isinstance(s, BNode)
                   and (None, None, s) not in view
                   and not any((s, RDF.type, t) in view for t in AXIOM_NODE_TYPES)
                   and not any((s, p, None) in view for p in CLASS_AXIOMS)}
        if not orphans:
            break
        for s in orphans:
            view.remove((s, None, None))
    declared = set(view.subjects(RDF.type, OWL.Class)) | set(view.subjects(RDF.type, RDFS.Datatype))
    for s, o in list(view.subject_objects(RDF.type)):
        if _builtin(o) or o in PROPERTY_TYPES:
            continue
        if isinstance(o, URIRef) and o not in declared:
            view.add((o, RDF.type, OWL.Class))
            declared.add(o)
        if isinstance(s, URIRef):
            view.add((s, RDF.type, OWL.NamedIndividual))
    return view


def _load_world(graph: Graph):
    """A fresh owlready2 World holding `graph`, and the ontology it was loaded as."""
    import owlready2

    world = owlready2.World()
    with tempfile.TemporaryDirectory(prefix="clkg-owl-") as tmp:
        path = Path(tmp) / "graph.nt"
        graph.serialize(destination=str(path), format="nt", encoding="utf-8")
        with open(path, "rb") as handle:
            ontology = world.get_ontology(path.as_uri()).load(fileobj=handle, format="ntriples")
    return world, ontology


def to_owlready(paths, *, logical_only: bool = True):
    """Load the Turtle files into a fresh owlready2 World and return the ontology (`.world` is the World).

    rdflib parses the Turtle (owlready2 cannot), the merged graph is written as N-Triples in a
    temporary directory and loaded into a new World, so calls never share state. With
    `logical_only` (the default) only `reasoning_view` is loaded; pass False to keep annotations.
    """
    graph = load(paths)
    return _load_world(reasoning_view(graph) if logical_only else graph)[1]


def _diagnose(graph: Graph) -> list[str]:
    """Cheap hints for an inconsistency: individuals asserted in two disjoint classes."""
    disjoint = set()
    for a, b in graph.subject_objects(OWL.disjointWith):
        disjoint |= {(a, b), (b, a)}
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(graph.items(graph.value(node, OWL.members)))
        disjoint |= set(itertools.permutations(members, 2))
    parents = {}
    for c, p in graph.subject_objects(RDFS.subClassOf):
        parents.setdefault(c, set()).add(p)

    def ancestors(c, seen=None):
        seen = seen if seen is not None else set()
        for p in parents.get(c, ()):
            if p not in seen:
                seen.add(p)
                ancestors(p, seen)
        return seen

    hints = []
    for individual in set(graph.subjects(RDF.type, None)):
        types = {t for t in graph.objects(individual, RDF.type) if isinstance(t, URIRef)}
        closure = {a: {a} | ancestors(a) for a in types}
        for a, b in itertools.combinations(sorted(types), 2):
            if any((x, y) in disjoint for x in closure[a] for y in closure[b]):
                hints.append(f"{individual} is typed both {a} and {b}, which are disjoint")
    return hints


def _run_hermit(ontology) -> None:
    import owlready2

    try:
        owlready2.sync_reasoner_hermit(ontology.world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError as error:
        raise InconsistentGraph(str(error) or "inconsistent") from None
    except owlready2.OwlReadyJavaError as error:
        raise ReasonerError(f"HermiT failed: {error}") from None
    except FileNotFoundError as error:  # no java executable
        raise ReasonerError(f"cannot start Java for HermiT: {error}") from None


def _inconsistency_message(graph: Graph, files: int) -> str:
    hints = _diagnose(graph)
    detail = "".join(f"\n  - {h}" for h in hints[:20]) or (
        "\n  (no individual is asserted in two disjoint classes: look for a functional property with two"
        " values, or a value outside a property's range)")
    return f"HermiT: the ontology and data in {files} file(s) are inconsistent:{detail}"


def check_consistency(paths) -> None:
    """Raise InconsistentGraph (with hints where they can be found) if HermiT finds the files inconsistent."""
    paths = [str(p) for p in paths]
    graph = load(paths)
    world, ontology = _load_world(reasoning_view(graph))
    try:
        _run_hermit(ontology)
    except InconsistentGraph:
        raise InconsistentGraph(_inconsistency_message(graph, len(paths))) from None
    finally:
        world.close()


def materialise(paths) -> Graph:
    """The class memberships HermiT infers for the individuals, minus those the files assert.

    Returns an rdflib Graph of rdf:type triples (inferred direct types and the superclasses of
    asserted ones), ready for the `inferred` named graph. Raises InconsistentGraph like
    check_consistency. Property values are not inferred (infer_property_values=False): the
    hierarchy is queried with skos:broader* instead, which keeps HermiT well under a minute.
    """
    import owlready2

    paths = [str(p) for p in paths]
    asserted = load(paths)
    world, ontology = _load_world(reasoning_view(asserted))
    try:
        try:
            _run_hermit(ontology)
        except InconsistentGraph:
            raise InconsistentGraph(_inconsistency_message(asserted, len(paths))) from None
        inferred = Graph()
        for individual in world.individuals():
            if not individual.iri.startswith(("http://", "https://")):
                continue
            subject = URIRef(individual.iri)
            for cls in _all_types(individual, owlready2):
                term = URIRef(cls.iri)
                if term not in NOT_A_MEMBERSHIP and (subject, RDF.type, term) not in asserted:
                    inferred.add((subject, RDF.type, term))
        return inferred
    finally:
        world.close()


def _all_types(individual, owlready2):
    """Every named class the individual belongs to after reasoning (direct types and their ancestors)."""
    seen = set()
    for cls in individual.is_a:
        if isinstance(cls, owlready2.ThingClass):
            for ancestor in cls.ancestors(include_self=True):
                if isinstance(ancestor, owlready2.ThingClass) and ancestor not in seen:
                    seen.add(ancestor)
    return seen


def main(argv: list[str]) -> int:
    """`python -m clkg.reasoning [TTL ...]`: check consistency and report the materialised triples."""
    from clkg import resources

    paths = argv or sorted(str(p) for d in (resources.ontology(), resources.evidence()) for p in d.glob("*.ttl"))
    started = time.perf_counter()
    try:
        inferred = materialise(paths)
    except InconsistentGraph as error:
        print(error)
        return 1
    print(f"{len(inferred)} inferred rdf:type triple(s) from {len(paths)} file(s) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
