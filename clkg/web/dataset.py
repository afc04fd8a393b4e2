"""The dataset description (VoID and DCAT) and the dumps.

- `{base}dataset` is the dataset's IRI (303 to `/dataset.html`, `.ttl`, `.jsonld`, `.nt`, `.rdf`);
  `/.well-known/void` answers the same description directly (Turtle unless the client asks for
  another format; HTML for browsers), as the VoID note asks.
- `{base}graph/NAME` is a named graph; its documents describe it as a VoID subset (counts, class and
  property partitions, its dumps).
- `/dumps/all.EXT` is the whole dataset and `/dumps/NAME.EXT` one named graph, EXT one of `ttl`
  (triples only), `trig`, `nq` (quads) and `jsonld` (quads). A dump is written from the store on first
  request and kept in `<data_dir>/dumps/<generation>/`, where the generation changes with every rebuild
  of the store; its size and SHA-256 are kept beside it and published in the description, in the
  `ETag` and `Repr-Digest` headers and in `/dumps/SHA256SUMS`.

The counts come from SPARQL queries (`queries/pages/graph-stats.rq` and the partitions) through the
worker pool; the dumps are read from the store directly, as a dump is meant to pass the result limit.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file

from clkg import store
from clkg.web import i18n
from clkg.web import linked_data as ld

blueprint = Blueprint("dataset", __name__)

DUMP_FORMATS = {
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE, "Turtle"),
    "trig": ("application/trig", ox.RdfFormat.TRIG, "TriG"),
    "nq": ("application/n-quads", ox.RdfFormat.N_QUADS, "N-Quads"),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD, "JSON-LD"),
}
ALL = "all"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
REPORT = "https://w3id.org/clkg/study/desmet-etal-2019"
PROJECT = "Collective Learning Knowledge Graph project"
KEYWORDS = {"en": ["collective learning", "school teams", "external professionals", "professional learning networks",
                   "literature review", "evidence"],
            "nl": ["collectief leren", "schoolteams", "externe professionals", "lerende netwerken",
                   "literatuurstudie", "evidentie"]}

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
PROV = "http://www.w3.org/ns/prov#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

_lock = threading.Lock()


# --- counts ------------------------------------------------------------------------------------------
def generation_key() -> str:
    return hashlib.sha256(store.generation(ld.settings()).encode()).hexdigest()[:16]


def built_at() -> str | None:
    try:
        built = json.loads(store.generation(ld.settings())).get("built")
    except ValueError:
        return None
    if not built:
        return None
    import datetime
    return datetime.datetime.fromtimestamp(built, datetime.timezone.utc).replace(microsecond=0).isoformat()


def statistics() -> dict:
    """Per named graph: name, IRI, triples, subjects, properties, objects, entities and partitions
    (cached for the store's generation)."""
    cache = current_app.extensions.setdefault("clkg-void", {})
    key = generation_key()
    if key in cache:
        return cache[key]
    prefix = ld.base() + "graph/"
    graphs = {}
    for row in ld.select("graph-stats"):
        iri = str(row["graph"])
        if not iri.startswith(prefix):
            continue
        graphs[iri] = {"name": iri[len(prefix):], "iri": iri, "classes": [], "properties_used": [],
                       **{field: ld.as_int(row.get(field)) for field in
                          ("triples", "subjects", "properties", "objects", "entities")}}
    for row in ld.select("class-partitions"):
        if str(row["graph"]) in graphs:
            graphs[str(row["graph"])]["classes"].append((str(row["class"]), ld.as_int(row["entities"])))
    for row in ld.select("property-partitions"):
        if str(row["graph"]) in graphs:
            graphs[str(row["graph"])]["properties_used"].append((str(row["property"]), ld.as_int(row["triples"])))
    result = {"graphs": sorted(graphs.values(), key=lambda g: ld.natural_key(g["name"])),
              "triples": sum(g["triples"] for g in graphs.values())}
    cache.clear()
    cache[key] = result
    return result


def graph_names() -> list[str]:
    return [g["name"] for g in statistics()["graphs"]]


def graph_exists(name: str) -> bool:
    return name in graph_names()


def graph_stats(name: str) -> dict:
    return next(g for g in statistics()["graphs"] if g["name"] == name)


def vocabularies() -> list[str]:
    """Namespaces of every property and class used in the dataset."""
    found = set()
    for graph in statistics()["graphs"]:
        for term, _ in graph["classes"] + graph["properties_used"]:
            cut = max(term.rfind("#"), term.rfind("/"))
            if cut > 0:
                found.add(term[:cut + 1])
    return sorted(found)


# --- dumps -------------------------------------------------------------------------------------------
def dump_dir() -> Path:
    return Path(ld.settings().data_dir) / "dumps" / generation_key()


def dump(name: str, ext: str) -> dict:
    """The dump of one graph (or ALL) in one format, written on first use: path, size, sha256."""
    if ext not in DUMP_FORMATS or (name != ALL and not graph_exists(name)):
        raise KeyError(f"{name}.{ext}")
    folder = dump_dir()
    path = folder / f"{name}.{ext}"
    meta_path = path.with_name(path.name + ".json")
    if meta_path.is_file():
        return {**json.loads(meta_path.read_text()), "path": path}
    with _lock:
        if meta_path.is_file():
            return {**json.loads(meta_path.read_text()), "path": path}
        _clean_old_generations(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        _write_dump(name, ext, partial)
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        meta = {"size": partial.stat().st_size, "sha256": digest.hexdigest()}
        os.replace(partial, path)
        meta_path.write_text(json.dumps(meta))
    return {**meta, "path": path}


def _clean_old_generations(current: Path) -> None:
    root = current.parent
    if root.is_dir():
        for other in root.iterdir():
            if other.is_dir() and other.name != current.name:
                shutil.rmtree(other, ignore_errors=True)


def _write_dump(name: str, ext: str, target: Path) -> None:
    settings = ld.settings()
    source = store.open_read_only(settings)
    try:
        graph = None if name == ALL else ox.NamedNode(settings.graph_iri(name))
        quads = [q for q in source.quads_for_pattern(None, None, None, graph)
                 if not isinstance(q.graph_name, ox.DefaultGraph)]
    finally:
        del source
    fmt = DUMP_FORMATS[ext][1]
    if ext == "ttl":
        triples = list(dict.fromkeys(q.triple for q in quads))
        ox.serialize(triples, str(target), fmt, prefixes=ld.prefixes())
    elif ext == "trig":
        ox.serialize(quads, str(target), fmt, prefixes=ld.prefixes())
    else:
        ox.serialize(quads, str(target), fmt)
    if not target.exists():  # nothing to write
        target.write_bytes(b"[]" if ext == "jsonld" else b"")


def dump_url(name: str, ext: str) -> str:
    return f"{request.host_url.rstrip('/')}{request.script_root}/dumps/{name}.{ext}"


def dumps_of(name: str) -> list[dict]:
    """Every format of one graph's (or ALL's) dump, written if needed, with its URL, size, checksum."""
    found = []
    for ext, (media, _, label) in DUMP_FORMATS.items():
        meta = dump(name, ext)
        found.append({"name": name, "ext": ext, "media_type": media, "format": label, "url": dump_url(name, ext),
                      "href": f"{request.script_root}/dumps/{name}.{ext}", "size": meta["size"],
                      "sha256": meta["sha256"]})
    return found


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
    return ld.base() + "dataset"


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
    report = N(ld.rebase(REPORT))
    out.add(dataset, DCT + "source", report)
    out.add(dataset, PROV + "wasDerivedFrom", report)
    report_rows = ld.select("report", resource=ld.iri(report.value))
    if report_rows and report_rows[0].get("citation"):
        out.add(report, DCT + "bibliographicCitation", L(report_rows[0]["citation"], lang="nl"))
    if report_rows and report_rows[0].get("title"):
        out.add(report, DCT + "title", L(report_rows[0]["title"], lang=report_rows[0]["title"].lang or "nl"))
    for author in ld.construct("describe", resource=ld.iri(report.value)):
        if author.predicate.value == DCT + "creator":
            out.add(report, DCT + "creator", author.object)
    modified = built_at()
    if modified:
        out.add(dataset, DCT + "modified", L(modified, XSD + "dateTime"))
    home = N(f"{request.host_url.rstrip('/')}{request.script_root}/")
    out.add(dataset, FOAF + "homepage", home)
    out.add(dataset, DCAT + "landingPage", home)
    out.add(dataset, VOID + "uriSpace", L(ld.base()))
    out.add(dataset, VOID + "triples", L(stats["triples"], XSD + "integer"))
    out.add(dataset, VOID + "rootResource", N(ld.base() + "concept/scheme"))
    out.add(dataset, VOID + "exampleResource", N(ld.base() + "ontology"))
    out.add(dataset, VOID + "exampleResource", N(ld.base() + "concept/scheme"))
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


def subset_triples(name: str) -> Triples:
    """The description of one graph (the part of the VoID about that subset)."""
    out = Triples()
    graph = graph_stats(name)
    graph_triples(out, graph)
    out.add(N(dataset_iri()), VOID + "subset", N(graph["iri"]))
    return out


# --- documents and routes ----------------------------------------------------------------------------
def dataset_document(ext: str):
    resource_path, resource = "/dataset", dataset_iri()
    if ext != "html":
        return ld.rdf_response(void_triples(), ext, resource_path, resource)
    body = render_template("dataset.html", stats=statistics(), dumps=dumps_of(ALL), vocabularies=vocabularies(),
                           graph_dumps={g["name"]: dumps_of(g["name"]) for g in statistics()["graphs"]},
                           endpoint=endpoint_url(), resource=resource, license=LICENSE, modified=built_at(),
                           report=ld.rebase(REPORT), alternates=ld.alternates(resource_path),
                           well_known=f"{request.script_root}/.well-known/void")
    return ld.html_response(body, resource_path, resource)


def graph_document(name: str, ext: str):
    resource_path = f"/graph/{name}"
    resource = ld.iri_for_path(resource_path)
    if ext != "html":
        return ld.rdf_response(subset_triples(name), ext, resource_path, resource)
    labels = ld.Labels(i18n.language())
    graph = graph_stats(name)
    body = render_template("graph.html", graph=graph, dumps=dumps_of(name), resource=resource, L=labels,
                           alternates=ld.alternates(resource_path), title=i18n.t("graph.title", name=name))
    return ld.html_response(body, resource_path, resource)


@blueprint.get("/.well-known/void")
def well_known_void():
    """The VoID description at its well-known location: Turtle by default, HTML for browsers."""
    machine_first = {ext: ld.FORMATS[ext] for ext in ("ttl", "jsonld", "nt", "rdf", "html")}
    ext = ld.negotiate(machine_first) if request.headers.get("Accept") else "ttl"
    if ext is None:
        return ld.not_acceptable("/dataset")
    response = dataset_document(ext)
    response.headers["Vary"] = "Accept"
    return response


@blueprint.get("/dumps/")
@blueprint.get("/dumps")
def dumps_index():
    return redirect(f"{request.script_root}/dataset.html#dumps", code=303)


@blueprint.get("/dumps/SHA256SUMS")
def checksums():
    lines = [f"{item['sha256']}  {item['name']}.{item['ext']}"
             for name in [ALL] + graph_names() for item in dumps_of(name)]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@blueprint.get("/dumps/<path:filename>")
def download(filename: str):
    stem, dot, ext = filename.rpartition(".")
    if not dot or ext not in DUMP_FORMATS or (stem != ALL and not graph_exists(stem)):
        return ld.not_found()
    meta = dump(stem, ext)
    media_type = DUMP_FORMATS[ext][0]
    response = send_file(meta["path"], mimetype=media_type, conditional=True, etag=meta["sha256"],
                         download_name=Path(filename).name, max_age=3600)
    if not response.mimetype.startswith("application/ld+json"):
        response.headers["Content-Type"] = f"{media_type}; charset=utf-8"
    digest = base64.b64encode(bytes.fromhex(meta["sha256"])).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response
