"""The spreadsheets' language: which files and columns a case has, the words of the closed lists, and
the messages of every problem (en/nl)."""
from __future__ import annotations

import re

from clkg.vocab import CLC, CLO

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


def documented(vocabulary: str) -> list[str]:
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
