"""Reading a case's CSV files into rows, and the concept scheme their codes are checked against;
every problem is tied to a file, line and column."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from clkg import validation
from clkg.caseimport.spreadsheet import COLUMNS, ID, MESSAGES, OPTIONAL_FILES, VOCABULARY, WORDS, documented
from clkg.caseimport.writing import to_turtle
from clkg.vocab import CLC, CLO, RDF_TYPE, RDFS

SUBCLASS = RDFS + "subClassOf"
NOTATION = "http://www.w3.org/2004/02/skos/core#notation"


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
                         allowed=", ".join(documented(vocabulary)))
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


def split(cell: str) -> list[str]:
    return [v.strip() for v in re.split(r"[|;,]", cell or "") if v.strip()]
