"""What every response says about how a browser may use it, and which IRIs may become links.

Why: the pages show data that anyone with a write token can contribute, so a browser must never run
anything but the site's own static scripts (Content-Security-Policy without inline scripts or
handlers), never render a page inside another site's frame, never guess a media type, and never be
handed a `javascript:` (or any non-web) IRI as a link.

- `web_link(iri)`: True only for an absolute http(s) IRI, decided on the parsed IRI;
- `allow_inline_styles(html)`, `allow_style_hashes(...)`: permit, by their SHA-256, the `<style>`
  blocks of one page (the ontology documentation pyLODE writes; those YASGUI adds to the query page),
  instead of allowing inline styles everywhere;
- `add_headers(response)`: the headers, installed as an `after_request` hook by `create_app`.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import Response, g

WEB_SCHEMES = {"http", "https"}

# Pages: the site's own scripts, styles, images and fonts; queries to itself; forms to itself.
PAGE_POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}
# Everything else (RDF, JSON, CSV, text): nothing may run or load, even if a browser opens it directly.
DOCUMENT_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
# The two `<style>` elements the vendored YASGUI adds to the query page (its table column resizer: one
# when a result table is drawn, one while a column is dragged); tests/test_web_security.py finds both
# texts in static/yasgui/yasgui.min.js, so an upgrade that changes them fails there and in the browser.
YASGUI_STYLE_HASHES = ("'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",
                       "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # search terms in our URLs are not sent to other sites
    "Cross-Origin-Opener-Policy": "same-origin",
}


def web_link(iri: str) -> bool:
    """Whether an IRI may be a link: an absolute http or https IRI with a host. Browsers drop leading
    spaces and control characters and tabs or newlines inside a URL before reading its scheme, and so
    does `urlsplit`, so what is decided here is what a browser would follow."""
    try:
        parts = urlsplit(str(iri))
    except ValueError:  # e.g. an unbalanced [ in the host
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


class _StyleBlocks(HTMLParser):
    """The text of every `<style>` element of a page, as a browser's parser sees it."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.blocks, self._current = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._current = []

    def handle_endtag(self, tag):
        if tag == "style" and self._current is not None:
            self.blocks.append("".join(self._current))
            self._current = None

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)


def style_hash(text: str) -> str:
    """The CSP source that allows one `<style>` element with exactly this text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def allow_inline_styles(html: str) -> None:
    """Let this response's page use its own `<style>` blocks (by hash), and no others."""
    allow_style_hashes(*inline_style_sources(html))


@lru_cache(maxsize=8)
def inline_style_sources(html: str) -> tuple[str, ...]:
    """The hashes of a page's `<style>` blocks; kept, as parsing the 600 KB ontology documentation takes
    about 0.2 s and the same page is served again and again."""
    parser = _StyleBlocks()
    parser.feed(html)
    parser.close()
    return tuple(style_hash(block) for block in parser.blocks)


def allow_style_hashes(*sources: str) -> None:
    """Let this response's page use the `<style>` elements with these hashes (`'sha256-...'`)."""
    g.setdefault("style_hashes", set()).update(sources)


def page_policy() -> str:
    policy = {name: list(sources) for name, sources in PAGE_POLICY.items()}
    policy["style-src"] += sorted(g.get("style_hashes", ()))
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def add_headers(response: Response) -> Response:
    """The security headers of every response; the page policy on HTML, the locked one elsewhere."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    is_page = response.mimetype in ("text/html", "application/xhtml+xml")
    # kept when already there: an answer replayed from the cache (clkg/web/caching.py) has its own, with
    # the style hashes its view allowed
    response.headers.setdefault("Content-Security-Policy", page_policy() if is_page else DOCUMENT_POLICY)
    return response
