"""Linked data: every IRI the project mints dereferences, for people (HTML) and machines (RDF).

The rule (slash IRIs, 303 See Other, as in the W3C note "Cool URIs for the Semantic Web"):

- the resource IRI of a request is `settings.base_iri` + the request path without its leading slash,
  so `GET /study/feys-devos-2015` asks for `<{base}study/feys-devos-2015>`, whatever the host;
- a resource IRI answers `303 See Other` to one of its documents, chosen by the Accept header
  (`clkg.web.negotiation`);
- a document (the IRI plus `.html`, `.ttl`, `.jsonld`, `.nt` or `.rdf`) answers `200` in the format
  of its extension: RDF from `clkg.web.rdfviews`, HTML from the view of the resource's kind;
- an IRI that is neither described nor referred to in the store is a `404` (`clkg.web.errors`).

Kinds, each with its own view: ontology (the ontology IRI and its terms: `ontology`), concept, study,
claim, case (`cases`), graph (named graphs: their VoID description) and dataset (the VoID/DCAT
description); person and venue have the generic page of this module.
"""
from __future__ import annotations

import re
from typing import Callable

import pyoxigraph as ox
from flask import Blueprint, redirect, render_template, request

from clkg.web import cases, claim, concept, dataset, graph, i18n, ontology, study
from clkg.web.errors import not_found
from clkg.web.graphstats import graph_exists
from clkg.web.links import VALID_IRI, curie, iri_for_path, iri_link, local_name, prefixes
from clkg.web.negotiation import alternates, html_response, see_other
from clkg.web.pagequeries import Value
from clkg.web.rdfviews import describe, existence, incoming, rdf_response, triples_of

blueprint = Blueprint("linked_data", __name__)

KINDS = ("ontology", "concept", "study", "claim", "person", "venue", "case", "graph")
DOCUMENT = re.compile(r"(?P<resource>/.+?)\.(?P<ext>html|ttl|jsonld|nt|rdf)")
# the page of each kind from the resource's description (`context`); other kinds get `plain_page`
PAGES: dict[str, Callable[[dict], str]] = {"concept": concept.render, "study": study.render, "claim": claim.render,
                                           "case": cases.render, "ontology": ontology.render}
# where the namespace of a kind (e.g. {base}study/) leads: the listing of its resources
LISTINGS = {"concept": "/concepts", "study": "/studies", "claim": "/claims", "case": "/cases", "graph": "/graphs",
            "person": "/search", "venue": "/studies"}


@blueprint.route("/ontology")
@blueprint.route("/ontology/")
@blueprint.route("/dataset")
@blueprint.route("/<any(ontology,concept,study,claim,person,venue,case,graph):kind>/<path:rest>")
@blueprint.route("/<any(ontology,dataset):kind>.<any(html,ttl,jsonld,nt,rdf):ext>")
def resource_or_document(kind: str | None = None, rest: str = "", ext: str | None = None):
    path = request.path
    if path == "/ontology/":
        return redirect(request.script_root + "/ontology", code=301)
    match = DOCUMENT.fullmatch(path)
    resource_path, ext = (match["resource"], match["ext"]) if match else (path, None)
    kind = resource_path.strip("/").split("/", 1)[0]
    resource = iri_for_path(resource_path)
    if not VALID_IRI.fullmatch(resource):
        return not_found()
    if kind == "dataset":
        if resource_path != dataset.PATH:
            return not_found()
        return dataset.document(ext) if ext else see_other(resource_path)
    if kind == "graph":
        name = resource_path[len("/graph/"):]
        if not graph_exists(name):
            return not_found()
        return graph.document(name, ext) if ext else see_other(resource_path)
    if resource_path == ontology.PATH:
        return ontology.document(ext) if ext else see_other(resource_path)
    described, referenced = existence(resource)
    if not (described or referenced):
        return not_found()
    if ext is None:
        return see_other(resource_path)
    if ext != "html":
        return rdf_response(triples_of(resource), ext, resource_path, resource)
    return html_response(render_resource(kind, resource, resource_path), resource_path, resource)


@blueprint.get("/<any(concept,study,claim,person,venue,case,graph):kind>/")
def namespace(kind: str):
    """A namespace itself (e.g. {base}study/) leads to the listing of its resources."""
    return redirect(request.script_root + LISTINGS[kind], code=303)


def render_resource(kind: str, resource: str, resource_path: str) -> str:
    """The page of a resource: its description, given to the view of its kind."""
    description = describe(resource, i18n.language())
    context = {"d": description, "L": description.labels, "resource": resource, "kind": kind,
               "alternates": alternates(resource_path), "title": description.labels(resource)}
    return PAGES.get(kind, plain_page)(context)


def plain_page(context: dict) -> str:
    """The page of a resource of no particular kind: its description and what points at it."""
    context["incoming"] = incoming(context["resource"], context["L"])
    return render_template("resource.html", **context)


def _literal_value(term):
    return Value.of_literal(term) if isinstance(term, ox.Literal) else term


@blueprint.app_context_processor
def template_helpers():
    """What every template may call: one way to link an IRI, to shorten it, to tell terms apart."""
    return {"iri_link": iri_link, "curie": curie, "local_name": local_name, "is_iri": lambda t: isinstance(t, ox.NamedNode),
            "is_blank": lambda t: isinstance(t, ox.BlankNode), "is_literal": lambda t: isinstance(t, ox.Literal),
            "literal_value": _literal_value, "resource_kinds": KINDS, "ns": prefixes()}
