"""RDF views of a resource: its description read from the store, and its documents in Turtle, JSON-LD,
N-Triples and RDF/XML.

The description of a resource is its concise bounded description (the triples with the IRI as subject
and the blank nodes below it: `queries/pages/describe.rq`), or, for an IRI that is only referred to,
the triples that point at it (`describe-incoming.rq`). Pages read it through `Description`.
"""
from __future__ import annotations

import pyoxigraph as ox

from clkg import vocab
from clkg.web.labels import LABEL_ORDER, Labels, pick_language
from clkg.web.links import prefixes, rebase
from clkg.web.negotiation import FORMATS, document_response
from clkg.web.pagequeries import Value, as_bool, construct, iri, optional_select, select

RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "nt": ox.RdfFormat.N_TRIPLES,
               "rdf": ox.RdfFormat.RDF_XML}
RDF_FIRST, RDF_REST, RDF_NIL = vocab.RDF + "first", vocab.RDF + "rest", vocab.RDF + "nil"


class Description:
    """The triples describing one resource, indexed by subject, for templates. Predicates are asked
    for by their canonical IRI (clkg.vocab) and rebased here. The triples are put in one order (the
    resource's own first, then by subject, predicate and object), whatever order the store answered
    them in: stores differ, and a page or document must not change with them."""

    def __init__(self, iri: str, triples, labels: Labels):
        self.iri = iri
        self.labels = labels
        self.triples = sorted(triples, key=lambda t: (
            not (isinstance(t.subject, ox.NamedNode) and t.subject.value == iri),
            t.subject.value if isinstance(t.subject, ox.NamedNode) else "", t.predicate.value, str(t.object)))
        self._by_subject: dict[str, list] = {}
        for triple in self.triples:
            self._by_subject.setdefault(self.key(triple.subject), []).append(triple)

    @staticmethod
    def key(term) -> str:
        return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"

    def __bool__(self) -> bool:
        return bool(self.triples)

    def values(self, predicate: str, subject=None) -> list:
        predicate = rebase(predicate)
        subject = self.iri if subject is None else self.key(subject) if not isinstance(subject, str) else subject
        return [t.object for t in self._by_subject.get(subject, []) if t.predicate.value == predicate]

    def first(self, predicate: str, subject=None):
        found = self.values(predicate, subject)
        return found[0] if found else None

    def text(self, predicate: str, subject=None) -> str | None:
        """A literal value in the interface language if there is one."""
        found = [t for t in self.values(predicate, subject) if isinstance(t, ox.Literal)]
        if not found:
            return None
        return pick_language([Value.of_literal(t) for t in found], self.labels.lang)

    def texts(self, predicate: str, subject=None) -> list:
        return [Value.of_literal(t) for t in self.values(predicate, subject) if isinstance(t, ox.Literal)]

    def types(self) -> list[str]:
        return [t.value for t in self.values(vocab.RDF_TYPE) if isinstance(t, ox.NamedNode)]

    def items(self, node) -> list | None:
        """The members of an RDF list starting at `node`, or None if it is not a well-formed list."""
        members, seen = [], set()
        while True:
            if isinstance(node, ox.NamedNode) and node.value == RDF_NIL:
                return members
            if not isinstance(node, ox.BlankNode) or node.value in seen:
                return None
            seen.add(node.value)
            first, rest = self.values(RDF_FIRST, node), self.values(RDF_REST, node)
            if len(first) != 1 or len(rest) != 1 or len(self._by_subject.get(self.key(node), [])) != 2:
                return None
            members.append(first[0])
            node = rest[0]

    def rows(self, subject=None) -> list[tuple[str, list]]:
        """(predicate IRI, objects) of a subject, rdf:type first, then by the predicate's label."""
        subject = self.iri if subject is None else self.key(subject)
        grouped: dict[str, list] = {}
        for triple in self._by_subject.get(subject, []):
            grouped.setdefault(triple.predicate.value, []).append(triple.object)
        order = sorted(grouped, key=lambda p: (p != vocab.RDF_TYPE, self.labels(p).lower()))
        return [(p, sorted(grouped[p], key=_sort_key)) for p in order]


def _sort_key(term):
    return (not isinstance(term, ox.NamedNode), getattr(term, "language", None) or "", str(term.value))


def existence(resource: str) -> tuple[bool, bool]:
    """(described, referred to) for an IRI in the store."""
    found = select("exists", resource=iri(resource))
    row = found[0] if found else {}
    return as_bool(row.get("described")), as_bool(row.get("referenced"))


def triples_of(resource: str) -> list[ox.Triple]:
    """What the store says about a resource, or, when it says nothing, what points at it."""
    return construct("describe", resource=iri(resource)) or construct("describe-incoming", resource=iri(resource))


def describe(resource: str, lang: str, *, with_labels: bool = True) -> Description:
    """The description of a resource with the labels of the IRIs in it (in `lang` where there is one)."""
    triples = triples_of(resource)
    labels = Labels(lang)
    label_properties = {rebase(prop) for prop in LABEL_ORDER}
    for triple in triples:
        if isinstance(triple.subject, ox.NamedNode) and triple.predicate.value in label_properties \
                and isinstance(triple.object, ox.Literal):
            labels.add(triple.subject.value, triple.predicate.value, Value.of_literal(triple.object))
    if with_labels and triples:
        labels.add_rows(optional_select("labels", resource=iri(resource)))
        inside = sorted({term.value for t in triples if isinstance(t.subject, ox.BlankNode)
                         for term in (t.predicate, t.object) if isinstance(term, ox.NamedNode)})
        if inside:  # what the description's blank nodes and lists mention
            labels.add_rows(optional_select("labels-of", x=[iri(value) for value in inside]))
    return Description(resource, triples, labels)


def incoming(resource: str, labels: Labels) -> list[tuple[str, list]]:
    """What points at a resource: (property, subjects), by the property's label."""
    grouped: dict[str, list] = {}
    for row in optional_select("incoming", resource=iri(resource)):
        grouped.setdefault(row["p"], []).append(row["s"])
    return sorted(grouped.items(), key=lambda item: labels(item[0]).lower())


def serialize(triples, ext: str) -> bytes:
    """The triples as a document; Turtle and RDF/XML with the prefixes of clkg.vocab (rebased)."""
    triples = _grouped(triples)
    if ext in ("ttl", "rdf"):
        return ox.serialize(triples, format=RDF_FORMATS[ext], prefixes=prefixes()) or b""
    if ext == "jsonld":
        return ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"[]"
    return ox.serialize(triples, format=RDF_FORMATS[ext]) or b""


def _grouped(triples) -> list:
    """Triples grouped by subject (first appearance first), so that Turtle writes one block per subject."""
    groups: dict = {}
    for triple in triples:
        groups.setdefault(triple.subject, []).append(triple)
    return [triple for group in groups.values() for triple in group]


def rdf_response(triples, ext: str, resource_path: str, resource: str, formats=FORMATS):
    """A machine-readable document: the triples in the format of the extension."""
    return document_response(serialize(triples, ext), ext, resource_path, resource, formats)
