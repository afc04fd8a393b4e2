"""The interface in English and Dutch.

The language of a page is chosen by `?lang=en|nl`, then by the `clkg_lang` cookie that a `?lang=`
leaves behind (so the choice holds while browsing), then by the Accept-Language header; English
otherwise. The strings live in `translations/<lang>.json` (flat keys, `{name}` placeholders), not in
Python. Data literals are shown in the chosen language when the data has it, in the other otherwise.
"""
from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlencode

from flask import Blueprint, g, has_request_context, request

from clkg import resources

LANGUAGES = ("en", "nl")
DEFAULT = "en"
COOKIE = "clkg_lang"
FOLDER = resources.translations()

blueprint = Blueprint("i18n", __name__)


@lru_cache(maxsize=None)
def strings(lang: str) -> dict:
    return json.loads((FOLDER / f"{lang}.json").read_text(encoding="utf-8"))


def language() -> str:
    """The interface language of the current request."""
    if not has_request_context():
        return DEFAULT
    if "clkg_lang" in g:
        return g.clkg_lang
    chosen = request.args.get("lang", "").lower()
    if chosen not in LANGUAGES:
        chosen = request.cookies.get(COOKIE, "").lower()
    if chosen not in LANGUAGES:
        chosen = request.accept_languages.best_match(LANGUAGES) or DEFAULT
    g.clkg_lang = chosen
    return chosen


def t(key: str, **values) -> str:
    """The interface string `key` in the current language (English, then the key, when missing)."""
    lang = language()
    text = strings(lang).get(key)
    if text is None:
        text = strings(DEFAULT).get(key, key)
    return text.format(**values) if values else text


def switch_url(lang: str) -> str:
    """The current page in another language: a query-only link, so that it stays on this page whatever
    the request's path holds (a path such as `/\\host/x` would otherwise be a link to another site)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"?{urlencode(args, doseq=True)}"


@blueprint.app_context_processor
def inject():
    return {"t": t, "lang": language(), "languages": LANGUAGES, "switch_url": switch_url}


@blueprint.after_app_request
def remember(response):
    chosen = request.args.get("lang", "").lower()
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        response.headers.setdefault("Content-Language", language())
    return response
