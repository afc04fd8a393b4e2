"""All configuration in one place; every setting can be overridden by an environment variable.

| variable             | default                                   | meaning                                  |
|----------------------|-------------------------------------------|------------------------------------------|
| CLKG_DATA_DIR        | .data (in the current directory)          | where the on-disk store lives            |
| CLKG_BASE_IRI        | https://w3id.org/clkg/                    | base of every IRI the project mints      |
| CLKG_HOST            | 127.0.0.1                                 | address the server binds to              |
| CLKG_PORT            | 8000                                      | port the server listens on               |
| CLKG_QUERY_TIMEOUT   | 5                                         | seconds a SPARQL query may run           |
| CLKG_RESULT_LIMIT    | 10000                                     | rows (or triples) a query may return     |
| CLKG_SOURCE          | <repo>/../shared/seed/000_f9db65658bbe0a7d.txt | the report's text                   |
| CLKG_SOURCE_DIRS     | the packaged ontology/, kg/evidence/, kg/cases/illustrative/ (clkg.resources) | Turtle folders per named graph, as JSON: {"evidence": ["dir", ...], ...} |
| CLKG_WRITE_TOKEN     | (none: writes are off)                    | the bearer token that may contribute entries (contributor "contributor") |
| CLKG_WRITE_TOKENS    | (none)                                    | several tokens with their contributor names: "token=name,token2=name2" |
| CLKG_MAX_BODY        | 2097152 (2 MB)                            | largest entry body (bytes) the API accepts |
| CLKG_MAX_QUERY       | 262144 (256 KiB)                          | largest SPARQL query (bytes) /sparql accepts, GET or POST |
| CLKG_MAX_QUERY_DEPTH | 300                                       | deepest parse tree of a query (about 70 nested groups) |
| CLKG_WORKER_MEMORY   | 1/8 of the machine's memory, at least 1024 | address space (MiB) of each query worker |
| CLKG_QUERY_WORKERS   | the CPUs this process may use (at least 2) | query worker processes                  |
| CLKG_QUERY_PER_CLIENT | half the workers (at least 1, fewer than the workers) | queries one client may run at once |
| CLKG_QUERY_QUEUE     | 4 x the workers                           | requests that may wait for a worker, all clients together |
| CLKG_QUERY_QUEUE_PER_CLIENT | a quarter of the queue (at least 2) | requests one client may have waiting     |
| CLKG_QUERY_LONG_AFTER | 0.1                                      | seconds after which a query is long: its worker drops to the lowest CPU priority and a spare takes its place |
| CLKG_QUERY_LONG_WORKERS | 2 x the workers                         | long queries run at once; one more stops the one that has run longest (503) |
| CLKG_WEB_PROCESSES   | 1                                         | `clkg serve`'s processes (gunicorn workers); each has its own query workers, answer cache and per-client limits |
| CLKG_TRUSTED_PROXIES | (none: X-Forwarded-For is ignored)        | addresses or networks of reverse proxies whose X-Forwarded-For names the client |
| CLKG_MAX_TRIPLES     | 5000                                      | most triples one entry may hold          |
| CLKG_MAX_DEPTH       | 50                                        | deepest nesting of blank nodes in an entry (JSON-LD and RDF/XML nesting follow) |
| CLKG_VALIDATION_TIMEOUT | 10                                     | seconds reading and validating one entry may take (its own process) |
| CLKG_VALIDATION_MEMORY  | 512                                    | megabytes that process may add to what it starts with |
| CLKG_VALIDATION_WORKERS | 2                                      | entries read or validated at the same time (more: 503) |
| CLKG_CACHE_MB        | 64                                        | answers kept per server process until the store changes (0: off) |
| CLKG_STORE           | embedded                                  | the store: `embedded` (Oxigraph, in the data dir) or `remote` |
| CLKG_STORE_QUERY_URL | (none)                                    | a remote store's SPARQL 1.1 query endpoint |
| CLKG_STORE_UPDATE_URL| (none)                                    | its SPARQL 1.1 update endpoint           |
| CLKG_STORE_GSP_URL   | (none)                                    | its Graph Store HTTP Protocol endpoint   |
| CLKG_STORE_USER      | (none)                                    | user for the remote store (HTTP basic or digest auth, as it asks) |
| CLKG_STORE_PASSWORD  | (none)                                    | that user's password                     |
| CLKG_CRASH_AT        | (none)                                    | tests only: a step of the write protocol at which the process kills itself (clkg/durable.py) |
"""
from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from clkg import resources
from clkg.vocab import CANONICAL_BASE  # the default base IRI (and re-exported)

# The source checkout this module runs from: where the tests, the benchmarks and `../shared` (the
# report's text) are. Nothing the product reads at run time is found through it: see clkg.resources.
ROOT = Path(__file__).resolve().parent.parent
# fault injection for the crash-safety tests; empty (inert) unless a test sets it for a child process
CRASH_AT = os.environ.get("CLKG_CRASH_AT", "")
SOURCE_TEXT = Path(os.environ.get("CLKG_SOURCE", ROOT.parent / "shared" / "seed" / "000_f9db65658bbe0a7d.txt"))


STORES = ("embedded", "remote")


def machine_memory_mib() -> int:
    """The machine's physical memory in MiB (a guess of 8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return 8192


def worker_memory() -> int:
    """CLKG_WORKER_MEMORY, or 1/8 of the machine (at least 1 GiB): several workers and the web process share it."""
    return _env("CLKG_WORKER_MEMORY", max(1024, machine_memory_mib() // 8))


def _env(name: str, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return type(default)(value)
    except ValueError:
        raise SettingError(f"{name}: {value!r} is not a {type(default).__name__}") from None


@dataclass
class Settings:
    """Runtime settings; `Settings.from_env()` reads the environment, tests pass their own."""

    data_dir: Path = field(default_factory=lambda: Path.cwd() / ".data")
    base_iri: str = CANONICAL_BASE
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 5.0
    result_limit: int = 10000
    write_tokens: dict = field(default_factory=dict)  # bearer token -> contributor name; empty: writes off
    max_body: int = 2 * 1024 * 1024
    max_query: int = 256 * 1024
    max_query_depth: int = 300
    query_workers: int = 0           # 0: from the machine (machine_workers)
    query_per_client: int = 0        # 0: half the workers
    query_queue: int = 0             # 0: 4 x the workers
    query_queue_per_client: int = 0  # 0: a quarter of the queue
    query_long_after: float = 0.1
    query_long_workers: int = 0      # 0: 2 x the workers
    trusted_proxies: tuple = ()      # ip_network objects whose X-Forwarded-For is believed
    max_triples: int = 5000
    max_depth: int = 50
    validation_timeout: float = 10.0
    validation_memory: int = 512  # MB
    validation_workers: int = 2
    cache_mb: int = 64
    web_processes: int = 1
    store: str = "embedded"  # or "remote": a store reached through the SPARQL 1.1 protocols (clkg/stores/)
    store_query_url: str = ""
    store_update_url: str = ""
    store_gsp_url: str = ""
    store_user: str = ""
    store_password: str = field(default="", repr=False)
    source_dirs: dict = field(default_factory=resources.source_dirs)

    def __post_init__(self):
        """Fill the pool's figures left at 0 from the machine, and refuse figures that cannot work."""
        self.query_workers = self.query_workers or machine_workers()
        self.query_queue = self.query_queue or 4 * self.query_workers
        self.query_queue_per_client = self.query_queue_per_client or max(2, self.query_queue // 4)
        self.query_per_client = self.query_per_client or max(1, self.query_workers // 2)
        self.query_long_workers = self.query_long_workers or 2 * self.query_workers
        if not 0 < self.query_long_after <= self.query_timeout:
            raise ValueError(f"CLKG_QUERY_LONG_AFTER must be above 0 and at most the query time limit "
                             f"({self.query_timeout:g} s), not {self.query_long_after:g}")
        for name in ("query_workers", "query_queue", "query_queue_per_client", "query_per_client",
                     "query_long_workers", "web_processes"):
            if getattr(self, name) < 1:
                raise ValueError(f"CLKG_{name.upper()} must be at least 1 (got {getattr(self, name)})")
        if 1 < self.query_workers <= self.query_per_client:
            raise ValueError(f"CLKG_QUERY_PER_CLIENT ({self.query_per_client}) must be fewer than the query "
                             f"workers ({self.query_workers}), so that one client can never hold them all")

    @property
    def web_threads(self) -> int:
        """Web threads for `clkg serve`: one per running and per waiting query, and some to spare, so that
        a request over the limits always finds a thread to be refused on at once, and light requests too."""
        return self.query_workers + self.query_long_workers + self.query_queue + 4

    @classmethod
    def from_env(cls) -> "Settings":
        settings = cls._from_env()
        if os.environ.get("CLKG_SOURCE_DIRS"):
            settings.source_dirs = parse_source_dirs(os.environ["CLKG_SOURCE_DIRS"])
        return settings

    @classmethod
    def _from_env(cls) -> "Settings":
        return cls(
            data_dir=Path(_env("CLKG_DATA_DIR", str(Path.cwd() / ".data"))),
            base_iri=_env("CLKG_BASE_IRI", CANONICAL_BASE),
            host=_env("CLKG_HOST", "127.0.0.1"),
            port=_env("CLKG_PORT", 8000),
            query_timeout=_env("CLKG_QUERY_TIMEOUT", 5.0),
            result_limit=_env("CLKG_RESULT_LIMIT", 10000),
            write_tokens=parse_tokens(os.environ.get("CLKG_WRITE_TOKEN", ""), os.environ.get("CLKG_WRITE_TOKENS", "")),
            max_body=_env("CLKG_MAX_BODY", 2 * 1024 * 1024),
            max_query=_env("CLKG_MAX_QUERY", 256 * 1024),
            max_query_depth=_env("CLKG_MAX_QUERY_DEPTH", 300),
            query_workers=_env("CLKG_QUERY_WORKERS", 0),
            query_per_client=_env("CLKG_QUERY_PER_CLIENT", 0),
            query_queue=_env("CLKG_QUERY_QUEUE", 0),
            query_queue_per_client=_env("CLKG_QUERY_QUEUE_PER_CLIENT", 0),
            query_long_after=_env("CLKG_QUERY_LONG_AFTER", 0.1),
            query_long_workers=_env("CLKG_QUERY_LONG_WORKERS", 0),
            trusted_proxies=parse_networks(os.environ.get("CLKG_TRUSTED_PROXIES", "")),
            max_triples=_env("CLKG_MAX_TRIPLES", 5000),
            max_depth=_env("CLKG_MAX_DEPTH", 50),
            validation_timeout=_env("CLKG_VALIDATION_TIMEOUT", 10.0),
            validation_memory=_env("CLKG_VALIDATION_MEMORY", 512),
            validation_workers=_env("CLKG_VALIDATION_WORKERS", 2),
            cache_mb=_env("CLKG_CACHE_MB", 64),
            web_processes=_env("CLKG_WEB_PROCESSES", 1),
            store=_store_kind(os.environ.get("CLKG_STORE") or "embedded"),
            store_query_url=os.environ.get("CLKG_STORE_QUERY_URL", ""),
            store_update_url=os.environ.get("CLKG_STORE_UPDATE_URL", ""),
            store_gsp_url=os.environ.get("CLKG_STORE_GSP_URL", ""),
            store_user=os.environ.get("CLKG_STORE_USER", ""),
            store_password=os.environ.get("CLKG_STORE_PASSWORD", ""),
        )

    def graph_iri(self, name: str) -> str:
        return f"{self.base_iri}graph/{name}"


class SettingError(ValueError):
    """A setting from the environment that cannot be used; the message names the variable and the problem."""


def parse_source_dirs(text: str) -> dict[str, list[Path]]:
    """CLKG_SOURCE_DIRS: {"graph": ["folder", ...], ...}, every folder an existing directory."""
    name = "CLKG_SOURCE_DIRS"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingError(f"{name} is not JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(value, dict) or not value:
        raise SettingError(f'{name} must be a JSON object of named graphs, e.g. {{"evidence": ["kg/evidence"]}}')
    dirs = {}
    for graph, folders in value.items():
        if not graph or not isinstance(folders, list) or not all(isinstance(f, str) and f for f in folders):
            raise SettingError(f"{name}: the graph {graph!r} must have a list of folder names")
        dirs[graph] = [Path(folder) for folder in folders]
        for folder in dirs[graph]:
            if not folder.is_dir():
                what = "is not a folder" if folder.exists() else "does not exist"
                raise SettingError(f"{name}: the folder {str(folder)!r} of the graph {graph!r} {what}")
    return dirs


def machine_workers() -> int:
    """Query workers for this machine: the CPUs this process may run on (not every CPU of the host when
    the process is pinned to some), at least 2 so that one client's query never takes the only worker."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(2, cpus)


def parse_networks(text: str) -> tuple:
    """CLKG_TRUSTED_PROXIES: comma-separated addresses or networks (`10.0.0.5, 192.168.0.0/24, ::1`)."""
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"CLKG_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(networks)


def _store_kind(value: str) -> str:
    if value.strip().lower() not in STORES:
        raise SettingError(f"CLKG_STORE: {value!r} is not one of {', '.join(STORES)}")
    return value.strip().lower()


def parse_tokens(single: str = "", several: str = "") -> dict:
    """Write tokens and their contributors: CLKG_WRITE_TOKEN (one token, contributor "contributor") and
    CLKG_WRITE_TOKENS ("token=name,token2=name2"). A contributor name belongs to one token only, so that
    "deleted by the same token" and "deleted by the same contributor" are the same rule."""
    tokens = {}
    if single.strip():
        tokens[single.strip()] = "contributor"
    for item in filter(None, (part.strip() for part in several.split(","))):
        token, _, name = item.partition("=")
        tokens[token.strip()] = name.strip() or "contributor"
    names = list(tokens.values())
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SettingError(f"CLKG_WRITE_TOKEN(S): the contributor name {duplicates[0]!r} is given to more than one token")
    if any(not token for token in tokens):
        raise SettingError("CLKG_WRITE_TOKENS: an empty token")
    return tokens
