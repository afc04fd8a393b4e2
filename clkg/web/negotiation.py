"""Content negotiation for linked data: which document of a resource a client gets.

A resource IRI answers `303 See Other` to one of its documents, chosen by the Accept header: `.html`
for browsers (and when nothing is asked), `.ttl`, `.jsonld`, `.nt` or `.rdf` for machines, `406` when
the Accept header asks only for formats that cannot be served. A document links its siblings
(`Link: rel="alternate"`, and `<link rel="alternate">` in HTML) and the resource it describes.
"""
from __future__ import annotations

from flask import Response, redirect, request

from clkg.web.links import iri_for_path

# Documents: extension -> media type; the first is the default for browsers and for "*/*".
FORMATS = {
    "html": "text/html",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}
FORMAT_NAMES = {"html": "HTML", "ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdf": "RDF/XML"}
# Other media types clients send for the same documents.
ACCEPT_ALIASES = {"application/xhtml+xml": "html", "application/x-turtle": "ttl", "application/json": "jsonld",
                  "text/plain": "nt"}


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
    """Whether an answer that is not a document (an error) should be a page rather than text or JSON."""
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


def not_acceptable(resource_path: str, formats=FORMATS) -> Response:
    offered = ", ".join(formats.values())
    message = (f"Cannot serve {request.path} as {request.headers.get('Accept')}. "
               f"Available: {offered} (or add an extension: "
               f"{', '.join(item['href'] for item in alternates(resource_path, formats))}).")
    response = Response(message + "\n", status=406, content_type="text/plain; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(resource_path, iri_for_path(resource_path), formats, document=False)
    return response


def see_other(resource_path: str, formats=FORMATS) -> Response:
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


def document_response(body, ext: str, resource_path: str, resource: str, formats=FORMATS,
                      status: int = 200) -> Response:
    """One document of a resource, in the format of its extension, linking its siblings."""
    response = Response(body, status=status, content_type=f"{FORMATS[ext]}; charset=utf-8")
    response.headers["Link"] = link_header(resource_path, resource, formats)
    response.headers["Content-Location"] = f"{request.script_root}{resource_path}.{ext}"
    return response


def html_response(body: str, resource_path: str, resource: str, formats=FORMATS, status: int = 200) -> Response:
    return document_response(body, "html", resource_path, resource, formats, status)
