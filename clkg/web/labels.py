"""Names for IRIs in the interface language, and the order in which people expect to read them."""
from __future__ import annotations

import re

from clkg import vocab
from clkg.web import i18n
from clkg.web.links import curie, rebase
from clkg.web.pagequeries import Value

# Which property names a resource, best first (a study is best named by its in-text citation); the
# last, the code, is also what `Labels.code` reads.
LABEL_ORDER = [vocab.CLO + "inTextCitation", vocab.SKOS + "prefLabel", vocab.RDFS + "label", vocab.FOAF + "name",
               vocab.DCTERMS + "title", vocab.SKOS + "notation"]


class Labels:
    """Display names of IRIs in the interface language, from `(iri, property, label)` rows."""

    def __init__(self, lang: str):
        self.lang = lang
        self._found: dict[str, dict] = {}

    def add(self, iri: str, prop: str, value) -> None:
        self._found.setdefault(str(iri), {}).setdefault(str(prop), []).append(value)

    def add_rows(self, rows) -> "Labels":
        for row in rows:
            self.add(row["x"], row["prop"], row["label"])
        return self

    def add_pair(self, iri: str, en=None, nl=None, code=None) -> None:
        """Labels read by a page query as separate en/nl columns."""
        for lang, text in (("en", en), ("nl", nl)):
            if text:
                value = Value(text)
                value.lang = lang
                self.add(iri, LABEL_ORDER[1], value)
        if code:
            self.add(iri, LABEL_ORDER[-1], Value(code))

    def get(self, iri) -> str | None:
        found = self._found.get(str(iri))
        if not found:
            return None
        for prop in LABEL_ORDER:
            values = found.get(rebase(prop), [])
            if values:
                return pick_language(values, self.lang)
        return None

    def code(self, iri) -> str | None:
        values = self._found.get(str(iri), {}).get(rebase(LABEL_ORDER[-1]))
        return str(values[0]) if values else None

    def __call__(self, iri) -> str:
        """The label, else the compact IRI (prefix:local), else the IRI."""
        return self.get(iri) or curie(iri)


def pick_language(values, lang: str) -> str:
    """The value in the interface language, else in the other one, else one without a language."""
    by_lang = {}
    for value in values:
        tag = (getattr(value, "lang", None) or "").lower()
        by_lang.setdefault(tag.split("-")[0], str(value))
    for tag in (lang, *[code for code in i18n.LANGUAGES if code != lang], ""):
        if tag in by_lang:
            return by_lang[tag]
    return str(values[0])


def in_language(values, tag: str) -> list[str]:
    """The values whose language is `tag` (a region subtag ignored)."""
    return [str(v) for v in values if (v.lang or "").lower().split("-")[0] == tag]


def natural_key(text: str):
    """Sort key that reads numbers as numbers: C5.2 before C5.10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", str(text))]


def sorted_by_label(iris, labels: Labels) -> list[str]:
    """Distinct IRIs by their code, else their label, in natural order."""
    return sorted(set(iris), key=lambda i: natural_key(labels.code(i) or labels(i)))
