"""The page of a study (`/study/<id>.html`): its bibliographic record, its authors in order, and every
claim the report makes with it."""
from __future__ import annotations

from flask import render_template

from clkg import vocab
from clkg.web.links import rebase
from clkg.web.pagequeries import iri, select
from clkg.web.rdfviews import incoming


def render(context: dict) -> str:
    resource, labels, description = context["resource"], context["L"], context["d"]
    authors = []
    for node in description.values(vocab.BIBO + "authorList"):
        authors = description.items(node) or []
    if not authors:
        authors = description.values(vocab.DCTERMS + "creator")
    claims = select("study-claims", resource=iri(resource))
    for row in claims:
        if row.get("concept"):
            labels.add_pair(row["concept"], row.get("labelEn"), row.get("labelNl"), row.get("code"))
    kinds = [t for t in description.types() if t != rebase(vocab.CLO + "Study")]
    context.update(authors=authors, claims=claims, kinds=kinds, incoming=incoming(resource, labels),
                   title=description.text(vocab.CLO + "inTextCitation") or labels(resource))
    return render_template("study.html", **context)
