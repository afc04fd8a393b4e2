"""The validation report: pyshacl's report graph turned into results people can act on.

Results are grouped by entry (the study, claim or case a node belongs to: the nearest one by the
entry's links) and field (the property path), with the shapes' messages in English or Dutch; only
results about the entry's own nodes are kept, in the results and in the SHACL report graph.

A Report crosses a process boundary (validation runs in its own process, clkg/entryworker.py): it holds
plain results and, when asked for, the SHACL report already serialised as Turtle.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, SH

from clkg.vocab import CLO, CLV, GENID, PREFIXES

LANGUAGES = ("en", "nl")
ROOT_KINDS = {CLO + "Study": "study", CLO + "Claim": "claim", CLO + "Case": "case"}

TEXT = {
    "en": {"study": "study", "claim": "claim", "case": "case", "node": "node",
           "violation": "violation", "warning": "warning", "info": "info", "value": "value",
           "conforms": "conforms", "fails": "does not conform", "node-field": "(the node itself)",
           "summary": "{violations} violation(s), {warnings} warning(s)"},
    "nl": {"study": "studie", "claim": "bewering", "case": "case", "node": "knoop",
           "violation": "overtreding", "warning": "waarschuwing", "info": "info", "value": "waarde",
           "conforms": "voldoet", "fails": "voldoet niet", "node-field": "(de knoop zelf)",
           "summary": "{violations} overtreding(en), {warnings} waarschuwing(en)"},
}


# --- the report ------------------------------------------------------------------------------------
def compact(value: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if value.startswith(namespace) and re.fullmatch(r"[\w.\-]*", value[len(namespace):]):
            return f"{prefix}:{value[len(namespace):]}"
    return f"<{value}>"


def _plain(term) -> str | None:
    """A term as the report gives it: an IRI, a blank node label `_:x`, or a literal's lexical form."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return "_:" + term[len(GENID):] if term.startswith(GENID) else str(term)
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


def turtle_term(term) -> str | None:
    """A term in Turtle, compacted with the project's prefixes (for people)."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return "_:" + term[len(GENID):] if term.startswith(GENID) else compact(str(term))
    if isinstance(term, BNode):
        return "_:" + str(term)
    text = '"' + str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype:
        return f"{text}^^{compact(str(term.datatype))}"
    return text


def path_text(graph: rdflib.Graph, node, full: bool = False) -> str | None:
    """A SHACL path as a SPARQL property path (compacted, or with full IRIs)."""
    if node is None:
        return None
    name = (lambda iri: f"<{iri}>") if full else (lambda iri: compact(str(iri)))
    if isinstance(node, URIRef):
        return str(node) if full else compact(str(node))

    def render(n) -> str:
        if isinstance(n, URIRef):
            return name(n)
        if (n, RDF.first, None) in graph:
            return "/".join(render(item) for item in rdflib.collection.Collection(graph, n))
        for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = graph.value(n, predicate)
            if inner is not None:
                text = render(inner)
                return (f"({text})" if re.search(r"[/|]", text) else text) + suffix
        inner = graph.value(n, SH.inversePath)
        if inner is not None:
            return "^" + render(inner)
        inner = graph.value(n, SH.alternativePath)
        if inner is not None:
            return "(" + "|".join(render(i) for i in rdflib.collection.Collection(graph, inner)) + ")"
        return "?"

    return render(node)


_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def _localise(message: Literal, templates: list) -> dict:
    """A result message in every language. Core messages come tagged; pyshacl drops the tag of a
    SPARQL message once it substitutes {?var}: find the template it came from, and render every
    language's template with the same values (IRIs compacted)."""
    if message.language:
        return {message.language: str(message)}
    for template in templates:
        names = _PLACEHOLDER.findall(str(template))
        pattern = "^" + "".join(re.escape(part) if i % 2 == 0 else "(.*?)"
                                for i, part in enumerate(_PLACEHOLDER.split(str(template)))) + "$"
        match = re.match(pattern, str(message), re.S)
        if match is None:
            continue
        values = {n: v for n, v in zip(names, match.groups())}
        shown = {n: (turtle_term(URIRef(v)) if re.match(r"^[a-z][a-z0-9+.-]*:", v) else v) for n, v in values.items()}
        return {t.language or "": _PLACEHOLDER.sub(lambda m: shown.get(m.group(1), m.group(0)), str(t))
                for t in templates}
    return {"": str(message)}


@dataclass
class Result:
    focus_node: str
    path: str | None
    field_name: str | None
    value: str | None
    value_turtle: str | None
    severity: str
    messages: dict
    shape: str | None
    constraint: str | None
    entry: str = ""
    entry_kind: str = "node"

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages.get("en") or self.messages.get("") or next(
            iter(self.messages.values()), "")

    def to_json(self, lang: str) -> dict:
        return {"entry": self.entry, "entry_kind": self.entry_kind, "focus_node": self.focus_node,
                "path": self.path, "field": self.field_name, "value": self.value, "value_turtle": self.value_turtle,
                "severity": self.severity, "message": self.message(lang), "shape": self.shape,
                "constraint": self.constraint}


@dataclass
class Report:
    """The results on an entry. The SHACL report graph restricted to them is made only when asked for
    (`to_turtle`); a report sent from a validation process carries that Turtle, or none (`detached`)."""

    results: list
    shapes_version: str = ""
    source: str | None = None
    turtle: bytes | None = field(default=None, repr=False)
    shacl: tuple | None = field(default=None, repr=False)  # (pyshacl's report graph, the results kept)

    @property
    def violations(self) -> list:
        return [r for r in self.results if r.severity == "violation"]

    @property
    def warnings(self) -> list:
        return [r for r in self.results if r.severity == "warning"]

    @property
    def conforms(self) -> bool:
        """True when nothing is a violation: warnings do not stop an entry."""
        return not self.violations

    def to_json(self, lang: str = "en") -> dict:
        lang = lang if lang in LANGUAGES else "en"
        body = {"conforms": self.conforms, "violations": len(self.violations), "warnings": len(self.warnings),
                "lang": lang, "shapes_version": self.shapes_version,
                "results": [r.to_json(lang) for r in self.results]}
        if self.source is not None:
            body = {"source": self.source} | body
        return body

    def to_turtle(self) -> bytes:
        """The SHACL validation report itself (the entry's blank nodes as blank nodes again)."""
        if self.turtle is None:
            graph = _entry_report_graph(*self.shacl, self.conforms)
            self.turtle = graph.serialize(format="turtle").encode("utf-8")
        return self.turtle

    def detached(self, with_turtle: bool) -> "Report":
        """The report without pyshacl's graph (its Turtle if asked for), to send to another process."""
        return Report(self.results, self.shapes_version, self.source, self.to_turtle() if with_turtle else None)

    def to_text(self, lang: str = "en") -> str:
        """For people: grouped by entry, then by node and field."""
        lang = lang if lang in LANGUAGES else "en"
        words = TEXT[lang]
        lines = []
        head = f"{self.source}: " if self.source else ""
        status = words["conforms"] if self.conforms else words["fails"]
        summary = words["summary"].format(violations=len(self.violations), warnings=len(self.warnings))
        lines.append(f"{head}{status} ({summary})")
        groups: dict = defaultdict(list)
        for result in self.results:
            groups[(result.entry_kind, result.entry)].append(result)
        for (kind, entry), results in groups.items():
            lines.append(f"  {words[kind]} {turtle_term(report_node(entry))}")
            for result in results:
                where = result.field_name or words["node-field"]
                if result.focus_node != entry:
                    where = f"{turtle_term(report_node(result.focus_node))} {where}"
                value = f" [{words['value']}: {result.value_turtle}]" if result.value_turtle is not None else ""
                lines.append(f"    {where}: {words[result.severity]}: {result.message(lang)}{value}")
        return "\n".join(lines)


def report_node(text: str):
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _severity(term) -> str:
    return {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}.get(term, "violation")


def _node_text(term: ox.NamedNode | ox.BlankNode) -> str:
    """An entry's node as the report names it: its IRI, or `_:label` for a blank node."""
    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


def entry_owners(entry: list) -> dict:
    """For every subject of the entry, the study, claim or case it belongs to (nearest by the links of
    the entry; of equally near ones, the first by IRI), with its kind. One breadth-first walk from all
    the roots at once, so the cost grows with the entry's size, not with its size times its depth."""
    rdf_type = ox.NamedNode(str(RDF.type))
    kinds, children = {}, defaultdict(set)
    for s, p, o in entry:
        if p == rdf_type and isinstance(o, ox.NamedNode) and o.value in ROOT_KINDS:
            kinds.setdefault(_node_text(s), ROOT_KINDS[o.value])
        elif p != rdf_type and isinstance(o, (ox.NamedNode, ox.BlankNode)):
            children[_node_text(s)].add(_node_text(o))
    owner = {root: root for root in kinds}
    frontier = list(kinds)
    while frontier:
        reached: dict = {}
        for node in frontier:
            for child in children.get(node, ()):
                if child not in owner and (child not in reached or owner[node] < reached[child]):
                    reached[child] = owner[node]
        owner.update(reached)
        frontier = list(reached)
    subjects = {_node_text(s) for s, _, _ in entry}
    return {node: (owner[node], kinds[owner[node]]) if node in owner else (node, "node") for node in subjects}


def build_report(report_graph: rdflib.Graph, entry: list, shapes_version_: str, source: str | None = None) -> Report:
    """The report on the entry's own nodes: results about context nodes are dropped, here and in the
    SHACL report graph."""
    owners = entry_owners(entry)
    results, kept = [], []
    for node in report_graph.objects(None, SH.result):
        focus = report_graph.value(node, SH.focusNode)
        if _plain(focus) not in owners:
            continue
        kept.append(node)
        path_node = report_graph.value(node, SH.resultPath)
        value = report_graph.value(node, SH.value)
        constraint = report_graph.value(node, SH.sourceConstraint)
        templates = list(report_graph.objects(constraint, SH.message)) if constraint is not None else []
        messages: dict = {}
        for message in report_graph.objects(node, SH.resultMessage):
            for lang, text in _localise(message, templates).items():
                messages.setdefault(lang, text)
        internal = isinstance(path_node, URIRef) and str(path_node).startswith(CLV)
        focus_text = _plain(focus)
        entry_iri, kind = owners.get(focus_text, (focus_text, "node"))
        shape = report_graph.value(node, SH.sourceShape)
        component = report_graph.value(node, SH.sourceConstraintComponent)
        results.append(Result(
            focus_node=focus_text,
            path=None if internal else path_text(report_graph, path_node, full=True),
            field_name=None if internal else path_text(report_graph, path_node),
            value=_plain(value), value_turtle=turtle_term(value), severity=_severity(report_graph.value(node, SH.resultSeverity)),
            messages=messages, shape=str(shape) if isinstance(shape, URIRef) else None,
            constraint=compact(str(component)) if component is not None else None,
            entry=entry_iri, entry_kind=kind))
    order = {"violation": 0, "warning": 1, "info": 2}
    results.sort(key=lambda r: (r.entry_kind, r.entry, r.focus_node != r.entry, r.focus_node, r.field_name or "",
                                order[r.severity], r.message("en"), r.value or ""))
    return Report(results, shapes_version_, source, shacl=(report_graph, kept))


def _entry_report_graph(graph: rdflib.Graph, results: list, conforms: bool) -> rdflib.Graph:
    """The SHACL report restricted to the entry's results, the entry's blank nodes as blank nodes again."""
    out = rdflib.Graph()
    for prefix, namespace in PREFIXES.items():
        out.bind(prefix, namespace)
    back = lambda t: BNode(t[len(GENID):]) if isinstance(t, URIRef) and t.startswith(GENID) else t  # noqa: E731
    report = BNode()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, Literal(conforms)))
    seen, todo = set(), list(results)
    for result in results:
        out.add((report, SH.result, result))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for _, p, o in graph.triples((node, None, None)):
            out.add((back(node), p, back(o)))
            if isinstance(o, BNode):
                todo.append(o)
    return out


