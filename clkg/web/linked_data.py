"""Linked data: every IRI the project mints dereferences, for people (HTML) and machines (RDF).

The rule (slash IRIs, 303 See Other, as in the W3C note "Cool URIs for the Semantic Web"):

- the resource IRI of a request is `settings.base_iri` + the request path without its leading slash,
  so `GET /study/feys-devos-2015` asks for `<{base}study/feys-devos-2015>`, whatever the host;
- a resource IRI answers `303 See Other` to one of its documents, chosen by the Accept header:
  `.html` for browsers (and when nothing is asked), `.ttl`, `.jsonld`, `.nt` or `.rdf` for machines,
  `406` when the Accept header asks only for formats that cannot be served;
- a document (the IRI plus one of those extensions) answers `200` in the format of its extension and
  links its sibling documents (`Link: rel="alternate"`, and `<link rel="alternate">` in HTML);
- an IRI that is neither described nor referred to in the store is a `404`: a helpful page for
  browsers, plain text or JSON otherwise.

The description of a resource is its concise bounded description (the triples with the IRI as subject
and the blank nodes below it), read with SPARQL through the service's worker pool, so the time and
size limits apply. The queries live in `queries/pages/`. Kinds: ontology (the ontology IRI and its
terms), concept, study, claim, person, venue, case, graph (named graphs: their VoID description) and
dataset (the VoID/DCAT description).

This module also holds the small helpers the other page blueprints share: running a page query,
reading SPARQL JSON results, labels, local links for IRIs.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, render_template, request
from markupsafe import Markup, escape

from clkg import config, namedqueries, resources
from clkg.sparql import QueryError
from clkg.web import i18n, security, service

blueprint = Blueprint("linked_data", __name__)

PAGE_QUERIES = resources.page_queries()

# Documents: extension -> media type; the first is the default for browsers and for "*/*".
FORMATS = {
    "html": "text/html",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}
FORMAT_NAMES = {"html": "HTML", "ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdf": "RDF/XML"}
RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "nt": ox.RdfFormat.N_TRIPLES,
               "rdf": ox.RdfFormat.RDF_XML}
# Other media types clients send for the same documents.
ACCEPT_ALIASES = {"application/xhtml+xml": "html", "application/x-turtle": "ttl", "application/json": "jsonld",
                  "text/plain": "nt"}
KINDS = ("ontology", "concept", "study", "claim", "person", "venue", "case", "graph")
DOCUMENT = re.compile(r"(?P<resource>/.+?)\.(?P<ext>html|ttl|jsonld|nt|rdf)")

# Prefixes written in Turtle documents and used to show IRIs compactly (project ones are rebased).
PREFIXES = {
    "clo": "https://w3id.org/clkg/ontology/", "clc": "https://w3id.org/clkg/concept/",
    "cls": "https://w3id.org/clkg/study/", "clm": "https://w3id.org/clkg/claim/",
    "clp": "https://w3id.org/clkg/person/", "clj": "https://w3id.org/clkg/venue/",
    "clx": "https://w3id.org/clkg/case/", "clg": "https://w3id.org/clkg/graph/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
    "bibo": "http://purl.org/ontology/bibo/", "cito": "http://purl.org/spar/cito/",
    "foaf": "http://xmlns.com/foaf/0.1/", "prov": "http://www.w3.org/ns/prov#",
    "vann": "http://purl.org/vocab/vann/", "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#", "sd": "http://www.w3.org/ns/sparql-service-description#",
    "spdx": "http://spdx.org/rdf/terms#", "schema": "https://schema.org/",
}
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Which property names a resource, best first (a study is best named by its in-text citation).
LABEL_ORDER = ["https://w3id.org/clkg/ontology/inTextCitation", "http://www.w3.org/2004/02/skos/core#prefLabel",
               "http://www.w3.org/2000/01/rdf-schema#label", "http://xmlns.com/foaf/0.1/name",
               "http://purl.org/dc/terms/title", "http://www.w3.org/2004/02/skos/core#notation"]


# --- settings, IRIs and links ----------------------------------------------------------------------
def settings():
    return current_app.config["CLKG"]


def base() -> str:
    return settings().base_iri


def prefixes() -> dict:
    """The prefix map with the project's namespaces under the deployment's base."""
    return {name: rebase(ns) for name, ns in PREFIXES.items()}


def rebase(iri: str) -> str:
    if iri.startswith(config.CANONICAL_BASE):
        return base() + iri[len(config.CANONICAL_BASE):]
    return iri


def iri_for_path(path: str) -> str:
    """The resource IRI a request path stands for: the base IRI + the path without its leading slash."""
    return base() + path.lstrip("/")


def local_path(iri: str) -> str | None:
    """The path on this server of an IRI under the base (None for other IRIs)."""
    if iri.startswith(base()):
        return "/" + iri[len(base()):]
    return None


VALID_IRI = re.compile(r"[^\s<>\"{}|^`\\]+")


def href(iri: str) -> str | None:
    """Where a link to an IRI goes: a path on this server for the project's IRIs, the IRI itself for
    other http(s) IRIs, and None (no link: show it as text) for every other scheme, such as a
    `javascript:` or `data:` IRI in contributed data."""
    path = local_path(str(iri))
    if path is not None:
        return None if path.startswith("//") else request.script_root + path  # "//x" would leave the site
    return str(iri) if security.web_link(iri) else None


def iri_link(iri, content=None, fragment: str | None = None, **attributes) -> Markup:
    """`<a href>` to an IRI with `content` (escaped unless already markup; the IRI by default), or the
    same content in a `<span class="unlinked">` when the IRI may not be a link; `fragment` is added to
    the link (`#fragment`). Attribute names may end in `_` (`class_`). Every template links IRIs with
    this one helper."""
    target = href(iri)
    if target is not None and fragment:
        target += "#" + fragment
    text = escape(str(iri) if content is None else content)
    rest = "".join(f' {name.rstrip("_")}="{escape(value)}"' for name, value in attributes.items()
                   if value is not None and name.rstrip("_") != "class")
    classes = " ".join(filter(None, [attributes.get("class_"), None if target else "unlinked"]))
    rest += f' class="{escape(classes)}"' if classes else ""
    if target is None:
        return Markup(f'<span title="{escape(str(iri))}"{rest}>{text}</span>')
    return Markup(f'<a href="{escape(target)}"{rest}>{text}</a>')


def curie(iri: str) -> str:
    iri = str(iri)
    for name, ns in sorted(prefixes().items(), key=lambda item: -len(item[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{name}:{iri[len(ns):]}"
    return iri


def local_name(iri: str) -> str:
    return re.split(r"[/#]", str(iri).rstrip("/"))[-1]


# --- running page queries ----------------------------------------------------------------------------
class Value(str):
    """A term from a SPARQL JSON result, as a string that knows its kind, language and datatype."""

    kind = "literal"
    lang = None
    datatype = None

    @classmethod
    def of(cls, binding: dict) -> "Value":
        value = cls(binding["value"])
        value.kind = binding["type"] if binding["type"] != "typed-literal" else "literal"
        value.lang = binding.get("xml:lang")
        value.datatype = binding.get("datatype")
        return value

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


def page_query(name: str) -> str:
    """The text of `queries/pages/<name>.rq`, rebased to the deployment's base IRI (cached per app)."""
    cache = current_app.extensions.setdefault("clkg-page-queries", {})
    if name not in cache:
        cache[name] = namedqueries.parse(PAGE_QUERIES / f"{name}.rq", base()).text
    return cache[name]


def iri(value: str) -> tuple:
    return ("iri", str(value), None)


def literal(value: str) -> tuple:
    return ("typed", str(value), None)


def select(name: str, **params) -> list[dict]:
    """Run a page SELECT query with parameters (`resource=iri(...)`); rows of `Value`s by variable."""
    body, _ = service().run(page_query(name), media_type="application/sparql-results+json",
                            substitutions={f"_{key}": value for key, value in params.items()})
    bindings = json.loads(body)["results"]["bindings"]
    return [{var: Value.of(term) for var, term in row.items()} for row in bindings]


def optional_select(name: str, **params) -> list[dict]:
    """A page query whose answer only adds to a page (labels, backlinks): past the result limit, the
    page is shown without it rather than not at all."""
    try:
        return select(name, **params)
    except QueryError as error:
        if error.status != 400:
            raise
        return []


def construct(name: str, **params) -> list[ox.Triple]:
    """Run a page CONSTRUCT query with parameters; the triples (blank nodes kept apart per call)."""
    body, _ = service().run(page_query(name), media_type="application/n-triples",
                            substitutions={f"_{key}": value for key, value in params.items()})
    return list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)) if body else []


def as_bool(value) -> bool:
    return str(value).lower() in ("true", "1")


def as_int(value, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


# --- labels ------------------------------------------------------------------------------------------
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


# --- resource descriptions ---------------------------------------------------------------------------
class Description:
    """The triples describing one resource, indexed by subject, for templates."""

    def __init__(self, iri: str, triples, labels: Labels):
        self.iri = iri
        self.labels = labels
        self.triples = list(triples)
        self._by_subject: dict[str, list] = {}
        for triple in self.triples:
            self._by_subject.setdefault(self.key(triple.subject), []).append(triple)

    @staticmethod
    def key(term) -> str:
        return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"

    def __bool__(self) -> bool:
        return bool(self.triples)

    def values(self, predicate: str, subject=None) -> list:
        predicate = rebase(predicate)
        subject = self.iri if subject is None else self.key(subject) if not isinstance(subject, str) else subject
        return [t.object for t in self._by_subject.get(subject, []) if t.predicate.value == predicate]

    def first(self, predicate: str, subject=None):
        found = self.values(predicate, subject)
        return found[0] if found else None

    def text(self, predicate: str, subject=None) -> str | None:
        """A literal value in the interface language if there is one."""
        found = [t for t in self.values(predicate, subject) if isinstance(t, ox.Literal)]
        if not found:
            return None
        return pick_language([_literal_value(t) for t in found], self.labels.lang)

    def texts(self, predicate: str, subject=None) -> list:
        return [_literal_value(t) for t in self.values(predicate, subject) if isinstance(t, ox.Literal)]

    def types(self) -> list[str]:
        return [t.value for t in self.values(RDF_TYPE) if isinstance(t, ox.NamedNode)]

    def items(self, node) -> list | None:
        """The members of an RDF list starting at `node`, or None if it is not a well-formed list."""
        members, seen = [], set()
        while True:
            if isinstance(node, ox.NamedNode) and node.value == RDF_NIL:
                return members
            if not isinstance(node, ox.BlankNode) or node.value in seen:
                return None
            seen.add(node.value)
            first, rest = self.values(RDF_FIRST, node), self.values(RDF_REST, node)
            if len(first) != 1 or len(rest) != 1 or len(self._by_subject.get(self.key(node), [])) != 2:
                return None
            members.append(first[0])
            node = rest[0]

    def rows(self, subject=None) -> list[tuple[str, list]]:
        """(predicate IRI, objects) of a subject, rdf:type first, then by the predicate's label."""
        subject = self.iri if subject is None else self.key(subject)
        grouped: dict[str, list] = {}
        for triple in self._by_subject.get(subject, []):
            grouped.setdefault(triple.predicate.value, []).append(triple.object)
        order = sorted(grouped, key=lambda p: (p != RDF_TYPE, self.labels(p).lower()))
        return [(p, sorted(grouped[p], key=_sort_key)) for p in order]


def _literal_value(term: ox.Literal) -> Value:
    value = Value(term.value)
    value.kind, value.lang, value.datatype = "literal", term.language, term.datatype.value
    return value


def _sort_key(term):
    return (not isinstance(term, ox.NamedNode), getattr(term, "language", None) or "", str(term.value))


def existence(resource: str) -> tuple[bool, bool]:
    """(described, referred to) for an IRI in the store."""
    rows = select("exists", resource=iri(resource))
    row = rows[0] if rows else {}
    return as_bool(row.get("described")), as_bool(row.get("referenced"))


def describe(resource: str, lang: str, *, with_labels: bool = True) -> Description:
    triples = construct("describe", resource=iri(resource))
    if not triples:
        triples = construct("describe-incoming", resource=iri(resource))
    labels = Labels(lang)
    label_properties = {rebase(prop) for prop in LABEL_ORDER}
    for triple in triples:
        if isinstance(triple.subject, ox.NamedNode) and triple.predicate.value in label_properties \
                and isinstance(triple.object, ox.Literal):
            labels.add(triple.subject.value, triple.predicate.value, _literal_value(triple.object))
    if with_labels and triples:
        labels.add_rows(optional_select("labels", resource=iri(resource)))
    return Description(resource, triples, labels)


# --- content negotiation -----------------------------------------------------------------------------
def negotiate(formats=FORMATS) -> str | None:
    """The extension of the best document for the request's Accept header (html when none is sent)."""
    if not request.headers.get("Accept"):
        return "html"
    offers = list(formats.values()) + [alias for alias, ext in ACCEPT_ALIASES.items() if ext in formats]
    best = request.accept_mimetypes.best_match(offers)
    if best is None:
        return None
    return ACCEPT_ALIASES.get(best) or next(ext for ext, media in formats.items() if media == best)


def wants_html() -> bool:
    if not request.headers.get("Accept"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/plain"])
    return best == "text/html"


def alternates(resource_path: str, formats=FORMATS) -> list[dict]:
    """The documents of a resource: extension, media type, name and link."""
    return [{"ext": ext, "type": media, "name": FORMAT_NAMES.get(ext, ext.upper()),
             "href": f"{request.script_root}{resource_path}.{ext}"} for ext, media in formats.items()]


def link_header(resource_path: str, resource: str, formats=FORMATS, *, document: bool = True) -> str:
    """Link header: the documents of the resource (alternates), and for a document the resource it describes."""
    links = [f'<{item["href"]}>; rel="alternate"; type="{item["type"]}"' for item in alternates(resource_path, formats)]
    if document:
        links.append(f'<{resource}>; rel="describes"')
    links.append(f'<{request.script_root}/.well-known/void>; rel="describedby"; type="text/turtle"')
    return ", ".join(links)


def not_acceptable(resource_path: str, formats=FORMATS):
    offered = ", ".join(formats.values())
    message = (f"Cannot serve {request.path} as {request.headers.get('Accept')}. "
               f"Available: {offered} (or add an extension: "
               f"{', '.join(item['href'] for item in alternates(resource_path, formats))}).")
    response = Response(message + "\n", status=406, content_type="text/plain; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(resource_path, iri_for_path(resource_path), formats, document=False)
    return response


def not_found(what: str | None = None):
    """404 for an IRI nothing is published at: a helpful page for browsers, text or JSON otherwise."""
    message = i18n.t("notfound.message", path=request.path) if what is None else what
    if wants_html():
        body = render_template("notfound.html", message=message, path=request.path,
                               resource=iri_for_path(request.path))
        return body, 404, {"Content-Type": "text/html; charset=utf-8", "Vary": "Accept"}
    from clkg.web import error_response
    return error_response(404, f"Nothing is published at {request.path} (the IRI <{iri_for_path(request.path)}> "
                               "is unknown). Try /search?q=... or the SPARQL endpoint at /sparql.")


def see_other(resource_path: str, formats=FORMATS):
    """303 from a resource IRI to the document the client prefers."""
    ext = negotiate(formats)
    if ext is None:
        return not_acceptable(resource_path, formats)
    target = f"{request.script_root}{resource_path}.{ext}"
    if ext == "html" and request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(resource_path, iri_for_path(resource_path), formats, document=False)
    return response


def rdf_response(triples, ext: str, resource_path: str, resource: str, formats=FORMATS):
    """A machine-readable document: the triples in the format of the extension."""
    body = serialize(triples, ext)
    response = Response(body, status=200, content_type=f"{FORMATS[ext]}; charset=utf-8")
    response.headers["Link"] = link_header(resource_path, resource, formats)
    response.headers["Content-Location"] = f"{request.script_root}{resource_path}.{ext}"
    return response


def serialize(triples, ext: str) -> bytes:
    triples = _grouped(triples)
    if ext == "ttl":
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes()) or b""
    if ext == "rdf":
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=prefixes()) or b""
    if ext == "jsonld":
        return ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"[]"
    return ox.serialize(triples, format=RDF_FORMATS[ext]) or b""


def _grouped(triples) -> list:
    """Triples grouped by subject (first appearance first), so that Turtle writes one block per subject."""
    groups: dict = {}
    for triple in triples:
        groups.setdefault(triple.subject, []).append(triple)
    return [triple for group in groups.values() for triple in group]


def html_response(body: str, resource_path: str, resource: str, formats=FORMATS, status: int = 200):
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers["Link"] = link_header(resource_path, resource, formats)
    response.headers["Content-Location"] = f"{request.script_root}{resource_path}.html"
    return response


# --- routes ------------------------------------------------------------------------------------------
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
        if resource_path != "/dataset":
            return not_found()
        from clkg.web import dataset
        return dataset.dataset_document(ext) if ext else see_other(resource_path)
    if kind == "graph":
        from clkg.web import dataset
        name = resource_path[len("/graph/"):]
        if not dataset.graph_exists(name):
            return not_found()
        return dataset.graph_document(name, ext) if ext else see_other(resource_path)
    if resource_path == "/ontology":
        return ontology_document(ext) if ext else see_other(resource_path)
    described, referenced = existence(resource)
    if not (described or referenced):
        return not_found()
    if ext is None:
        return see_other(resource_path)
    if ext != "html":
        triples = construct("describe", resource=iri(resource)) or construct("describe-incoming", resource=iri(resource))
        return rdf_response(triples, ext, resource_path, resource)
    return html_response(render_resource(kind, resource, resource_path), resource_path, resource)


LISTINGS = {"concept": "/concepts", "study": "/studies", "claim": "/claims", "case": "/cases", "graph": "/graphs",
            "person": "/search", "venue": "/studies"}


@blueprint.get("/<any(concept,study,claim,person,venue,case,graph):kind>/")
def namespace(kind: str):
    """A namespace itself (e.g. {base}study/) leads to the listing of its resources."""
    return redirect(request.script_root + LISTINGS[kind], code=303)


def render_resource(kind: str, resource: str, resource_path: str) -> str:
    lang = i18n.language()
    description = describe(resource, lang)
    context = {"d": description, "L": description.labels, "resource": resource, "kind": kind,
               "alternates": alternates(resource_path), "title": description.labels(resource)}
    if kind == "concept":
        return render_concept(context)
    if kind == "study":
        return render_study(context)
    if kind == "claim":
        clo = rebase("https://w3id.org/clkg/ontology/")
        study = description.first(PREFIXES["cito"] + "cites")
        about, polarity = (description.first(clo + name) for name in ("about", "polarity"))
        context["claim"] = {"study": study.value if study is not None else None,
                            "about": about.value if about is not None else None,
                            "polarity": local_name(polarity.value) if polarity is not None else None,
                            "section": description.text(clo + "section"), "quotes": description.texts(clo + "quote")}
        parts = [description.labels(x) for x in (context["claim"]["study"], context["claim"]["about"]) if x]
        context["title"] = " → ".join(parts) or local_name(resource)
    if kind == "case":
        context["observations"] = [_with_label(row, "concept", description.labels)
                                   for row in select("case-observations", resource=iri(resource))]
        if rebase("https://w3id.org/clkg/ontology/Case") in description.types():  # a case, not one of its parts
            from clkg.web import cases
            context["case"] = cases.case_context(resource, description.labels)
    if kind == "ontology":
        rows = select("instances", resource=iri(resource))
        context["instances"] = as_int(rows[0].get("instances")) if rows else 0
    context["incoming"] = incoming(resource, description.labels)
    return render_template(f"resource-{kind}.html" if kind in ("claim", "case") else "resource.html", **context)


def incoming(resource: str, labels: Labels) -> list[tuple[str, list]]:
    grouped: dict[str, list] = {}
    for row in optional_select("incoming", resource=iri(resource)):
        grouped.setdefault(row["p"], []).append(row["s"])
    return sorted(grouped.items(), key=lambda item: labels(item[0]).lower())


def _with_label(row: dict, var: str, labels: Labels) -> dict:
    row = dict(row)
    if row.get(var):
        labels.add_pair(row[var], row.get("labelEn"), row.get("labelNl"), row.get("code"))
    return row


def render_concept(context: dict) -> str:
    resource, labels = context["resource"], context["L"]
    relations = select("concept-relations", resource=iri(resource))
    edges, narrower, related = [], [], []
    for row in relations:
        labels.add_pair(row["other"], row.get("labelEn"), row.get("labelNl"), row.get("code"))
        if row["relation"] == "broader":
            edges.append((str(row["from"]), str(row["other"])))
        elif row["relation"] == "narrower":
            narrower.append(str(row["other"]))
        else:
            related.append(str(row["other"]))
    evidence = {"supports": [], "nuances": [], "contradicts": []}
    for row in select("concept-evidence", resource=iri(resource)):
        labels.add_pair(row["about"], row.get("aboutEn"), row.get("aboutNl"), row.get("aboutCode"))
        evidence.setdefault(str(row.get("polarity", "")), []).append(row)
    studies = {p: len({str(r["study"]) for r in rows}) for p, rows in evidence.items()}
    context.update(paths=broader_paths(resource, edges), narrower=_unique_sorted(narrower, labels),
                   related=_unique_sorted(related, labels), evidence=evidence, studies=studies,
                   total=len({str(r["study"]) for rows in evidence.values() for r in rows}),
                   definitions={tag: _in_language(context["d"].texts("http://www.w3.org/2004/02/skos/core#definition"), tag)
                                for tag in i18n.LANGUAGES},
                   names={tag: _in_language(context["d"].texts("http://www.w3.org/2004/02/skos/core#prefLabel")
                                            or context["d"].texts("http://www.w3.org/2000/01/rdf-schema#label"), tag)
                          for tag in i18n.LANGUAGES},
                   code=context["d"].text("http://www.w3.org/2004/02/skos/core#notation"))
    return render_template("concept.html", **context)


def _in_language(values, tag: str) -> list[str]:
    return [str(v) for v in values if (v.lang or "").lower().split("-")[0] == tag]


def _unique_sorted(iris, labels: Labels) -> list[str]:
    return sorted(set(iris), key=lambda i: natural_key(labels.code(i) or labels(i)))


def natural_key(text: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", str(text))]


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
    return paths[:12]


def render_study(context: dict) -> str:
    resource, labels, d = context["resource"], context["L"], context["d"]
    authors = []
    for node in d.values("http://purl.org/ontology/bibo/authorList"):
        authors = d.items(node) or []
    if not authors:
        authors = d.values("http://purl.org/dc/terms/creator")
    claims = select("study-claims", resource=iri(resource))
    for row in claims:
        if row.get("concept"):
            labels.add_pair(row["concept"], row.get("labelEn"), row.get("labelNl"), row.get("code"))
    kinds = [t for t in d.types() if t != rebase("https://w3id.org/clkg/ontology/Study")]
    context.update(authors=authors, claims=claims, kinds=kinds, incoming=incoming(resource, labels),
                   title=d.text("https://w3id.org/clkg/ontology/inTextCitation") or labels(resource))
    return render_template("study.html", **context)


# --- the ontology ------------------------------------------------------------------------------------
def ontology_document(ext: str):
    resource = base() + "ontology"
    if ext != "html":
        triples = construct("vocabulary", graph=iri(settings().graph_iri("ontology")),
                            concepts=literal(base() + "concept/"))
        return rdf_response(triples, ext, "/ontology", resource)
    page = _ontology_documentation()
    if page is not None:
        if base() != config.CANONICAL_BASE:  # the documentation is made from the sources, on the canonical base
            page = page.replace(config.CANONICAL_BASE, base())
        banner = render_template("ontology-banner.html", alternates=alternates("/ontology"))
        marker = re.search(r"<body[^>]*>", page)
        page = page[:marker.end()] + banner + page[marker.end():] if marker else banner + page
        security.allow_inline_styles(page)  # pyLODE's own <style>, by hash; nothing else inline
        return html_response(page, "/ontology", resource)
    lang = i18n.language()
    description = describe(resource, lang)
    terms = select("vocabulary-terms")
    for row in terms:
        description.labels.add_pair(row["term"], row.get("labelEn"), row.get("labelNl"))
    body = render_template("ontology.html", d=description, L=description.labels, resource=resource, terms=terms,
                           alternates=alternates("/ontology"), title=description.labels(resource))
    return html_response(body, "/ontology", resource)


def _ontology_documentation() -> str | None:
    """The generated documentation (clkg.ontology_docs, pyLODE) of the ontology sources, cached by
    their content; None when it cannot be made (then a simple page of the terms is shown)."""
    from clkg import store

    paths = store.source_files(settings()).get("ontology", [])
    if not paths:
        return None
    key = tuple((str(p), p.stat().st_mtime_ns) for p in paths if Path(p).is_file())
    return _documentation_for(key)


@lru_cache(maxsize=2)
def _documentation_for(key: tuple) -> str | None:
    try:
        from clkg import ontology_docs
        return ontology_docs.ontology_html([Path(path) for path, _ in key])
    except Exception:  # no owl:Ontology in the sources, pyLODE missing or failed: the simple page instead
        return None


# --- the 404 page for anything else under a known kind is above; template helpers --------------------
@blueprint.app_context_processor
def template_helpers():
    return {"iri_link": iri_link, "curie": curie, "local_name": local_name, "is_iri": lambda t: isinstance(t, ox.NamedNode),
            "is_blank": lambda t: isinstance(t, ox.BlankNode), "is_literal": lambda t: isinstance(t, ox.Literal),
            "literal_value": lambda t: _literal_value(t) if isinstance(t, ox.Literal) else t,
            "resource_kinds": KINDS, "ns": prefixes()}

