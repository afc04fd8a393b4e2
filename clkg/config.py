"""All configuration in one place; every setting can be overridden by an environment variable.

| variable             | default                                   | meaning                                  |
|----------------------|-------------------------------------------|------------------------------------------|
| CLKG_DATA_DIR        | <repo>/.data                              | where the on-disk store lives            |
| CLKG_BASE_IRI        | https://w3id.org/clkg/                    | base of every IRI the project mints      |
| CLKG_HOST            | 127.0.0.1                                 | address the server binds to              |
| CLKG_PORT            | 8000                                      | port the server listens on               |
| CLKG_QUERY_TIMEOUT   | 5                                         | seconds a SPARQL query may run           |
| CLKG_RESULT_LIMIT    | 10000                                     | rows (or triples) a query may return     |
| CLKG_SOURCE          | <repo>/../shared/seed/000_f9db65658bbe0a7d.txt | the report's text                   |
| CLKG_SOURCE_DIRS     | ontology/, kg/evidence/, kg/cases/illustrative/ | Turtle folders per named graph, as JSON: {"evidence": ["dir", ...], ...} |
| CLKG_WRITE_TOKEN     | (none: writes are off)                    | the bearer token that may contribute entries (contributor "contributor") |
| CLKG_WRITE_TOKENS    | (none)                                    | several tokens with their contributor names: "token=name,token2=name2" |
| CLKG_MAX_BODY        | 2097152 (2 MB)                            | largest entry body (bytes) the API accepts |
| CLKG_CACHE_MB        | 64                                        | answers kept per server process until the store changes (0: off) |
| CLKG_STORE           | embedded                                  | the store: `embedded` (Oxigraph, in the data dir) or `remote` |
| CLKG_STORE_QUERY_URL | (none)                                    | a remote store's SPARQL 1.1 query endpoint |
| CLKG_STORE_UPDATE_URL| (none)                                    | its SPARQL 1.1 update endpoint           |
| CLKG_STORE_GSP_URL   | (none)                                    | its Graph Store HTTP Protocol endpoint   |
| CLKG_STORE_USER      | (none)                                    | user for the remote store (HTTP basic or digest auth, as it asks) |
| CLKG_STORE_PASSWORD  | (none)                                    | that user's password                     |
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from clkg.vocab import CANONICAL_BASE  # the default base IRI (and re-exported)

ROOT = Path(__file__).resolve().parent.parent
SOURCE_TEXT = Path(os.environ.get("CLKG_SOURCE", ROOT.parent / "shared" / "seed" / "000_f9db65658bbe0a7d.txt"))


STORES = ("embedded", "remote")


def _env(name: str, default):
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


@dataclass
class Settings:
    """Runtime settings; `Settings.from_env()` reads the environment, tests pass their own."""

    data_dir: Path = ROOT / ".data"
    base_iri: str = CANONICAL_BASE
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 5.0
    result_limit: int = 10000
    write_tokens: dict = field(default_factory=dict)  # bearer token -> contributor name; empty: writes off
    max_body: int = 2 * 1024 * 1024
    cache_mb: int = 64
    store: str = "embedded"  # or "remote": a store reached through the SPARQL 1.1 protocols (clkg/stores/)
    store_query_url: str = ""
    store_update_url: str = ""
    store_gsp_url: str = ""
    store_user: str = ""
    store_password: str = field(default="", repr=False)
    source_dirs: dict = field(default_factory=lambda: {
        "ontology": [ROOT / "ontology"],
        "evidence": [ROOT / "kg" / "evidence"],
        "illustrative": [ROOT / "kg" / "cases" / "illustrative"],
    })

    @classmethod
    def from_env(cls) -> "Settings":
        settings = cls._from_env()
        if os.environ.get("CLKG_SOURCE_DIRS"):
            dirs = json.loads(os.environ["CLKG_SOURCE_DIRS"])
            settings.source_dirs = {graph: [Path(d) for d in folders] for graph, folders in dirs.items()}
        return settings

    @classmethod
    def _from_env(cls) -> "Settings":
        return cls(
            data_dir=Path(_env("CLKG_DATA_DIR", str(ROOT / ".data"))),
            base_iri=_env("CLKG_BASE_IRI", CANONICAL_BASE),
            host=_env("CLKG_HOST", "127.0.0.1"),
            port=_env("CLKG_PORT", 8000),
            query_timeout=_env("CLKG_QUERY_TIMEOUT", 5.0),
            result_limit=_env("CLKG_RESULT_LIMIT", 10000),
            write_tokens=parse_tokens(os.environ.get("CLKG_WRITE_TOKEN", ""), os.environ.get("CLKG_WRITE_TOKENS", "")),
            max_body=_env("CLKG_MAX_BODY", 2 * 1024 * 1024),
            cache_mb=_env("CLKG_CACHE_MB", 64),
            store=_store_kind(_env("CLKG_STORE", "embedded")),
            store_query_url=_env("CLKG_STORE_QUERY_URL", ""),
            store_update_url=_env("CLKG_STORE_UPDATE_URL", ""),
            store_gsp_url=_env("CLKG_STORE_GSP_URL", ""),
            store_user=_env("CLKG_STORE_USER", ""),
            store_password=os.environ.get("CLKG_STORE_PASSWORD", ""),
        )

    def graph_iri(self, name: str) -> str:
        return f"{self.base_iri}graph/{name}"


def _store_kind(value: str) -> str:
    if value.strip().lower() not in STORES:
        raise ValueError(f"CLKG_STORE: {value!r} is not one of {', '.join(STORES)}")
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
        raise ValueError(f"CLKG_WRITE_TOKEN(S): the contributor name {duplicates[0]!r} is given to more than one token")
    if any(not token for token in tokens):
        raise ValueError("CLKG_WRITE_TOKENS: an empty token")
    return tokens
