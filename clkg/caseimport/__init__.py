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

from pathlib import Path

from clkg import validation
from clkg.caseimport.builders import read_case
from clkg.caseimport.reading import Problem, Result, Scheme
from clkg.caseimport.spreadsheet import COLUMNS
from clkg.caseimport.writing import to_turtle

__all__ = ["import_case", "read_case", "to_turtle", "problems_from_report", "Problem", "Result", "Scheme"]


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
