"""A named graph (`/graph/<name>`): its documents describe it as a VoID subset of the dataset
(counts, class and property partitions, its dumps)."""
from __future__ import annotations

from flask import render_template

from clkg.web import i18n
from clkg.web.dataset import VOID, N, Triples, dataset_iri, graph_triples
from clkg.web.dumps import dumps_of
from clkg.web.graphstats import graph_stats
from clkg.web.labels import Labels
from clkg.web.links import iri_for_path
from clkg.web.negotiation import alternates, html_response
from clkg.web.rdfviews import rdf_response


def subset_triples(name: str) -> Triples:
    """The description of one graph (the part of the VoID about that subset)."""
    out = Triples()
    graph = graph_stats(name)
    graph_triples(out, graph)
    out.add(N(dataset_iri()), VOID + "subset", N(graph["iri"]))
    return out


def document(name: str, ext: str):
    resource_path = f"/graph/{name}"
    resource = iri_for_path(resource_path)
    if ext != "html":
        return rdf_response(subset_triples(name), ext, resource_path, resource)
    body = render_template("graph.html", graph=graph_stats(name), dumps=dumps_of(name), resource=resource,
                           L=Labels(i18n.language()), alternates=alternates(resource_path),
                           title=i18n.t("graph.title", name=name))
    return html_response(body, resource_path, resource)
