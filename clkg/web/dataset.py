"""The dataset description (VoID and DCAT).

- `{base}dataset` is the dataset's IRI (303 to `/dataset.html`, `.ttl`, `.jsonld`, `.nt`, `.rdf`);
  `/.well-known/void` answers the same description directly (Turtle unless the client asks for
  another format; HTML for browsers), as the VoID note asks.
- Each named graph is a VoID subset of it (`graph_triples`; its own documents are `clkg.web.graph`).
The counts are `clkg.web.graphstats`, the dumps `clkg.web.dumps`.
"""
from __future__ import annotations

import datetime

import pyoxigraph as ox
from flask import Blueprint, render_template, request

from clkg import stores, vocab
from clkg.web import i18n
from clkg.web.context import base, settings
from clkg.web.dumps import ALL, dumps_of
from clkg.web.graphstats import statistics, vocabularies
from clkg.web.links import rebase
from clkg.web.negotiation import FORMATS, alternates, html_response, negotiate, not_acceptable
from clkg.web.pagequeries import construct, iri, select
from clkg.web.rdfviews import rdf_response

blueprint = Blueprint("dataset", __name__)

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
REPORT = vocab.CLS + "desmet-etal-2019"
PROJECT = "Collective Learning Knowledge Graph project"
KEYWORDS = {"en": ["collective learning", "school teams", "external professionals", "professional learning networks",
                   "literature review", "evidence"],
            "nl": ["collectief leren", "schoolteams", "externe professionals", "lerende netwerken",
                   "literatuurstudie", "evidentie"]}
RDF, XSD, VOID, DCAT, DCT = vocab.RDF, vocab.XSD, vocab.VOID, vocab.DCAT, vocab.DCTERMS
FOAF, SD, SPDX, PROV = vocab.FOAF, vocab.SD, vocab.SPDX, vocab.PROV
FORMATS_NS = "http://www.w3.org/ns/formats/"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
PATH = "/dataset"


def built_at() -> str | None:
    """When the store was built, as an xsd:dateTime (UTC, whole seconds)."""
    built = stores.generation_info(settings()).built
    if not built:
        return None
    return datetime.datetime.fromtimestamp(built, datetime.timezone.utc).replace(microsecond=0).isoformat()


# --- the description as RDF --------------------------------------------------------------------------
class Triples(list):
    def add(self, s, p, o):
        self.append(ox.Triple(s, p if isinstance(p, ox.NamedNode) else ox.NamedNode(p), o))


def N(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def L(value, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value), datatype=N(datatype) if datatype else None)


def dataset_iri() -> str:
    return base() + "dataset"


def endpoint_url() -> str:
    return f"{request.host_url.rstrip('/')}{request.script_root}/sparql"


def _distribution(out: Triples, owner: ox.NamedNode, item: dict, title: str) -> None:
    node = N(item["url"])
    out.add(owner, DCAT + "distribution", node)
    out.add(owner, VOID + "dataDump", node)
    out.add(node, RDF + "type", N(DCAT + "Distribution"))
    out.add(node, DCT + "title", L(f"{title} ({item['format']})", lang="en"))
    out.add(node, DCAT + "downloadURL", node)
    out.add(node, DCAT + "mediaType", N(MEDIA_TYPES + item["media_type"]))
    out.add(node, DCT + "format", L(item["media_type"]))
    out.add(node, DCAT + "byteSize", L(item["size"], XSD + "nonNegativeInteger"))
    out.add(node, DCT + "license", N(LICENSE))
    checksum = ox.BlankNode()
    out.add(node, SPDX + "checksum", checksum)
    out.add(checksum, RDF + "type", N(SPDX + "Checksum"))
    out.add(checksum, SPDX + "algorithm", N(SPDX + "checksumAlgorithm_sha256"))
    out.add(checksum, SPDX + "checksumValue", L(item["sha256"], XSD + "hexBinary"))


def graph_triples(out: Triples, graph: dict) -> None:
    """One named graph as a VoID subset: counts, partitions, dumps."""
    node = N(graph["iri"])
    for cls in (VOID + "Dataset", DCAT + "Dataset", SD + "Graph"):
        out.add(node, RDF + "type", N(cls))
    for lang in i18n.LANGUAGES:
        out.add(node, DCT + "title", L(i18n.strings(lang)["graph.title"].format(name=graph["name"]), lang=lang))
        description = i18n.strings(lang).get(f"graph.about.{graph['name'].split('/')[0]}")
        if description:
            out.add(node, DCT + "description", L(description, lang=lang))
    out.add(node, DCT + "isPartOf", N(dataset_iri()))
    out.add(node, DCT + "license", N(LICENSE))
    out.add(node, VOID + "triples", L(graph["triples"], XSD + "integer"))
    out.add(node, VOID + "distinctSubjects", L(graph["subjects"], XSD + "integer"))
    out.add(node, VOID + "properties", L(graph["properties"], XSD + "integer"))
    out.add(node, VOID + "distinctObjects", L(graph["objects"], XSD + "integer"))
    out.add(node, VOID + "entities", L(graph["entities"], XSD + "integer"))
    out.add(node, VOID + "sparqlEndpoint", N(endpoint_url()))
    for cls, count in graph["classes"]:
        part = ox.BlankNode()
        out.add(node, VOID + "classPartition", part)
        out.add(part, VOID + "class", N(cls))
        out.add(part, VOID + "entities", L(count, XSD + "integer"))
    for prop, count in graph["properties_used"]:
        part = ox.BlankNode()
        out.add(node, VOID + "propertyPartition", part)
        out.add(part, VOID + "property", N(prop))
        out.add(part, VOID + "triples", L(count, XSD + "integer"))
    for item in dumps_of(graph["name"]):
        _distribution(out, node, item, f"Graph {graph['name']}")
def void_triples() -> Triples:
    """The whole description: the dataset, its SPARQL service, its subsets (graphs), its dumps."""
    out = Triples()
    stats = statistics()
    dataset = N(dataset_iri())
    for cls in (VOID + "Dataset", DCAT + "Dataset"):
        out.add(dataset, RDF + "type", N(cls))
    for lang in i18n.LANGUAGES:
        words = i18n.strings(lang)
        out.add(dataset, DCT + "title", L(words["dataset.title"], lang=lang))
        out.add(dataset, DCT + "description", L(words["dataset.description"], lang=lang))
        for keyword in KEYWORDS[lang]:
            out.add(dataset, DCAT + "keyword", L(keyword, lang=lang))
    out.add(dataset, DCT + "license", N(LICENSE))
    creator = ox.BlankNode()
    out.add(dataset, DCT + "creator", creator)
    out.add(dataset, DCT + "publisher", creator)
    out.add(creator, RDF + "type", N(FOAF + "Organization"))
    out.add(creator, FOAF + "name", L(PROJECT))
    report = N(rebase(REPORT))
    out.add(dataset, DCT + "source", report)
    out.add(dataset, PROV + "wasDerivedFrom", report)
    report_rows = select("report", resource=iri(report.value))
    if report_rows and report_rows[0].get("citation"):
        out.add(report, DCT + "bibliographicCitation", L(report_rows[0]["citation"], lang="nl"))
    if report_rows and report_rows[0].get("title"):
        out.add(report, DCT + "title", L(report_rows[0]["title"], lang=report_rows[0]["title"].lang or "nl"))
    for author in construct("describe", resource=iri(report.value)):
        if author.predicate.value == DCT + "creator":
            out.add(report, DCT + "creator", author.object)
    modified = built_at()
    if modified:
        out.add(dataset, DCT + "modified", L(modified, XSD + "dateTime"))
    home = N(f"{request.host_url.rstrip('/')}{request.script_root}/")
    out.add(dataset, FOAF + "homepage", home)
    out.add(dataset, DCAT + "landingPage", home)
    out.add(dataset, VOID + "uriSpace", L(base()))
    out.add(dataset, VOID + "triples", L(stats["triples"], XSD + "integer"))
    out.add(dataset, VOID + "rootResource", N(base() + "concept/scheme"))
    out.add(dataset, VOID + "exampleResource", N(base() + "ontology"))
    out.add(dataset, VOID + "exampleResource", N(base() + "concept/scheme"))
    for fmt in ("Turtle", "JSON-LD", "N-Triples", "RDF_XML", "N-Quads", "TriG"):
        out.add(dataset, VOID + "feature", N(FORMATS_NS + fmt))
    for namespace in vocabularies():
        out.add(dataset, VOID + "vocabulary", N(namespace))
    endpoint = N(endpoint_url())
    out.add(dataset, VOID + "sparqlEndpoint", endpoint)
    out.add(endpoint, RDF + "type", N(DCAT + "DataService"))
    out.add(endpoint, RDF + "type", N(SD + "Service"))
    out.add(endpoint, DCAT + "endpointURL", endpoint)
    out.add(endpoint, SD + "endpoint", endpoint)
    out.add(endpoint, DCAT + "servesDataset", dataset)
    out.add(endpoint, DCT + "title", L("SPARQL 1.1 endpoint", lang="en"))
    for item in dumps_of(ALL):
        _distribution(out, dataset, item, "Whole dataset")
    for graph in stats["graphs"]:
        out.add(dataset, VOID + "subset", N(graph["iri"]))
        graph_triples(out, graph)
    return out


# --- documents and routes ----------------------------------------------------------------------------
def document(ext: str):
    """A document of the dataset's description: RDF in the format of `ext`, or the page."""
    resource = dataset_iri()
    if ext != "html":
        return rdf_response(void_triples(), ext, PATH, resource)
    stats = statistics()
    body = render_template("dataset.html", stats=stats, dumps=dumps_of(ALL), vocabularies=vocabularies(),
                           graph_dumps={g["name"]: dumps_of(g["name"]) for g in stats["graphs"]},
                           endpoint=endpoint_url(), resource=resource, license=LICENSE, modified=built_at(),
                           report=rebase(REPORT), alternates=alternates(PATH),
                           well_known=f"{request.script_root}/.well-known/void")
    return html_response(body, PATH, resource)


@blueprint.get("/.well-known/void")
def well_known_void():
    """The VoID description at its well-known location: Turtle by default, HTML for browsers."""
    machine_first = {ext: FORMATS[ext] for ext in ("ttl", "jsonld", "nt", "rdf", "html")}
    ext = negotiate(machine_first) if request.headers.get("Accept") else "ttl"
    if ext is None:
        return not_acceptable(PATH)
    response = document(ext)
    response.headers["Vary"] = "Accept"
    return response
