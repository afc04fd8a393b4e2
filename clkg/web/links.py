"""IRIs on this server: the resource a path stands for, where a link to an IRI goes, and short forms.

The resource IRI of a request is the base IRI + the request path without its leading slash, whatever
the host, so the project's IRIs link to their page here; other IRIs link out only when they are
absolute http(s) IRIs. Every template links IRIs with the one helper `iri_link`.
"""
from __future__ import annotations

import re

from flask import current_app, request
from markupsafe import Markup, escape

from clkg import vocab
from clkg.iris import Rebaser
from clkg.web import security
from clkg.web.context import base

# what may stand in an IRI (RFC 3987 excludes spaces, <>"{}|^` and backslashes)
VALID_IRI = re.compile(r"[^\s<>\"{}|^`\\]+")


def rebaser() -> Rebaser:
    """Canonical IRIs (sources, queries) to the deployment's and back (clkg.iris), made once per app."""
    if "clkg-rebaser" not in current_app.extensions:
        current_app.extensions["clkg-rebaser"] = Rebaser(base())
    return current_app.extensions["clkg-rebaser"]


def rebase(iri: str) -> str:
    """A canonical IRI (clkg.vocab) as this deployment writes it."""
    return rebaser().out(iri)


def prefixes() -> dict[str, str]:
    """The prefix map of clkg.vocab with the project's namespaces under the deployment's base."""
    if "clkg-prefixes" not in current_app.extensions:
        current_app.extensions["clkg-prefixes"] = {name: rebase(ns) for name, ns in vocab.PREFIXES.items()}
    return dict(current_app.extensions["clkg-prefixes"])


def _longest_first() -> list[tuple[str, str]]:
    """The prefix map's (name, namespace) pairs, the longest namespace first (curie's search order)."""
    if "clkg-prefixes-longest-first" not in current_app.extensions:
        current_app.extensions["clkg-prefixes-longest-first"] = sorted(prefixes().items(), key=lambda item: -len(item[1]))
    return current_app.extensions["clkg-prefixes-longest-first"]


def iri_for_path(path: str) -> str:
    """The resource IRI a request path stands for: the base IRI + the path without its leading slash."""
    return base() + path.lstrip("/")


def local_path(iri: str) -> str | None:
    """The path on this server of an IRI under the base (None for other IRIs)."""
    if iri.startswith(base()):
        return "/" + iri[len(base()):]
    return None


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
    """prefix:local for an IRI in a known namespace (the longest that fits), else the IRI."""
    iri = str(iri)
    for name, namespace in _longest_first():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{name}:{iri[len(namespace):]}"
    return iri


def local_name(iri: str) -> str:
    return re.split(r"[/#]", str(iri).rstrip("/"))[-1]
