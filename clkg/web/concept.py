"""The page of a concept (`/concept/<code or name>.html`): its names and definitions in both
languages, where it sits in the hierarchy, and the evidence about it grouped by polarity."""
from __future__ import annotations

from flask import render_template

from clkg import vocab
from clkg.web import i18n
from clkg.web.labels import in_language, sorted_by_label
from clkg.web.pagequeries import iri, select

MAX_PATHS = 12  # broader paths shown; a concept deep in a poly-hierarchy would list too many


def render(context: dict) -> str:
    resource, labels, description = context["resource"], context["L"], context["d"]
    edges, narrower, related = [], [], []
    for row in select("concept-relations", resource=iri(resource)):
        labels.add_pair(row["other"], row.get("labelEn"), row.get("labelNl"), row.get("code"))
        if row["relation"] == "broader":
            edges.append((str(row["from"]), str(row["other"])))
        elif row["relation"] == "narrower":
            narrower.append(str(row["other"]))
        else:
            related.append(str(row["other"]))
    evidence = {polarity: [] for polarity in vocab.POLARITIES}
    for row in select("concept-evidence", resource=iri(resource)):
        labels.add_pair(row["about"], row.get("aboutEn"), row.get("aboutNl"), row.get("aboutCode"))
        evidence.setdefault(str(row.get("polarity", "")), []).append(row)
    studies = {p: len({str(r["study"]) for r in rows}) for p, rows in evidence.items()}
    names = description.texts(vocab.SKOS + "prefLabel") or description.texts(vocab.RDFS + "label")
    context.update(paths=broader_paths(resource, edges), narrower=sorted_by_label(narrower, labels),
                   related=sorted_by_label(related, labels), evidence=evidence, studies=studies,
                   total=len({str(r["study"]) for rows in evidence.values() for r in rows}),
                   definitions={tag: in_language(description.texts(vocab.SKOS + "definition"), tag)
                                for tag in i18n.LANGUAGES},
                   names={tag: in_language(names, tag) for tag in i18n.LANGUAGES},
                   code=description.text(vocab.SKOS + "notation"))
    return render_template("concept.html", **context)


def broader_paths(resource: str, edges: list[tuple[str, str]]) -> list[list[str]]:
    """Every path from a top concept down to the resource, by skos:broader (cycles cut)."""
    parents: dict[str, list[str]] = {}
    for child, parent in edges:
        parents.setdefault(child, []).append(parent)
    paths = []

    def walk(node, trail):
        ups = [p for p in parents.get(node, []) if p not in trail]
        if not ups:
            if trail:
                paths.append(list(reversed(trail)))
            return
        for parent in sorted(set(ups)):
            walk(parent, trail + [parent])

    walk(resource, [])
    return paths[:MAX_PATHS]
