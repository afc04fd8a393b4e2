"""From rows to the entry: one builder per CSV file, each adding its nodes and triples to one `Builder`."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from clkg.caseimport.reading import Problem, Reader, Result, Row, Scheme, split
from clkg.caseimport.spreadsheet import COLUMNS, MESSAGES, YEAR
from clkg.vocab import CLC, CLO, CLX, DCTERMS, RDF_TYPE, RDFS, XSD


class Builder:
    def __init__(self):
        self.triples: list[ox.Triple] = []
        self.origins: dict[str, tuple] = {}
        self.columns: dict[tuple, str] = {}  # (subject, predicate, object) -> the column it comes from

    def node(self, iri: str, row: Row, cls: str) -> ox.NamedNode:
        self.origins.setdefault(iri, (row.file, row.line))
        subject = ox.NamedNode(iri)
        self.add(subject, RDF_TYPE, ox.NamedNode(CLO + cls))
        return subject

    def add(self, subject, predicate: str, obj, column: str | None = None) -> None:
        if obj is None or subject is None:
            return
        self.triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))
        if column:
            self.columns.setdefault((subject.value, predicate, obj.value), column)

    @staticmethod
    def iri(value: str | None):
        return ox.NamedNode(value) if value else None

    @staticmethod
    def typed(value: str | None, datatype: str):
        return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if value is not None else None


class Case:
    """What the builders share while they read one case: the reader (problems), the builder (triples),
    the scheme, and the ids each file defines for the files after it."""

    def __init__(self, reader: Reader, scheme: Scheme):
        self.r, self.b, self.scheme = reader, Builder(), scheme
        self.prefix, self.node = CLX + "case", None
        self.informants: dict = {}
        self.network = None
        self.actor_iri: dict = {}
        self.partnership_iri: dict = {}

    def unique(self, rows, column) -> dict:
        """Rows by their id in `column`; a missing, malformed or repeated id is a problem of its row."""
        r = self.r
        seen, ids = {}, {}
        for row in rows:
            value = r.ident(row, column)
            if value is None:
                continue
            if value in seen:
                r.problem(row.file, row.line, column, "duplicate-id", value=value, line=seen[value])
                continue
            seen[value] = row.line
            ids[value] = row
        return ids

    def actor_ref(self, row, column, value):
        if value not in self.actor_iri:
            self.r.problem(row.file, row.line, column, "unknown-actor", value=value)
            return None
        return ox.NamedNode(self.actor_iri[value])


def build_case(c: Case, row: Row) -> None:
    """case.csv: the case and its anonymised school."""
    r, b = c.r, c.b
    case_id = r.ident(row, "case") or "case"
    c.prefix = prefix = CLX + case_id
    c.node = case = b.node(prefix, row, "Case")
    school = b.node(prefix + "-school", row, "School")
    b.add(case, CLO + "school", school)
    code = r.required(row, "school")
    b.add(school, DCTERMS + "identifier", ox.Literal(code) if code else None)
    if r.required(row, "level"):
        b.add(school, CLO + "level", b.iri(r.word(row, "level", "level")))
    if row.values.get("region"):
        b.add(school, CLO + "region", ox.Literal(row.values["region"]))
    b.add(school, CLO + "pupilCount", b.typed(r.integer(row, "pupils"), "nonNegativeInteger"))
    if row.values.get("label"):
        b.add(case, RDFS + "label", ox.Literal(row.values["label"], language="en"))
    if row.values.get("comment"):
        b.add(case, RDFS + "comment", ox.Literal(row.values["comment"], language="en"))
    flag = r.word(row, "illustrative", "boolean") or "false"
    b.add(case, CLO + "illustrative", b.typed(flag, "boolean"))


def build_informants(c: Case, rows: list) -> None:
    """informants.csv: the focus group by role."""
    r, b, case, prefix = c.r, c.b, c.node, c.prefix
    c.informants = informants = c.unique(rows, "id")
    for ident, row in informants.items():
        node = b.node(f"{prefix}-informant-{ident}", row, "Informant")
        b.add(case, CLO + "informant", node)
        b.add(node, DCTERMS + "identifier", ox.Literal(ident))
        if r.required(row, "role"):
            b.add(node, CLO + "role", b.iri(r.word(row, "role", "informant-role")))


def build_actors(c: Case, rows: list) -> None:
    """actors.csv: the network map and its actors (kind checked against the side)."""
    r, b, case, prefix, scheme = c.r, c.b, c.node, c.prefix, c.scheme
    actors = c.unique(rows, "id")
    if actors:
        c.network = network = ox.NamedNode(prefix + "-map")
        b.origins.setdefault(network.value, ("actors.csv", None))
        b.add(network, RDF_TYPE, ox.NamedNode(CLO + "NetworkMap"))
        b.add(case, CLO + "networkMap", network)
    network = c.network
    c.actor_iri = actor_iri = {ident: f"{prefix}-actor-{ident}" for ident in actors}
    for ident, row in actors.items():
        node = b.node(actor_iri[ident], row, "Actor")
        b.add(network, CLO + "actor", node)
        if row.values.get("label"):
            b.add(node, RDFS + "label", ox.Literal(row.values["label"], language="en"))
        side = r.word(row, "side", "side") if r.required(row, "side") else None
        kind_value = r.required(row, "kind")
        if kind_value:
            kind = scheme.concept(kind_value) or scheme.concept("actor-" + kind_value)
            if kind is None or not scheme.is_a(kind, "ActorKind"):
                r.problem(row.file, row.line, "kind", "unknown-kind", value=kind_value)
            else:
                actual = "internal" if scheme.is_a(kind, "InternalActorKind") else "external"
                if side and side != actual:
                    r.problems.append(Problem(row.file, row.line, "side", {
                        lang: MESSAGES[lang]["side-mismatch"].format(value=kind_value, actual=MESSAGES[lang][actual],
                                                                     side=row.values.get("side"))
                        for lang in MESSAGES}))
                b.add(node, CLO + "actorKind", ox.NamedNode(kind))
        b.add(node, CLO + "position", b.iri(r.word(row, "position", "position")))
        b.add(node, CLO + "partnershipRole", b.iri(r.word(row, "role", "role")))


def build_ties(c: Case, rows: list) -> None:
    """ties.csv: the ties of the network map, between actors of actors.csv."""
    r, b, prefix, network = c.r, c.b, c.prefix, c.network
    for number, row in enumerate(rows, start=1):
        tie = b.node(f"{prefix}-tie-{number}", row, "Tie")
        b.add(network, CLO + "tie", tie)
        ends = []
        for column, prop in (("source", "tieSource"), ("target", "tieTarget")):
            value = r.required(row, column)
            end = c.actor_ref(row, column, value) if value else None
            b.add(tie, CLO + prop, end)
            ends.append(end)
        if ends[0] is not None and ends[0] == ends[1]:
            r.problem(row.file, row.line, "target", "same-actor")
        b.add(tie, CLO + "tieStrength", b.typed(r.number(row, "strength"), "decimal"))
        b.add(tie, CLO + "tieKind", b.iri(r.word(row, "kind", "tie-kind")))


def build_partnerships(c: Case, rows: list) -> None:
    """partnerships.csv: the partnerships with their 5W1H attributes."""
    r, b, case, prefix, scheme = c.r, c.b, c.node, c.prefix, c.scheme
    partnerships = c.unique(rows, "id")
    c.partnership_iri = partnership_iri = {ident: f"{prefix}-partnership-{ident}" for ident in partnerships}
    for ident, row in partnerships.items():
        node = b.node(partnership_iri[ident], row, "Partnership")
        b.add(case, CLO + "partnership", node)
        if row.values.get("label"):
            b.add(node, RDFS + "label", ox.Literal(row.values["label"], language="en"))
        if r.required(row, "partners"):
            for value in split(row.values["partners"]):
                b.add(node, CLO + "partner", c.actor_ref(row, "partners", value), "partners")
        if row.values.get("initiator"):
            b.add(node, CLO + "initiator", c.actor_ref(row, "initiator", row.values["initiator"]))
        if row.values.get("manifestation"):
            found = scheme.concept(row.values["manifestation"])
            if found is None or not scheme.is_a(found, "Manifestation"):
                r.problem(row.file, row.line, "manifestation", "unknown-manifestation", value=row.values["manifestation"])
            else:
                b.add(node, CLO + "manifestation", ox.NamedNode(found))
        for iri in r.words(row, "where", "where"):
            b.add(node, CLO + "where", ox.NamedNode(iri))
        start = row.values.get("start", "")
        if start:
            if YEAR.match(start):
                b.add(node, CLO + "startYear", b.typed(start, "gYear"))
            else:
                r.problem(row.file, row.line, "start", "not-year", value=start)
        duration = r.integer(row, "duration")
        contacts = r.integer(row, "contacts")
        follow_up = r.word(row, "follow_up", "follow-up")
        for value, aspect in ((duration, "when-duration"), (contacts, "when-contact-frequency"),
                              (follow_up, "when-follow-up-structure")):
            if value is not None:
                b.add(node, CLO + "when", ox.NamedNode(CLC + aspect), {"when-duration": "duration",
                      "when-contact-frequency": "contacts", "when-follow-up-structure": "follow_up"}[aspect])
        b.add(node, CLO + "durationMonths", b.typed(duration, "nonNegativeInteger"))
        b.add(node, CLO + "contactsPerYear", b.typed(contacts, "nonNegativeInteger"))
        b.add(node, CLO + "permanentFollowUp", b.typed(follow_up, "boolean"))
        for column, vocabulary, prop in (("how", "how", "how"), ("entry", "entry", "entryOption"),
                                         ("goal", "goal", "what"), ("question", "question", "what"),
                                         ("what", "what", "what"), ("phase", "phase", "phase")):
            for iri in r.words(row, column, vocabulary):
                b.add(node, CLO + prop, ox.NamedNode(iri), column)
        if row.values.get("comment"):
            b.add(node, RDFS + "comment", ox.Literal(row.values["comment"], language="en"))


def build_observations(c: Case, rows: list) -> None:
    """observations.csv: the motives, conditions and outcomes observed, with the informants' words."""
    r, b, case, prefix, scheme = c.r, c.b, c.node, c.prefix, c.scheme
    informants, partnership_iri = c.informants, c.partnership_iri
    for number, row in enumerate(rows, start=1):
        node = b.node(f"{prefix}-observation-{number}", row, "Observation")
        b.add(case, CLO + "observation", node)
        value = r.required(row, "concept")
        concept = scheme.concept(value) if value else None
        if value and concept is None:
            r.problem(row.file, row.line, "concept", "unknown-concept", value=value)
        b.add(node, CLO + "observes", b.iri(concept))
        b.add(node, CLO + "polarity", b.iri(r.word(row, "polarity", "polarity") if row.values.get("polarity")
                                            else CLO + "supports"))
        presence = r.word(row, "presence", "presence")
        effect = r.word(row, "effect", "effect")
        if (presence or effect) and concept and not scheme.is_a(concept, "Condition"):
            r.problem(row.file, row.line, "effect" if effect else "presence", "condition-only")
        b.add(node, CLO + "presence", b.iri(presence))
        b.add(node, CLO + "effect", b.iri(effect))
        if row.values.get("partnership"):
            ref = row.values["partnership"]
            if ref in partnership_iri:
                b.add(node, CLO + "partnership", ox.NamedNode(partnership_iri[ref]))
            else:
                r.problem(row.file, row.line, "partnership", "unknown-partnership", value=ref)
        if row.values.get("informant"):
            ref = row.values["informant"]
            if ref in informants:
                b.add(node, CLO + "reportedBy", ox.NamedNode(f"{prefix}-informant-{ref}"))
            else:
                r.problem(row.file, row.line, "informant", "unknown-informant", value=ref)
        if row.values.get("quote"):
            b.add(node, CLO + "quote", ox.Literal(row.values["quote"], language=row.values.get("lang") or "nl"))


BUILDERS = (("informants.csv", build_informants), ("actors.csv", build_actors), ("ties.csv", build_ties),
            ("partnerships.csv", build_partnerships), ("observations.csv", build_observations))


def read_case(folder: Path, scheme: Scheme) -> Result:
    """The entry described by a folder of CSV files, or the problems that stop it (nothing validated yet)."""
    r = Reader(folder, scheme)
    tables = {name: r.rows(name) for name in COLUMNS}
    if any(rows is None for rows in tables.values()):
        return Result(problems=r.problems)
    cases = tables["case.csv"]
    if len(cases) != 1:
        r.problem("case.csv", cases[1].line if len(cases) > 1 else 2, None, "one-case", count=len(cases))
        return Result(problems=r.problems)
    c = Case(r, scheme)
    build_case(c, cases[0])
    for name, build in BUILDERS:
        build(c, tables[name])
    return Result(triples=list(dict.fromkeys(c.b.triples)), problems=r.problems, origins=c.b.origins,
                  columns=c.b.columns)
