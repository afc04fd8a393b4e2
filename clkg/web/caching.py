"""Answers cached by store generation, with validators: `ETag`, `Last-Modified`, `304 Not Modified`.

Every read the server answers (named queries, pages, linked-data documents, SPARQL GETs) depends only on
the request and on the store, and the store changes only at a build, an ingest or a deletion, each of
which changes the store's generation (clkg/store.py). So an answer is kept, per process, under
(generation, URL, the request headers it varies on) and served again until the generation changes: a
write invalidates at once, with nothing to purge, because the next request looks under the new generation.

The validators cost nothing to compute: the ETag is a digest of the generation and the cache key (the
same request in the same generation always gets the same bytes), and Last-Modified is the time the
generation began. `If-None-Match` (or `If-Modified-Since`) that still holds gets a 304 before any
work is done. Requests that carry credentials, writes and non-200 answers are never cached. The cache
is bounded in bytes (`CLKG_CACHE_MB`, 0 turns it off) and forgets the least recently used answers first.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from flask import Flask, Response, g, request

from clkg import stores

VARY_ON = ("Accept", "Accept-Language")  # the request headers an answer may depend on
LARGEST_SHARE = 8  # one answer may take at most 1/8 of the cache
UNCACHED_PREFIXES = ("/api/entries", "/api/validate")  # contributions: never cached
LANGUAGE_COOKIE = "clkg_lang"  # clkg/web/i18n.py


class ResponseCache:
    """A thread-safe LRU of finished responses, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key, status: int, headers: list, body: bytes) -> None:
        cost = len(body) + 512
        if cost > self.max_bytes // LARGEST_SHARE:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (status, headers, body)
            self.size += cost
            while self.size > self.max_bytes and self._items:
                _, (_, _, old) = self._items.popitem(last=False)
                self.size -= len(old) + 512


class Generation:
    """The store's generation as a short token, and the time it began (`stores.generation_info`).
    Read at every request: a write in another process must be seen by the very next request."""

    def __init__(self, settings):
        self.settings = settings

    def current(self) -> tuple[str, float]:
        info = stores.generation_info(self.settings)
        return info.token, info.changed


def _cacheable_request() -> bool:
    return (request.method in ("GET", "HEAD") and "Authorization" not in request.headers
            and not request.path.startswith(UNCACHED_PREFIXES))


def _key(generation: str) -> tuple:
    language = request.cookies.get(LANGUAGE_COOKIE, "")  # the only cookie an answer depends on
    return ((generation, request.method == "HEAD", request.url, language)
            + tuple(request.headers.get(h, "") for h in VARY_ON))


def _etag(key: tuple) -> str:
    return hashlib.sha256(repr(key[:1] + key[2:]).encode()).hexdigest()[:24]


def _not_modified(etag: str, modified: float) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.headers.get("If-Modified-Since")
    if since and modified:
        try:
            return parsedate_to_datetime(since).timestamp() >= int(modified)
        except (TypeError, ValueError):
            return False
    return False


def install(app: Flask, settings, max_bytes: int) -> ResponseCache | None:
    """Register the cache's hooks. Call it first in the factory: Flask runs `after_request` hooks in
    reverse order, so the one registered first sees the response last, with every header set."""
    generation = Generation(settings)
    cache = ResponseCache(max_bytes) if max_bytes > 0 else None
    app.extensions["clkg-cache"] = cache

    @app.before_request
    def answer_from_cache():
        if not _cacheable_request():
            return None
        token, modified = generation.current()
        key = _key(token)
        g.cache_key, g.cache_modified = key, modified
        etag = _etag(key)
        if _not_modified(etag, modified):
            g.cache_hit = True
            response = Response(status=304)
            response.set_etag(etag)
            return response
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            return None
        g.cache_hit = True
        status, headers, body = cached
        return Response(body, status=status, headers=headers)

    @app.after_request
    def keep_and_validate(response: Response):
        key = g.get("cache_key")
        if key is None or response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return response
        if "no-store" in (response.headers.get("Cache-Control") or ""):
            return response
        if not response.get_etag()[0]:
            response.set_etag(_etag(key))
        modified = g.get("cache_modified")
        if modified and "Last-Modified" not in response.headers:
            response.headers["Last-Modified"] = format_datetime(datetime.fromtimestamp(int(modified), timezone.utc),
                                                                usegmt=True)
        vary = {v.strip() for v in (response.headers.get("Vary") or "").split(",") if v.strip()}
        response.headers["Vary"] = ", ".join(sorted(vary | set(VARY_ON)))
        if cache is not None and not g.get("cache_hit") and "Set-Cookie" not in response.headers:
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "x-request-id"]
            cache.put(key, response.status_code, headers, response.get_data())
        return response

    return cache
