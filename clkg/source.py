"""The report's text, and finding a claim's quote in it.

A quote counts as verbatim when it stands in the source after whitespace is collapsed and line-end
hyphenation is undone. Because a line-end hyphen can be a real one ("multi-\\nstakeholder") or a
split word ("betrok-\\nken"), the source is searched in both readings.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_HYPHEN_BREAK = re.compile(r"-[ \t]*\n\s*")
_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    """Collapse every run of whitespace to one space (NFC-normalised, trimmed)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@lru_cache(maxsize=4)
def readings(path: str) -> tuple[str, str]:
    """The source as two searchable strings: line-end hyphens dropped, and kept."""
    raw = Path(path).read_text(encoding="utf-8")
    return collapse(_HYPHEN_BREAK.sub("", raw)), collapse(_HYPHEN_BREAK.sub("-", raw))


def quote_in_source(quote: str, path: str) -> bool:
    """True when the quote stands in the source in either reading."""
    needle = collapse(quote)
    return any(needle in reading for reading in readings(str(path)))


def fold(text: str) -> str:
    """Lower-case ASCII form, for matching names whatever their accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
