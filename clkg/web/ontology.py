"""The ontology (`/ontology`): its documentation for people (pyLODE, generated from the sources under
the deployment's base IRI), its vocabulary for machines, and the pages of its terms."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from flask import render_template

from clkg import store
from clkg.web import i18n, security
from clkg.web.context import base, settings
from clkg.web.negotiation import alternates, html_response
from clkg.web.pagequeries import as_int, iri, literal, select, construct
from clkg.web.rdfviews import describe, incoming, rdf_response

PATH = "/ontology"


def document(ext: str):
    """A document of the ontology itself: its vocabulary as RDF, or its documentation."""
    resource = base() + "ontology"
    if ext != "html":
        triples = construct("vocabulary", graph=iri(settings().graph_iri("ontology")),
                            concepts=literal(base() + "concept/"))
        return rdf_response(triples, ext, PATH, resource)
    page = _documentation()
    if page is not None:
        banner = render_template("ontology-banner.html", alternates=alternates(PATH))
        marker = re.search(r"<body[^>]*>", page)
        page = page[:marker.end()] + banner + page[marker.end():] if marker else banner + page
        security.allow_inline_styles(page)  # pyLODE's own <style>, by hash; nothing else inline
        return html_response(page, PATH, resource)
    description = describe(resource, i18n.language())
    terms = select("vocabulary-terms")
    for row in terms:
        description.labels.add_pair(row["term"], row.get("labelEn"), row.get("labelNl"))
    body = render_template("ontology.html", d=description, L=description.labels, resource=resource, terms=terms,
                           alternates=alternates(PATH), title=description.labels(resource))
    return html_response(body, PATH, resource)


def render(context: dict) -> str:
    """The page of one term of the ontology (a class or a property), with how many instances it has."""
    found = select("instances", resource=iri(context["resource"]))
    context.update(instances=as_int(found[0].get("instances")) if found else 0,
                   incoming=incoming(context["resource"], context["L"]))
    return render_template("resource.html", **context)


def _documentation() -> str | None:
    """The generated documentation (clkg.ontology_docs, pyLODE) of the ontology sources, cached by
    their content and the base IRI; None when it cannot be made (then a simple page of the terms)."""
    paths = store.source_files(settings()).get("ontology", [])
    if not paths:
        return None
    key = tuple((str(p), p.stat().st_mtime_ns) for p in paths if Path(p).is_file())
    return _documentation_for(key, base())


@lru_cache(maxsize=2)
def _documentation_for(key: tuple, base_iri: str) -> str | None:
    try:
        from clkg import ontology_docs  # rdflib and pyLODE: loaded when the page is first asked
        return ontology_docs.ontology_html([Path(path) for path, _ in key], base_iri)
    except Exception:  # no owl:Ontology in the sources, pyLODE missing or failed: the simple page instead
        return None
