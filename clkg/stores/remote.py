"""A triple store that a publisher runs, reached through the SPARQL 1.1 protocols.

Queries go to the query endpoint (SPARQL 1.1 Protocol, POST as a form), updates to the update endpoint,
whole named graphs to the Graph Store HTTP Protocol endpoint (`?graph=<iri>`: PUT replaces, POST adds,
GET reads, DELETE drops). Credentials are answered as the store asks: a 401 names the scheme in
`WWW-Authenticate` (Basic or Digest, RFC 7617 / RFC 7616), and the answer is remembered so that later
requests to the same endpoint need no second round trip. Redirects are refused rather than followed,
so credentials never travel to another address than the configured one.

Every failure is a `RemoteStoreError` that names the endpoint, the HTTP status (or why there was none)
and the store's own message. Loading a built embedded store into a remote one is `clkg/stores/loading.py`.
"""
from __future__ import annotations

import base64
import hashlib
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pyoxigraph as ox

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
MESSAGE_LIMIT = 600  # characters of the store's message kept in an error
LOAD_TIMEOUT = 600.0  # seconds one graph-store request may take while loading
PROBE_ABOVE = 64 * 1024  # bytes of a request body above which the authentication challenge is learnt first


class RemoteStoreError(Exception):
    """A request the remote store refused or did not answer; says which endpoint, which status, and why."""

    def __init__(self, url: str | None, status: int | None, message: str, *, timed_out: bool = False):
        where = urllib.parse.urlsplit(url or "")
        # never the query string or credentials; None for a setting that is missing
        self.endpoint = f"{where.scheme}://{where.netloc}{where.path}" if url else None
        self.status, self.message, self.timed_out = status, message, timed_out
        parts = ["remote store" + (f" {self.endpoint}" if self.endpoint else "")]
        if status is not None:
            parts.append(f"HTTP {status}")
        super().__init__(": ".join(parts + [message]))


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, request, fp, code, msg, headers, new_url):
        raise RemoteStoreError(request.full_url, code, f"the store redirects to {new_url}; configure that address")


def parse_challenges(values: list[str]) -> list[tuple[str, dict]]:
    """The challenges of `WWW-Authenticate` headers as (scheme in lower case, parameters)."""
    challenges: list[tuple[str, dict]] = []
    for value in values:
        for item in urllib.request.parse_http_list(value):
            head, _, rest = item.strip().partition(" ")
            if "=" not in head and head:  # "Digest realm=..." starts a new challenge
                challenges.append((head.lower(), {}))
                item = rest.strip()
            if challenges and "=" in item:
                key, _, raw = item.partition("=")
                raw = raw.strip()
                if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                    raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                challenges[-1][1][key.strip().lower()] = raw
    return challenges


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DIGESTS = {"md5": hashlib.md5, "md5-sess": hashlib.md5, "sha-256": hashlib.sha256, "sha-256-sess": hashlib.sha256}


class Credentials:
    """A user and password, answered to each endpoint as its last challenge asked (Basic or Digest)."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self._challenges: dict[str, tuple[str, dict]] = {}  # endpoint -> (scheme, parameters)
        self.counts: dict[str, int] = {}  # endpoint -> requests answered with its current digest nonce
        self._lock = threading.Lock()  # the nonce count must never repeat, whichever thread asks

    def accept(self, endpoint: str, headers: list[str]) -> bool:
        """Remember the scheme a 401 asks for; False if it asks for none this client speaks."""
        offered = dict(reversed(parse_challenges(headers)))  # the first challenge of a scheme wins
        for scheme in ("digest", "basic"):
            if scheme in offered and (scheme == "basic" or offered[scheme].get("algorithm", "MD5").lower() in _DIGESTS):
                with self._lock:
                    self._challenges[endpoint] = (scheme, offered[scheme])
                    self.counts[endpoint] = 0
                return True
        return False

    def knows(self, endpoint: str) -> bool:
        with self._lock:
            return endpoint in self._challenges

    def header(self, endpoint: str, method: str, url: str) -> str | None:
        """The Authorization header for a request, once the endpoint has said how it wants it."""
        with self._lock:
            scheme, params = self._challenges.get(endpoint, (None, {}))
            if scheme == "digest":
                count = self.counts[endpoint] = self.counts[endpoint] + 1
        if scheme == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            return f"Basic {token}"
        if scheme == "digest":
            return self._digest(params, method, url, count)
        return None

    def _digest(self, params: dict, method: str, url: str, count: int) -> str:
        algorithm = params.get("algorithm", "MD5")
        digest = _DIGESTS[algorithm.lower()]
        hash_hex = lambda text: digest(text.encode("utf-8")).hexdigest()  # noqa: E731
        parts = urllib.parse.urlsplit(url)
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        nonce, realm = params.get("nonce", ""), params.get("realm", "")
        cnonce = os.urandom(8).hex()
        secret = hash_hex(f"{self.user}:{realm}:{self.password}")
        if algorithm.lower().endswith("-sess"):
            secret = hash_hex(f"{secret}:{nonce}:{cnonce}")
        request = hash_hex(f"{method}:{uri}")
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        fields = [f"username={_quote(self.user)}", f"realm={_quote(realm)}", f"nonce={_quote(nonce)}",
                  f"uri={_quote(uri)}", f"algorithm={algorithm}"]
        if "auth" in qops:
            response = hash_hex(f"{secret}:{nonce}:{count:08x}:{cnonce}:auth:{request}")
            fields += ["qop=auth", f"nc={count:08x}", f"cnonce={_quote(cnonce)}"]
        else:
            response = hash_hex(f"{secret}:{nonce}:{request}")
        fields.append(f"response={_quote(response)}")
        if "opaque" in params:
            fields.append(f"opaque={_quote(params['opaque'])}")
        return "Digest " + ", ".join(fields)


@dataclass
class RemoteStore:
    """The endpoints of a remote store and how to reach them."""

    query_url: str
    update_url: str | None = None
    gsp_url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self):
        self._credentials = Credentials(self.user, self.password or "") if self.user else None
        self._opener = urllib.request.build_opener(_RefuseRedirects())

    def __reduce__(self):
        """Sent to a query worker as its settings; the worker learns the challenges again."""
        return (type(self), (self.query_url, self.update_url, self.gsp_url, self.user, self.password, self.timeout))

    @classmethod
    def from_settings(cls, settings) -> "RemoteStore":
        """The store of CLKG_STORE_* settings; says which setting is missing."""
        if not settings.store_query_url:
            raise RemoteStoreError(None, None, "CLKG_STORE=remote needs CLKG_STORE_QUERY_URL")
        if not (settings.store_update_url or settings.store_gsp_url):
            raise RemoteStoreError(None, None, "CLKG_STORE=remote needs CLKG_STORE_GSP_URL or CLKG_STORE_UPDATE_URL "
                                               "to load the graphs")
        return cls(settings.store_query_url, settings.store_update_url or None, settings.store_gsp_url or None,
                   settings.store_user or None, settings.store_password or None, max(settings.query_timeout, 1.0))

    # --- HTTP ---------------------------------------------------------------------------------------
    def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float | None = None) -> tuple[bytes, str]:
        """One request, answering an authentication challenge once; returns (body, media type).

        A store that refuses a request for want of credentials may close the connection while a large
        body is still being sent (Virtuoso does), so before a large body the challenge is learnt with a
        HEAD request, and a connection closed mid-body is retried once after learning it again."""
        endpoint = urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()
        if self._credentials and body and len(body) > PROBE_ABOVE and not self._credentials.knows(endpoint):
            self._learn_challenge(endpoint, url, timeout)
        for attempt in (1, 2):
            request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
            authorization = self._credentials.header(endpoint, method, url) if self._credentials else None
            if authorization:
                request.add_header("Authorization", authorization)
            try:
                with self._opener.open(request, timeout=timeout or self.timeout) as response:
                    content = response.read()
                    self._check_complete(url, response.headers)
                    media_type = response.headers.get_content_type() if response.headers.get("Content-Type") else ""
                    return content, media_type
            except urllib.error.HTTPError as error:
                challenges = error.headers.get_all("WWW-Authenticate") or []
                message = _message(error)
                if error.code == 401 and attempt == 1 and self._credentials and challenges \
                        and self._credentials.accept(endpoint, challenges):
                    continue
                if error.code == 401 and self._credentials:
                    message = f"the store refused the credentials of user {self.user!r} ({message})"
                elif error.code == 401:
                    message = f"the store asks for credentials: set CLKG_STORE_USER and CLKG_STORE_PASSWORD ({message})"
                raise RemoteStoreError(url, error.code, message) from None
            except RemoteStoreError:
                raise
            except (urllib.error.URLError, OSError) as error:
                reason = error.reason if isinstance(error, urllib.error.URLError) else error
                if isinstance(reason, TimeoutError):
                    raise RemoteStoreError(url, None, f"no answer within {timeout or self.timeout:g} s",
                                           timed_out=True) from None
                if isinstance(reason, (ConnectionResetError, BrokenPipeError)):
                    if attempt == 1 and self._credentials and body and self._learn_challenge(endpoint, url, timeout):
                        continue
                    raise RemoteStoreError(url, None, f"the store closed the connection while {len(body or b'')} "
                                                      f"bytes were sent ({reason})") from None
                if isinstance(error, urllib.error.URLError):
                    raise RemoteStoreError(url, None, f"cannot reach the store: {reason}") from None
                raise RemoteStoreError(url, None, f"the connection failed: {error}") from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _learn_challenge(self, endpoint: str, url: str, timeout: float | None) -> bool:
        """Ask the endpoint, with HEAD (no body, no effect), how it wants credentials; True if it said."""
        try:
            with self._opener.open(urllib.request.Request(url, method="HEAD"), timeout=timeout or self.timeout):
                return False  # no credentials needed for this endpoint
        except urllib.error.HTTPError as error:
            challenges = error.headers.get_all("WWW-Authenticate") or []
            return error.code == 401 and bool(challenges) and self._credentials.accept(endpoint, challenges)
        except (urllib.error.URLError, OSError, RemoteStoreError):
            return False

    @staticmethod
    def _check_complete(url: str, headers) -> None:
        """Virtuoso answers a query that passed its own time or row limit with a partial result and says
        so only in `X-SQL-State`; a partial answer is never passed on as if it were the answer."""
        state = headers.get("X-SQL-State")
        if state:
            raise RemoteStoreError(url, 200, f"the store gave a partial result ({state}: "
                                             f"{headers.get('X-SQL-Message', 'no message')})")

    def _form(self, url: str, fields: list[tuple[str, str]], accept: str | None, timeout=None) -> tuple[bytes, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if accept:
            headers["Accept"] = accept
        body = urllib.parse.urlencode(fields).encode("utf-8")
        return self.request("POST", url, body, headers, timeout)

    # --- SPARQL 1.1 Protocol: query ------------------------------------------------------------------
    def query(self, text: str, accept: str = JSON_RESULTS, *, default_graphs=(), named_graphs=()) -> tuple[bytes, str]:
        """Run a query; the store's answer as (body, media type)."""
        fields = [("query", text)] + [("default-graph-uri", g) for g in default_graphs] \
            + [("named-graph-uri", g) for g in named_graphs]
        return self._form(self.query_url, fields, accept)

    def select(self, text: str, **dataset) -> tuple[list[str], list[dict]]:
        """A SELECT query's variables and rows ({variable: pyoxigraph term}, unbound left out)."""
        body, _ = self.query(text, JSON_RESULTS, **dataset)
        results = self._parse_results(body)
        variables = [v.value for v in results.variables]
        rows = [{name: solution[name] for name in variables if solution[name] is not None} for solution in results]
        return variables, rows

    def ask(self, text: str, **dataset) -> bool:
        body, _ = self.query(text, JSON_RESULTS, **dataset)
        return bool(self._parse_results(body))

    def construct(self, text: str, **dataset) -> list[ox.Triple]:
        """A CONSTRUCT (or DESCRIBE) query's triples, read as N-Triples."""
        body, _ = self.query(text, N_TRIPLES, **dataset)
        try:
            return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES, rename_blank_nodes=True)]
        except SyntaxError as error:
            raise RemoteStoreError(self.query_url, 200, f"the store's N-Triples do not parse: {error}") from None

    def _parse_results(self, body: bytes):
        try:
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        except SyntaxError as error:
            raise RemoteStoreError(self.query_url, 200, f"the store's JSON results do not parse: {error}") from None

    # --- SPARQL 1.1 Protocol: update -----------------------------------------------------------------
    def update(self, text: str, timeout: float | None = None) -> None:
        if not self.update_url:
            raise RemoteStoreError(self.query_url, None, "no update endpoint is configured (CLKG_STORE_UPDATE_URL)")
        self._form(self.update_url, [("update", text)], None, timeout)

    # --- Graph Store HTTP Protocol --------------------------------------------------------------------
    def _graph_url(self, graph: str) -> str:
        if not self.gsp_url:
            raise RemoteStoreError(self.query_url, None, "no Graph Store endpoint is configured (CLKG_STORE_GSP_URL)")
        separator = "&" if urllib.parse.urlsplit(self.gsp_url).query else "?"
        return f"{self.gsp_url}{separator}{urllib.parse.urlencode({'graph': graph})}"

    def put_graph(self, graph: str, ntriples: bytes, timeout: float | None = LOAD_TIMEOUT) -> None:
        """Replace a named graph by these N-Triples."""
        self.request("PUT", self._graph_url(graph), ntriples, {"Content-Type": f"{N_TRIPLES}; charset=utf-8"}, timeout)

    def post_graph(self, graph: str, ntriples: bytes, timeout: float | None = LOAD_TIMEOUT) -> None:
        """Add these N-Triples to a named graph."""
        self.request("POST", self._graph_url(graph), ntriples, {"Content-Type": f"{N_TRIPLES}; charset=utf-8"}, timeout)

    def get_graph(self, graph: str) -> list[ox.Triple] | None:
        """A named graph's triples; None when the store does not have it."""
        try:
            body, _ = self.request("GET", self._graph_url(graph), headers={"Accept": N_TRIPLES}, timeout=LOAD_TIMEOUT)
        except RemoteStoreError as error:
            if error.status == 404:
                return None
            raise
        try:
            return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES, rename_blank_nodes=True)]
        except SyntaxError as error:
            raise RemoteStoreError(self.gsp_url, 200, f"the store's N-Triples do not parse: {error}") from None

    def delete_graph(self, graph: str) -> bool:
        """Drop a named graph; False when the store did not have it."""
        try:
            self.request("DELETE", self._graph_url(graph), timeout=LOAD_TIMEOUT)
        except RemoteStoreError as error:
            if error.status == 404:
                return False
            raise
        return True


def _message(error: urllib.error.HTTPError) -> str:
    """The store's own explanation of an error status, shortened, as one line."""
    try:
        text = error.read().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    text = " ".join(text.split()) or (error.reason or "")
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."
