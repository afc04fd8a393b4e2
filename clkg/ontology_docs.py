"""Human documentation of the ontology (HTML), generated with pyLODE.

Why: the ontology IRI https://w3id.org/clkg/ontology answers browsers with a readable page and
machines with Turtle. pyLODE's OntPub profile documents classes and properties; it cannot draw nested
OWL class expressions (it crashes on "A and (B or C)") and it does not list SKOS concepts, so the
graph is first prepared for it (`documentation_view`): every anonymous class expression is replaced by
a line of Manchester syntax, and the concept scheme is appended as a section of its own.
"""
from __future__ import annotations

import html
import sys
import types
from collections import defaultdict

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from clkg import turtle, vocab

CLO = Namespace(vocab.CLO)
ONTOLOGY_IRI = URIRef(vocab.ONTOLOGY)
STRUCTURAL = (RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith, RDFS.domain, RDFS.range)
WORDS = {RDFS.subClassOf: "Subclass of", OWL.equivalentClass: "Equivalent to", OWL.disjointWith: "Disjoint with",
         RDFS.domain: "Domain", RDFS.range: "Range"}


class DocumentationError(RuntimeError):
    """pyLODE could not render the ontology."""


def _import_pylode():
    """Import pyLODE 3.x, whose version module reads a pyproject.toml that wheels do not ship."""
    if "pylode.version" not in sys.modules:
        try:
            from importlib.metadata import version
            release = version("pylode")
        except Exception:  # pragma: no cover - metadata missing
            release = "3"
        stub = types.ModuleType("pylode.version")
        stub.__version__ = release
        sys.modules["pylode.version"] = stub
    import pylode

    return pylode


def _name(graph: Graph, term) -> str:
    if isinstance(term, URIRef):
        try:
            prefix, _, local = graph.namespace_manager.compute_qname(str(term), generate=False)
            return f"{prefix}:{local}" if prefix else local
        except Exception:
            return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    return manchester(graph, term)


def manchester(graph: Graph, node) -> str:
    """An OWL class expression (or datatype) in Manchester syntax, for reading."""
    if not isinstance(node, BNode):
        return _name(graph, node)
    for keyword, word in ((OWL.intersectionOf, " and "), (OWL.unionOf, " or ")):
        members = graph.value(node, keyword)
        if members is not None:
            parts = [manchester(graph, m) for m in graph.items(members)]
            return "(" + word.join(parts) + ")"
    members = graph.value(node, OWL.oneOf)
    if members is not None:
        return "{" + ", ".join(_name(graph, m) for m in graph.items(members)) + "}"
    prop = graph.value(node, OWL.onProperty)
    if prop is not None:
        p = _name(graph, prop)
        for keyword, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only")):
            filler = graph.value(node, keyword)
            if filler is not None:
                return f"({p} {word} {manchester(graph, filler)})"
        value = graph.value(node, OWL.hasValue)
        if value is not None:
            return f"({p} value {_name(graph, value)})"
        for keyword, word in ((OWL.minCardinality, "min"), (OWL.maxCardinality, "max"), (OWL.cardinality, "exactly"),
                              (OWL.minQualifiedCardinality, "min"), (OWL.maxQualifiedCardinality, "max"),
                              (OWL.qualifiedCardinality, "exactly")):
            n = graph.value(node, keyword)
            if n is not None:
                on = graph.value(node, OWL.onClass)
                return f"({p} {word} {n}" + (f" {manchester(graph, on)})" if on is not None else ")")
    complement = graph.value(node, OWL.complementOf)
    if complement is not None:
        return f"(not {manchester(graph, complement)})"
    return "[anonymous]"


def _strip(text: str) -> str:
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def documentation_view(graph: Graph) -> Graph:
    """A copy of `graph` that pyLODE can render: class expressions become skos:note lines."""
    view = Graph()
    for prefix, namespace in graph.namespaces():
        view.bind(prefix, namespace)
    view.bind("clo", CLO)
    for triple in graph:
        view.add(triple)
    notes = []
    for predicate in STRUCTURAL:
        for subject, obj in list(graph.subject_objects(predicate)):
            if isinstance(obj, BNode) and isinstance(subject, URIRef):
                notes.append((subject, f"{WORDS[predicate]}: {_strip(manchester(graph, obj))}"))
                view.remove((subject, predicate, obj))
    for subject, text in notes:
        view.add((subject, SKOS.note, Literal(text, lang="en")))
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = [_name(graph, m) for m in graph.items(graph.value(node, OWL.members))]
        view.add((ONTOLOGY_IRI, SKOS.note, Literal("Pairwise disjoint: " + ", ".join(members), lang="en")))
    # pyLODE copies every rdfs:label and skos:definition into dcterms:title/description; one title
    # per term reads better, so the English label is the title and the Dutch one stays a label.
    for subject in set(view.subjects(RDF.type, OWL.Class)) | {s for t in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty) for s in view.subjects(RDF.type, t)}:
        if isinstance(subject, URIRef):
            english = [o for o in view.objects(subject, RDFS.label) if getattr(o, "language", None) == "en"]
            if english:
                for o in list(view.objects(subject, RDFS.label)):
                    view.remove((subject, RDFS.label, o))
                view.add((subject, RDFS.label, english[0]))
    for title in list(view.objects(ONTOLOGY_IRI, DCTERMS.title)):
        if getattr(title, "language", None) != "en":
            view.remove((ONTOLOGY_IRI, DCTERMS.title, title))
    # Concepts are documented in their own section (see concepts_html), not as pyLODE entities.
    for concept in set(view.subjects(RDF.type, SKOS.Concept)) | set(view.subjects(RDF.type, SKOS.ConceptScheme)):
        view.remove((concept, None, None))
    return view


def _label(graph: Graph, term, lang: str) -> str:
    for predicate in (SKOS.prefLabel, RDFS.label):
        for o in graph.objects(term, predicate):
            if getattr(o, "language", None) == lang:
                return str(o)
    return str(term).rsplit("/", 1)[-1]


def concepts_html(graph: Graph) -> str:
    """The concept scheme as a nested list: notation, labels (en/nl), class, definition."""
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    if not concepts:
        return ""
    children = defaultdict(list)
    for concept in concepts:
        for parent in graph.objects(concept, SKOS.broader):
            children[parent].append(concept)
    tops = sorted((c for c in concepts if (c, SKOS.broader, None) not in graph), key=str)

    def entry(concept, path):
        local = str(concept).rsplit("/", 1)[-1]
        notation = graph.value(concept, SKOS.notation)
        classes = sorted(_name(graph, t) for t in graph.objects(concept, RDF.type)
                         if t not in (SKOS.Concept, OWL.NamedIndividual))
        definition = next((str(o) for o in graph.objects(concept, SKOS.definition) if getattr(o, "language", None) == "en"), "")
        head = f'<code>{html.escape(str(notation))}</code> ' if notation is not None else ""
        out = [f'<li id="concept-{html.escape(local)}">{head}<a href="{html.escape(str(concept))}"><strong>'
               f'{html.escape(_label(graph, concept, "en"))}</strong></a> / <em lang="nl">{html.escape(_label(graph, concept, "nl"))}</em>'
               f' <small>({html.escape(", ".join(classes))})</small><br/><span>{html.escape(definition)}</span>']
        kids = sorted(children.get(concept, []), key=str)
        if kids and concept not in path:
            out.append("<ul>" + "".join(entry(k, path | {concept}) for k in kids) + "</ul>")
        out.append("</li>")
        return "".join(out)

    return ('<div class="section" id="concepts"><h2>Concepts</h2>'
            f"<p>The {len(concepts)} concepts of the scheme <code>clc:scheme</code>, by skos:broader; "
            "codes (skos:notation) in front.</p><ul>" + "".join(entry(t, frozenset()) for t in tops) + "</ul></div>")


def ontology_html(paths) -> str:
    """HTML documentation of the ontology in `paths` (clkg.ttl, optionally concepts.ttl), via pyLODE."""
    graph = turtle.load(paths)
    if (None, RDF.type, OWL.Ontology) not in graph:
        raise DocumentationError(f"no owl:Ontology in {', '.join(str(p) for p in paths)}")
    try:
        pylode = _import_pylode()
        page = pylode.OntPub(documentation_view(graph)).make_html(include_css=True)
    except Exception as error:  # pyLODE raises many kinds of errors on input it cannot draw
        raise DocumentationError(f"pyLODE could not document the ontology: {type(error).__name__}: {error}") from error
    section = concepts_html(graph)
    if section:
        marker = '<div id="legend">'
        page = page.replace(marker, section + marker, 1) if marker in page else page.replace("</body>", section + "</body>", 1)
    return page
