"""Import a school case from spreadsheets (CSV): the focus group's network map and partnership list.

A case is a folder of CSV files (UTF-8, comma or semicolon separated, a header row; templates/case/
documents every column and holds a filled-in example):

| file               | one row per                | columns (* required)                                     |
|--------------------|----------------------------|----------------------------------------------------------|
| case.csv           | the case (exactly one row) | case*, school*, level*, region, pupils, label, comment, illustrative |
| informants.csv     | informant of the focus group | id*, role*                                             |
| actors.csv         | actor on the network map   | id*, side*, kind*, label, position, role                 |
| ties.csv           | tie on the network map     | source*, target*, strength, kind                         |
| partnerships.csv   | partnership                | id*, partners*, label, initiator, manifestation, where, start, duration, contacts, follow_up, how, entry, goal, question, what, phase, comment |
| observations.csv   | motive, condition or outcome observed | concept*, partnership, polarity, presence, effect, informant, quote, lang |

ties.csv and observations.csv may be left out. A cell with several values separates them with `|`
(or `;` / `,` when that is not the file's separator). The import turns the rows into one entry (RDF,
canonical IRIs under clx:, `docs/modelling.md`), then validates it the way every entry is validated
(clkg.validation: the SHACL shapes with context from the store). Every problem is reported against the
row and column it comes from: `actors.csv line 4, column kind: ...`. The network measures are not part
of the entry: they are computed when the case is stored (clkg/networks.py).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from clkg import config, validation

CLO = config.CANONICAL_BASE + "ontology/"
CLC = config.CANONICAL_BASE + "concept/"
CLX = config.CANONICAL_BASE + "case/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SUBCLASS = RDFS + "subClassOf"
NOTATION = "http://www.w3.org/2004/02/skos/core#notation"

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
YEAR = re.compile(r"^[0-9]{4}$")

# Columns per file: (name, required). Order is the documented order.
COLUMNS = {
    "case.csv": [("case", True), ("school", True), ("level", True), ("region", False), ("pupils", False),
                 ("label", False), ("comment", False), ("illustrative", False)],
    "informants.csv": [("id", True), ("role", True)],
    "actors.csv": [("id", True), ("side", True), ("kind", True), ("label", False), ("position", False),
                   ("role", False)],
    "ties.csv": [("source", True), ("target", True), ("strength", False), ("kind", False)],
    "partnerships.csv": [("id", True), ("partners", True), ("label", False), ("initiator", False),
                         ("manifestation", False), ("where", False), ("start", False), ("duration", False),
                         ("contacts", False), ("follow_up", False), ("how", False), ("entry", False),
                         ("goal", False), ("question", False), ("what", False), ("phase", False),
                         ("comment", False)],
    "observations.csv": [("concept", True), ("partnership", False), ("polarity", False), ("presence", False),
                         ("effect", False), ("informant", False), ("quote", False), ("lang", False)],
}
OPTIONAL_FILES = ("ties.csv", "observations.csv")


def _words(prefix: str, names: str, base: str = CLC) -> dict:
    return {name: f"{base}{prefix}{name}" for name in names.split()}


# Closed lists: the word a spreadsheet uses -> the IRI (words are compared lower-case, with spaces and
# underscores read as hyphens; the full local name, e.g. "entry-voluntary", is accepted too).
VOCABULARY = {
    "level": {"primary": CLO + "primary", "secondary": CLO + "secondary",
              "basis": CLO + "primary", "basisonderwijs": CLO + "primary",
              "secundair": CLO + "secondary", "secundair-onderwijs": CLO + "secondary"},
    "informant-role": {"principal": CLO + "principal", "policy-supporter": CLO + "policySupporter",
                       "school-developer": CLO + "policySupporter", "care-coordinator": CLO + "careCoordinator",
                       "teacher": CLO + "teacher", "free-invitee": CLO + "freeInvitee"},
    "side": {"internal": "internal", "external": "external"},
    "position": _words("position-", "core context anchoring framing"),
    "role": _words("role-", "initiator actor supporter"),
    "tie-kind": {"formal": CLO + "formalTie", "informal": CLO + "informalTie"},
    "where": _words("where-", "face-to-face online"),
    "how": _words("how-", "spontaneous stimulated imposed incentives")
           | _words("structure-", "market coalition federative unitary"),
    "entry": _words("entry-", "regional-local international voluntary imposed passive active individual "
                              "collective equality"),
    "goal": _words("goal-", "classroom-management content pedagogy tools-technology student-guidance"),
    "question": _words("", "learning-question help-question learning-goal"),
    "what": _words("", "domain-consensus design-task"),
    "phase": _words("phase-", "search design realisation transition")
             | _words("stage-", "beginning developing embedding leading"),
    "follow-up": {"permanent": "true", "occasional": "false", "none": "false", "true": "true", "false": "false",
                  "yes": "true", "no": "false"},
    "polarity": {"supports": CLO + "supports", "nuances": CLO + "nuances", "contradicts": CLO + "contradicts"},
    "presence": {"present": CLO + "present", "missing": CLO + "missing"},
    "effect": {"enabler": CLO + "enabler", "barrier": CLO + "barrier"},
    "boolean": {"true": "true", "false": "false", "yes": "true", "no": "false", "": "false"},
}
for _name, _prefix in (("position", "position-"), ("role", "role-"), ("where", "where-"), ("entry", "entry-"),
                       ("goal", "goal-")):
    VOCABULARY[_name] |= {_prefix + word: iri for word, iri in list(VOCABULARY[_name].items())}
VOCABULARY["how"] |= {iri[len(CLC):]: iri for iri in list(VOCABULARY["how"].values())}
VOCABULARY["phase"] |= {iri[len(CLC):]: iri for iri in list(VOCABULARY["phase"].values())}
VOCABULARY["informant-role"] |= {"policysupporter": CLO + "policySupporter", "carecoordinator": CLO + "careCoordinator",
                                 "freeinvitee": CLO + "freeInvitee"}

MESSAGES = {
    "en": {
        "missing-file": "the file is missing (every case needs it; see templates/case/README.md)",
        "empty-file": "the file has no header row",
        "unknown-column": "unknown column '{name}' (this file has: {columns})",
        "missing-column": "the column '{name}' is missing",
        "duplicate-column": "the column '{name}' appears twice",
        "one-case": "case.csv holds exactly one case (one row under the header), not {count}",
        "required": "a value is required",
        "id-form": "'{value}' is not a usable id: letters, digits, '.', '_' and '-' only, starting with a letter or digit",
        "duplicate-id": "the id '{value}' is used twice in this file (first on line {line})",
        "not-in-list": "'{value}' is not one of: {allowed}",
        "not-integer": "'{value}' is not a whole number of at least 0",
        "not-number": "'{value}' is not a number of at least 0",
        "not-year": "'{value}' is not a year (four digits, e.g. 2017)",
        "unknown-actor": "no actor has the id '{value}' in actors.csv",
        "unknown-informant": "no informant has the id '{value}' in informants.csv",
        "unknown-partnership": "no partnership has the id '{value}' in partnerships.csv",
        "unknown-kind": "'{value}' is not an actor kind of the scheme (e.g. actor-academic, actor-clb-staff, actor-own-teacher)",
        "side-mismatch": "the actor kind '{value}' is {actual}, but side says {side}",
        "unknown-concept": "no concept has the code '{value}' (a motive M1-M15, a condition C5.2-C5.3.3c or an outcome such as O-TEA-INS, L-TEA, V-INS)",
        "unknown-manifestation": "'{value}' is not a manifestation code (F1.2.1 ... F1.2.6)",
        "condition-only": "only an observation of a condition (C5.2 ... C5.3.3c) says whether it is present or missing and works as an enabler or a barrier",
        "same-actor": "a tie connects two different actors",
        "extra-cells": "the row has {count} cells but the header only {columns} columns (a separator inside a value? quote it)",
        "internal": "internal (the school's own team)", "external": "external",
    },
    "nl": {
        "missing-file": "het bestand ontbreekt (elke case heeft het nodig; zie templates/case/README.md)",
        "empty-file": "het bestand heeft geen kopregel",
        "unknown-column": "onbekende kolom '{name}' (dit bestand heeft: {columns})",
        "missing-column": "de kolom '{name}' ontbreekt",
        "duplicate-column": "de kolom '{name}' komt twee keer voor",
        "one-case": "case.csv bevat precies één case (één regel onder de kopregel), niet {count}",
        "required": "een waarde is verplicht",
        "id-form": "'{value}' is geen bruikbare id: alleen letters, cijfers, '.', '_' en '-', beginnend met een letter of cijfer",
        "duplicate-id": "de id '{value}' komt twee keer voor in dit bestand (eerst op regel {line})",
        "not-in-list": "'{value}' is niet een van: {allowed}",
        "not-integer": "'{value}' is geen geheel getal van minstens 0",
        "not-number": "'{value}' is geen getal van minstens 0",
        "not-year": "'{value}' is geen jaartal (vier cijfers, bv. 2017)",
        "unknown-actor": "geen actor heeft de id '{value}' in actors.csv",
        "unknown-informant": "geen informant heeft de id '{value}' in informants.csv",
        "unknown-partnership": "geen samenwerkingsverband heeft de id '{value}' in partnerships.csv",
        "unknown-kind": "'{value}' is geen actorsoort uit het schema (bv. actor-academic, actor-clb-staff, actor-own-teacher)",
        "side-mismatch": "de actorsoort '{value}' is {actual}, maar side zegt {side}",
        "unknown-concept": "geen begrip heeft de code '{value}' (een beweegreden M1-M15, een randvoorwaarde C5.2-C5.3.3c of een uitkomst zoals O-TEA-INS, L-TEA, V-INS)",
        "unknown-manifestation": "'{value}' is geen code van een verschijningsvorm (F1.2.1 ... F1.2.6)",
        "condition-only": "alleen een observatie van een randvoorwaarde (C5.2 ... C5.3.3c) zegt of ze aanwezig is of ontbreekt en als hefboom of belemmering werkt",
        "same-actor": "een verbinding verbindt twee verschillende actoren",
        "extra-cells": "de regel heeft {count} cellen maar de kopregel maar {columns} kolommen (een scheidingsteken in een waarde? zet ze tussen aanhalingstekens)",
        "internal": "intern (het eigen schoolteam)", "external": "extern",
    },
}
WORDS = {"en": ("line", "column"), "nl": ("regel", "kolom")}


@dataclass
class Problem:
    """One problem, tied to a file, a line (the row's first line; 1 is the header) and a column."""

    file: str
    line: int | None
    column: str | None
    message: dict  # language -> text
    severity: str = "error"  # error | warning

    def text(self, lang: str = "en") -> str:
        line, column = WORDS.get(lang, WORDS["en"])
        where = self.file
        if self.line is not None:
            where += f" {line} {self.line}"
        if self.column:
            where += (", " if self.line is not None else " ") + f"{column} {self.column}"
        message = self.message.get(lang) or self.message.get("en") or next(iter(self.message.values()), "")
        prefix = "" if self.severity == "error" else ("warning: " if lang != "nl" else "waarschuwing: ")
        return f"{where}: {prefix}{message}"


@dataclass
class Row:
    file: str
    line: int
    values: dict


@dataclass
class Result:
    """The outcome of an import: the entry (triples) when nothing is wrong, the problems otherwise."""

    triples: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    origins: dict = field(default_factory=dict)  # node IRI -> (file, line)
    columns: dict = field(default_factory=dict)  # (subject, predicate, object) -> column
    report: validation.Report | None = None

    @property
    def errors(self) -> list:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return bool(self.triples) and not self.errors

    def turtle(self, source: str = "") -> bytes:
        return to_turtle(self.triples, source)


# --- the concept scheme ------------------------------------------------------------------------------
class Scheme:
    """Concept codes, local names and classes, read from the ontology's Turtle files."""

    def __init__(self, paths):
        self.codes, self.classes, self.parents = {}, {}, {}
        for path in paths:
            for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                s, p, o = quad.subject, quad.predicate.value, quad.object
                if not isinstance(s, ox.NamedNode):
                    continue
                if p == NOTATION and isinstance(o, ox.Literal):
                    self.codes[o.value] = s.value
                elif p == RDF_TYPE and isinstance(o, ox.NamedNode):
                    self.classes.setdefault(s.value, set()).add(o.value)
                elif p == SUBCLASS and isinstance(o, ox.NamedNode):
                    self.parents.setdefault(s.value, set()).add(o.value)

    @classmethod
    def from_settings(cls, settings) -> "Scheme":
        folders = settings.source_dirs.get("ontology", [])
        return cls([p for folder in folders if Path(folder).is_dir() for p in sorted(Path(folder).rglob("*.ttl"))])

    def concept(self, value: str) -> str | None:
        """The IRI of a concept given by code (M3), local name (actor-academic) or IRI."""
        value = value.strip()
        if value in self.codes:
            return self.codes[value]
        for iri in (value, CLC + value):
            if iri in self.classes:
                return iri
        return None

    def is_a(self, iri: str, class_name: str) -> bool:
        target, seen = CLO + class_name, set()
        todo = list(self.classes.get(iri, ()))
        while todo:
            cls = todo.pop()
            if cls == target:
                return True
            if cls not in seen:
                seen.add(cls)
                todo.extend(self.parents.get(cls, ()))
        return False


# --- reading the files -------------------------------------------------------------------------------
def _message(key: str, **values) -> dict:
    return {lang: table[key].format(**values) for lang, table in MESSAGES.items()}


class Reader:
    def __init__(self, folder: Path, scheme: Scheme):
        self.folder, self.scheme = Path(folder), scheme
        self.problems: list[Problem] = []

    def problem(self, file, line, column, key, severity="error", **values):
        self.problems.append(Problem(file, line, column, _message(key, **values), severity))

    def rows(self, name: str) -> list[Row] | None:
        path = self.folder / name
        if not path.is_file():
            if name not in OPTIONAL_FILES:
                self.problem(name, None, None, "missing-file")
            return None if name not in OPTIONAL_FILES else []
        text = path.read_text(encoding="utf-8-sig")
        first = text.splitlines()[0] if text.strip() else ""
        if not first.strip():
            self.problem(name, 1, None, "empty-file")
            return None
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in next(reader)]
        known = [c for c, _ in COLUMNS[name]]
        bad = False
        for i, column in enumerate(header):
            if column and column not in known:
                self.problem(name, 1, column, "unknown-column", name=column, columns=", ".join(known))
                bad = True
            elif column and header.index(column) != i:
                self.problem(name, 1, column, "duplicate-column", name=column)
                bad = True
        for column, required in COLUMNS[name]:
            if required and column not in header:
                self.problem(name, 1, column, "missing-column", name=column)
                bad = True
        if bad:
            return None
        rows, line = [], reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                self.problem(name, start, None, "extra-cells", count=len(cells), columns=len(header))
            values = {column: (cells[i].strip() if i < len(cells) else "") for i, column in enumerate(header) if column}
            rows.append(Row(name, start, values))
        return rows

    # values of one cell
    def required(self, row: Row, column: str) -> str | None:
        value = row.values.get(column, "")
        if not value:
            self.problem(row.file, row.line, column, "required")
            return None
        return value

    def ident(self, row: Row, column: str) -> str | None:
        value = self.required(row, column)
        if value is not None and not ID.match(value):
            self.problem(row.file, row.line, column, "id-form", value=value)
            return None
        return value

    def word(self, row: Row, column: str, vocabulary: str, value: str | None = None) -> str | None:
        value = row.values.get(column, "") if value is None else value
        if not value:
            return None
        key = re.sub(r"[\s_]+", "-", value.strip().lower())
        found = VOCABULARY[vocabulary].get(key)
        if found is None:
            self.problem(row.file, row.line, column, "not-in-list", value=value,
                         allowed=", ".join(_documented(vocabulary)))
        return found

    def words(self, row: Row, column: str, vocabulary: str) -> list[str]:
        return [w for w in (self.word(row, column, vocabulary, v) for v in split(row.values.get(column, ""))) if w]

    def integer(self, row: Row, column: str) -> str | None:
        value = row.values.get(column, "")
        if not value:
            return None
        if not re.fullmatch(r"[0-9]+", value):
            self.problem(row.file, row.line, column, "not-integer", value=value)
            return None
        return str(int(value))

    def number(self, row: Row, column: str) -> str | None:
        value = row.values.get(column, "").replace(",", ".") if row.values.get(column) else ""
        if not value:
            return None
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
            self.problem(row.file, row.line, column, "not-number", value=row.values.get(column, ""))
            return None
        return value if "." in value else value + ".0"


def _documented(vocabulary: str) -> list[str]:
    """The words the documentation lists for a closed list (the short forms)."""
    documented = {
        "level": "primary secondary", "informant-role": "principal policy-supporter care-coordinator teacher free-invitee",
        "side": "internal external", "position": "core context anchoring framing", "role": "initiator actor supporter",
        "tie-kind": "formal informal", "where": "face-to-face online",
        "how": "spontaneous stimulated imposed incentives market coalition federative unitary",
        "entry": "regional-local international voluntary imposed passive active individual collective equality",
        "goal": "classroom-management content pedagogy tools-technology student-guidance",
        "question": "learning-question help-question learning-goal", "what": "domain-consensus design-task",
        "phase": "search design realisation transition beginning developing embedding leading",
        "follow-up": "permanent occasional none", "polarity": "supports nuances contradicts",
        "presence": "present missing", "effect": "enabler barrier", "boolean": "true false",
    }
    return documented.get(vocabulary, "").split()


def split(cell: str) -> list[str]:
    return [v.strip() for v in re.split(r"[|;,]", cell or "") if v.strip()]


# --- building the entry ------------------------------------------------------------------------------
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


def read_case(folder: Path, scheme: Scheme) -> Result:
    """The entry described by a folder of CSV files, or the problems that stop it (nothing validated yet)."""
    r = Reader(folder, scheme)
    tables = {name: r.rows(name) for name in COLUMNS}
    if any(rows is None for rows in tables.values()):
        return Result(problems=r.problems)
    b = Builder()

    # case.csv
    cases = tables["case.csv"]
    if len(cases) != 1:
        r.problem("case.csv", cases[1].line if len(cases) > 1 else 2, None, "one-case", count=len(cases))
        return Result(problems=r.problems)
    row = cases[0]
    case_id = r.ident(row, "case") or "case"
    prefix = CLX + case_id
    case = b.node(prefix, row, "Case")
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

    def unique(rows, column):
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

    # informants.csv
    informants = unique(tables["informants.csv"], "id")
    for ident, row in informants.items():
        node = b.node(f"{prefix}-informant-{ident}", row, "Informant")
        b.add(case, CLO + "informant", node)
        b.add(node, DCTERMS + "identifier", ox.Literal(ident))
        if r.required(row, "role"):
            b.add(node, CLO + "role", b.iri(r.word(row, "role", "informant-role")))

    # actors.csv and ties.csv: the network map
    actors = unique(tables["actors.csv"], "id")
    network = None
    if actors:
        network = ox.NamedNode(prefix + "-map")
        b.origins.setdefault(network.value, ("actors.csv", None))
        b.add(network, RDF_TYPE, ox.NamedNode(CLO + "NetworkMap"))
        b.add(case, CLO + "networkMap", network)
    actor_iri = {ident: f"{prefix}-actor-{ident}" for ident in actors}
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

    def actor_ref(row, column, value):
        if value not in actor_iri:
            r.problem(row.file, row.line, column, "unknown-actor", value=value)
            return None
        return ox.NamedNode(actor_iri[value])

    for number, row in enumerate(tables["ties.csv"], start=1):
        tie = b.node(f"{prefix}-tie-{number}", row, "Tie")
        b.add(network, CLO + "tie", tie)
        ends = []
        for column, prop in (("source", "tieSource"), ("target", "tieTarget")):
            value = r.required(row, column)
            end = actor_ref(row, column, value) if value else None
            b.add(tie, CLO + prop, end)
            ends.append(end)
        if ends[0] is not None and ends[0] == ends[1]:
            r.problem(row.file, row.line, "target", "same-actor")
        b.add(tie, CLO + "tieStrength", b.typed(r.number(row, "strength"), "decimal"))
        b.add(tie, CLO + "tieKind", b.iri(r.word(row, "kind", "tie-kind")))

    # partnerships.csv
    partnerships = unique(tables["partnerships.csv"], "id")
    partnership_iri = {ident: f"{prefix}-partnership-{ident}" for ident in partnerships}
    for ident, row in partnerships.items():
        node = b.node(partnership_iri[ident], row, "Partnership")
        b.add(case, CLO + "partnership", node)
        if row.values.get("label"):
            b.add(node, RDFS + "label", ox.Literal(row.values["label"], language="en"))
        if r.required(row, "partners"):
            for value in split(row.values["partners"]):
                b.add(node, CLO + "partner", actor_ref(row, "partners", value), "partners")
        if row.values.get("initiator"):
            b.add(node, CLO + "initiator", actor_ref(row, "initiator", row.values["initiator"]))
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

    # observations.csv
    for number, row in enumerate(tables["observations.csv"], start=1):
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

    return Result(triples=list(dict.fromkeys(b.triples)), problems=r.problems, origins=b.origins,
                  columns=b.columns)


# --- validation, mapped back to the rows -------------------------------------------------------------
# Which column a property comes from, per file.
PROPERTY_COLUMNS = {
    "case.csv": {"clo:school": "school", "rdfs:label": "label", "rdfs:comment": "comment",
                 "clo:illustrative": "illustrative", "dcterms:identifier": "school", "clo:level": "level",
                 "clo:region": "region", "clo:pupilCount": "pupils"},
    "informants.csv": {"clo:role": "role", "dcterms:identifier": "id"},
    "actors.csv": {"clo:actorKind": "kind", "clo:position": "position", "clo:partnershipRole": "role",
                   "rdfs:label": "label", "^clo:actor": "id"},
    "ties.csv": {"clo:tieSource": "source", "clo:tieTarget": "target", "clo:tieStrength": "strength",
                 "clo:tieKind": "kind"},
    "partnerships.csv": {"clo:partner": "partners", "clo:partner/clo:actorKind": "partners",
                         "clo:initiator": "initiator", "clo:manifestation": "manifestation", "clo:where": "where",
                         "clo:startYear": "start", "clo:durationMonths": "duration", "clo:contactsPerYear": "contacts",
                         "clo:permanentFollowUp": "follow_up", "clo:how": "how", "clo:entryOption": "entry",
                         "clo:what": "goal", "clo:phase": "phase", "rdfs:label": "label", "rdfs:comment": "comment"},
    "observations.csv": {"clo:observes": "concept", "clo:polarity": "polarity", "clo:presence": "presence",
                         "clo:effect": "effect", "clo:reportedBy": "informant", "clo:partnership": "partnership",
                         "clo:quote": "quote"},
}
# A result on the case about one of its lists points at the file of that list.
CASE_LISTS = {"clo:informant": "informants.csv", "clo:partnership": "partnerships.csv",
              "clo:networkMap": "actors.csv", "clo:observation": "observations.csv"}


def problems_from_report(report: validation.Report, origins: dict, columns: dict | None = None) -> list[Problem]:
    """The validation results as problems of the rows (and columns) the offending triples came from."""
    columns = columns or {}
    found = []
    for result in report.results:
        severity = "error" if result.severity == "violation" else "warning"
        file, line = origins.get(result.focus_node, ("case", None))
        field, column = result.field_name, None
        if file == "case.csv" and field in CASE_LISTS:  # about one of the case's lists: that file
            file, line = CASE_LISTS[field], None
        elif line is None and result.value in origins:  # about the map: the offending actor or tie
            file, line = origins[result.value]
        elif field:
            # the column the value came from, else the column of the property, else the property itself
            column = (columns.get((result.focus_node, result.path, result.value))
                      or PROPERTY_COLUMNS.get(file, {}).get(field) or field)
        found.append(Problem(file, line, column, dict(result.messages), severity))
    return found


def import_case(folder: Path, settings, context, scheme: Scheme | None = None) -> Result:
    """Read, build and validate a case from a folder of CSV files. `context` is a validation context
    (a validation.StoreContext), or None to validate against the shapes alone."""
    scheme = scheme or Scheme.from_settings(settings)
    result = read_case(folder, scheme)
    if result.errors or not result.triples:
        return result
    report = validation.validate_entry(result.triples, context, settings, origin=str(folder))
    result.report = report
    result.problems.extend(problems_from_report(report, result.origins, result.columns))
    order = {name: i for i, name in enumerate(COLUMNS)}
    result.problems.sort(key=lambda p: (p.severity != "error", order.get(p.file, len(order)), p.line or 0,
                                        p.column or "", p.text()))
    return result


ORDER = ("Case", "School", "Informant", "Partnership", "NetworkMap", "Actor", "Tie", "Observation")


def to_turtle(triples: list, source: str = "") -> bytes:
    """The entry as Turtle, one block per node, the case first, then its parts by kind."""
    kinds = {t.subject.value: t.object.value[len(CLO):] for t in triples
             if t.predicate.value == RDF_TYPE and t.object.value.startswith(CLO)}
    rank = {kind: i for i, kind in enumerate(ORDER)}
    subjects = sorted({t.subject.value for t in triples},
                      key=lambda s: (rank.get(kinds.get(s, ""), len(ORDER)), _natural(s)))
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, []).append(t)
    ordered = [t for s in subjects for t in by_subject[s]]
    prefixes = {name: validation.PREFIXES[name] for name in ("clo", "clc", "clx", "dcterms", "rdfs", "xsd")}
    body = ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    body = re.sub(rb" \.\n(?=[^\t@])", b" .\n\n", body)  # a blank line between nodes
    head = ["# A school case imported by `clkg import-case`" + (f" from {source}" if source else "") + ".",
            "# Network measures are not entered: they are computed when the case is stored (clkg/networks.py)."]
    if any(t.predicate.value == CLO + "illustrative" and t.object.value == "true" for t in triples):
        head.append("# ILLUSTRATIVE: an invented example, not data from the follow-up research; in kg/cases/illustrative/ "
                    "it is kept in the named graph `illustrative` and never counted as evidence.")
    return ("\n".join(head) + "\n").encode("utf-8") + body


def _natural(text: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]
