"""Full-text search over the evidence: an SQLite FTS5 index of every concept, study, person and claim text
(queries/internal/search-documents.rq), one index per store generation, in `<data dir>/search/`.

Words are folded (lower case, accents dropped: "hét" finds "het") and stemmed with the Snowball
stemmers (PyStemmer): Dutch for Dutch texts, English for English ones, both for a text without a
language, so that "professionalisering" also finds "professionaliseren" and "networks" finds "network".
The index holds each word's stems and the word itself. A query's words are treated alike and must all
occur, each as any of its stems or as a word of the index's vocabulary that holds one of them (found in
a trigram index of the vocabulary): Dutch writes compounds as one word, and "professionalisering"
must find "lerarenprofessionalisering". FTS5 ranks the matches (bm25), and a field's weight says how
much a hit counts there (a code or a label more than a quote). A query is built from folded words alone,
never from the text as typed, so nothing a person types is read as FTS5 query syntax.

The index of the served generation is made at startup and after every write the web app makes (in
the background), and otherwise when a search first needs it (`index_path`): in a temporary file renamed
into place, under a lock, so that concurrent builders build it once and no search reads half of it;
older generations' indexes, and what a killed builder left, are removed then.
"""
from __future__ import annotations

import fcntl
import functools
import logging
import math
import os
import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import Stemmer

log = logging.getLogger(__name__)
STEMMERS = {"nl": "dutch", "en": "english"}
# how much a hit in a field counts (multiplies FTS5's bm25 score)
FIELD_WEIGHTS = {"code": 4.0, "label": 3.0, "altLabel": 3.0, "name": 3.0, "citation": 3.0, "title": 2.0, "definition": 1.0,
                 "reference": 0.5, "quote": 1.0}
MAX_WORDS = 12          # words of a query that count (a longer query is cut, not refused)
MAX_HITS = 5000         # rows read from the index per query
PREFIX_FROM = 4         # a stem this long or longer also matches words that begin with it
INSIDE_FROM = 5         # ... and words of the vocabulary that hold it (compounds)
MAX_EXPANSIONS = 300    # words of the vocabulary one query word may stand for
WORD = re.compile(r"\w+")
DIRECTORY = "search"
VERSION = "3"  # of the index's tables and terms: an index of another version is not read, but rebuilt


def fold(text: str) -> str:
    """Lower case without accents: "Één" -> "een"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=None)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(STEMMERS[language])


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return WORD.findall(fold(text))


def stems(word: str, languages=tuple(STEMMERS)) -> set[str]:
    """A folded word's stems in the given languages."""
    return {_stemmer(language).stemWord(word) for language in languages}


def terms(text: str, language: str | None) -> str:
    """What the index holds of a text: its words and their stems, in its language or in every language."""
    languages = (language,) if language in STEMMERS else tuple(STEMMERS)
    return " ".join(term for word in words(text) for term in sorted(stems(word, languages) | {word}))


# --- the index -----------------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE documents (id INTEGER PRIMARY KEY, resource TEXT NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
                        text TEXT NOT NULL, language TEXT NOT NULL);
CREATE INDEX documents_resource ON documents (resource);
CREATE VIRTUAL TABLE matching USING fts5(stems, content = '', tokenize = 'unicode61');
CREATE VIRTUAL TABLE vocabulary USING fts5(word, tokenize = 'trigram');
CREATE TABLE about (claim TEXT NOT NULL, concept TEXT NOT NULL);
CREATE INDEX about_claim ON about (claim);
"""


def build(rows, path: Path) -> int:
    """Write an index of `rows` (dicts of resource, kind, field, text, language, about) to `path`: the
    documents, their words and stems in an FTS5 table `matching` (contentless: its row ids are the
    documents'), the vocabulary in a trigram table, and which concepts each claim is about. Returns the
    number of documents."""
    seen, abouts, documents = {}, set(), []
    for row in rows:
        if row.get("about"):
            abouts.add((row["resource"], row["about"]))
        key = (row["resource"], row["field"], row["text"], row["language"] or "")
        if key not in seen:
            seen[key] = len(seen) + 1
            documents.append((seen[key], *key[:2], row["kind"], *key[2:]))
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO documents (id, resource, field, kind, text, language) "
                               "VALUES (?, ?, ?, ?, ?, ?)", documents)
        connection.executemany("INSERT INTO matching (rowid, stems) VALUES (?, ?)",
                               ((d[0], terms(d[4], d[5] or None)) for d in documents))
        vocabulary = sorted({word for d in documents for word in words(d[4])})
        connection.executemany("INSERT INTO vocabulary (word) VALUES (?)", ((word,) for word in vocabulary))
        connection.executemany("INSERT INTO about VALUES (?, ?)", sorted(abouts))
        connection.execute("INSERT INTO matching (matching) VALUES ('optimize')")
        connection.commit()
    finally:
        connection.close()
    return len(documents)


def index_path(data_dir: Path, generation: str, documents) -> Path:
    """The index of `generation`, built from `documents()` (an iterable of rows) if there is none yet."""
    directory = Path(data_dir) / DIRECTORY
    directory.mkdir(exist_ok=True)
    path = directory / f"{generation}.v{VERSION}.sqlite"
    if path.is_file():
        return path
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():  # another process may have built it while this one waited
            for left in directory.glob(".*.tmp"):  # only the lock's holder writes one: a killed builder's
                left.unlink(missing_ok=True)
            temporary = directory / f".{path.name}.{os.getpid()}.tmp"
            try:
                build(documents(), temporary)
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
            for old in directory.glob("*.sqlite"):
                if old != path:
                    old.unlink(missing_ok=True)
    return path


def current_index(settings) -> Path:
    """The index of the served store's current generation (clkg/stores/), built from the store's texts
    (queries/internal/search-documents.rq) if there is none yet."""
    from clkg import namedqueries, resources, stores

    def documents():
        text = namedqueries.parse(resources.internal_query("search-documents"), settings.base_iri).text
        for row in stores.select_all(settings, text):
            value = row["text"]
            yield {"resource": row["resource"].value, "kind": row["kind"].value, "field": row["field"].value,
                   "text": value.value, "language": value.language,
                   "about": row["about"].value if "about" in row else None}

    return index_path(settings.data_dir, stores.generation_info(settings).token, documents)


def refresh_in_background(settings) -> None:
    """After a write: the new generation's index, built on a thread of its own so that the write's answer
    does not wait for it (a search that comes first waits on the lock instead of building it twice)."""
    def build_it():
        try:
            current_index(settings)
        except Exception:  # a fault to look into; the next search tries again
            log.exception("the full-text index of the new generation could not be built")

    threading.Thread(target=build_it, name="full-text index", daemon=True).start()


# --- searching -----------------------------------------------------------------------------------------
@dataclass
class Hit:
    """One resource that matched, with its best text."""

    resource: str
    kind: str
    score: float
    field: str
    text: str
    language: str
    about: list[str] = field(default_factory=list)  # a claim's concepts


def match_expression(connection: sqlite3.Connection, query: str) -> tuple[str, set[str]]:
    """The FTS5 expression for a query (every word, as any of its stems or of the vocabulary's words
    that hold one) and the terms it looks for; "" for a query without words."""
    groups, wanted = [], set()
    for word in words(query)[:MAX_WORDS]:
        variants = stems(word) | {word}
        inside = sorted(v for v in variants if len(v) >= INSIDE_FROM)
        expansions = set()
        if inside:
            expansions = {row[0] for row in connection.execute(
                "SELECT word FROM vocabulary WHERE vocabulary MATCH ? LIMIT ?",
                (" OR ".join(f'"{v}"' for v in inside), MAX_EXPANSIONS))}
        wanted |= variants | expansions
        groups.append("(" + " OR ".join(f'"{term}"' + ("*" if term in variants and len(term) >= PREFIX_FROM else "")
                                        for term in sorted(variants | expansions)) + ")")
    return " AND ".join(groups), wanted


def search(path: Path, query: str) -> tuple[list[Hit], set[str]]:
    """The resources whose texts hold every word of `query`, best first, one Hit per resource, and the
    terms the query looked for (for `marked`)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        expression, wanted = match_expression(connection, query)
        if not expression:
            return [], wanted
        rows = connection.execute(
            "SELECT d.resource, d.kind, d.field, d.text, d.language, bm25(matching) FROM matching "
            "JOIN documents d ON d.id = matching.rowid WHERE matching MATCH ? ORDER BY rank LIMIT ?",
            (expression, MAX_HITS)).fetchall()
        best: dict[str, Hit] = {}
        for resource, kind, field_name, text, language, rank in rows:
            score = -rank * FIELD_WEIGHTS.get(field_name, 1.0)
            if resource not in best or score > best[resource].score:
                best[resource] = Hit(resource, kind, score, field_name, text, language)
        claims = [hit for hit in best.values() if hit.kind == "claim"]
        for start in range(0, len(claims), 500):
            chunk = claims[start:start + 500]
            marks = ",".join("?" * len(chunk))
            by_claim = {hit.resource: hit for hit in chunk}
            for claim, concept in connection.execute(
                    f"SELECT claim, concept FROM about WHERE claim IN ({marks}) ORDER BY claim, concept",
                    [hit.resource for hit in chunk]):
                by_claim[claim].about.append(concept)
    finally:
        connection.close()
    return sorted(best.values(), key=lambda hit: (-hit.score, hit.resource)), wanted


def texts_of(path: Path, resources: list[str]) -> list[tuple[str, str, str, str]]:
    """Every text the index holds of the resources: (resource, field, text, language), for what a result
    shows besides the text that matched (its name, a study's title)."""
    found = []
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for start in range(0, len(resources), 500):
            chunk = resources[start:start + 500]
            found += connection.execute(
                f"SELECT resource, field, text, language FROM documents WHERE resource IN ({','.join('?' * len(chunk))}) "
                "AND field != 'quote' ORDER BY resource, field, text", chunk).fetchall()
    finally:
        connection.close()
    return found


def concepts_by_quotes(hits: list[Hit]) -> dict[str, int]:
    """For every concept that matching quotes are about, the number of those quotes (distinct texts)."""
    quotes: dict[str, set[str]] = {}
    for hit in hits:
        if hit.kind == "claim":
            for concept in hit.about:
                quotes.setdefault(concept, set()).add(hit.text)
    return {concept: len(texts) for concept, texts in quotes.items()}


def marked(text: str, wanted: set[str]) -> list[tuple[str, bool]]:
    """The text in pieces, each marked True where it is a word that the query matched (`wanted`: the terms
    `search` looked for)."""
    pieces, last = [], 0
    for found in WORD.finditer(text):
        if matches(fold(found.group()), wanted):
            if found.start() > last:
                pieces.append((text[last:found.start()], False))
            pieces.append((found.group(), True))
            last = found.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def matches(word: str, wanted: set[str]) -> bool:
    """A folded word is one the index would match for these terms (see match_expression)."""
    return word in wanted or any(stem == want or (len(want) >= PREFIX_FROM and stem.startswith(want))
                                 for stem in stems(word) | {word} for want in wanted)


def snippet(text: str, wanted: set[str], width: int = 240) -> list[tuple[str, bool]]:
    """`marked` pieces of a window of about `width` characters around the first match."""
    pieces = marked(text, wanted)
    offsets, position = [], 0
    for piece, _ in pieces:
        offsets.append(position)
        position += len(piece)
    first = next((offsets[i] for i, (_, hit) in enumerate(pieces) if hit), 0)
    start = max(0, min(first - width // 3, len(text) - width))
    end = start + width
    window = []
    for (piece, hit), offset in zip(pieces, offsets):
        lo, hi = max(offset, start), min(offset + len(piece), end)
        if lo < hi:
            window.append((piece[lo - offset:hi - offset] if not hit else piece, hit))
    if start > 0:
        window.insert(0, ("…", False))
    if end < len(text):
        window.append(("…", False))
    return window


def relevance(score: float) -> float:
    """A score for people and programs: rounded, never negative."""
    return round(max(score, 0.0), 4) if math.isfinite(score) else 0.0
