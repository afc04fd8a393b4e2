"""The page of a claim (`/claim/<id>.html`): which study the report cites about which concept, with
which polarity, where, and in its own words (the quotes)."""
from __future__ import annotations

from flask import render_template

from clkg import vocab
from clkg.web.links import local_name
from clkg.web.rdfviews import incoming


def render(context: dict) -> str:
    resource, description = context["resource"], context["d"]
    study = description.first(vocab.CITO + "cites")
    about, polarity = (description.first(vocab.CLO + name) for name in ("about", "polarity"))
    claim = {"study": study.value if study is not None else None,
             "about": about.value if about is not None else None,
             "polarity": local_name(polarity.value) if polarity is not None else None,
             "section": description.text(vocab.CLO + "section"), "quotes": description.texts(vocab.CLO + "quote")}
    parts = [description.labels(x) for x in (claim["study"], claim["about"]) if x]
    context.update(claim=claim, title=" → ".join(parts) or local_name(resource),
                   incoming=incoming(resource, description.labels))
    return render_template("resource-claim.html", **context)
