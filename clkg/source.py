"""The report's text without its page furniture, and finding a claim's quote in it.

The text extraction of the report puts a blank line after every line, starts a page with a stray
space and leaves some page numbers on lines of their own. The cleaned source drops all of that and
joins the remaining lines into one string, so that a sentence reads whole across a page break; every
position in it maps back to the line of the original file. A line-end hyphen can be a real one
("multi-\\nstakeholder") or a split word ("betrok-\\nken"), so the cleaned source exists in two
readings: the hyphen dropped, and kept.

The cleaned text is also cut into segments: sentences, list items (bullets, "(1)", "1.") and
headings. A quote is whole when it starts where a segment starts and ends where one ends.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ELLIPSIS = " […] "  # joins the parts of a quote that leaves out a run of list items
MAX_ELISION = 1500  # characters a quote may leave out between two parts: a list's lead-in and its item
_SPACE = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"\d{1,3}")
_LIST_ITEM = re.compile(r"(?:•|\(\d{1,2}\)\s|\d{1,2}\.\s)")
_HEADING = re.compile(r"(?:Hoofdstuk \d+:|\d+(?:\.\d+)+\s+\S|Bibliografie$|Inleiding$|Beleidssamenvatting$)")
_SENTENCE_END = re.compile(r"[.!?][’”')]*\s+(?=[A-ZÀ-Ý0-9‘“(•])")
# Words after which a period does not end a sentence (Dutch and English abbreviations of the report).
_ABBREVIATIONS = {"al", "bv", "cf", "vb", "o.a", "o.m", "m.b.t", "i.e", "e.g", "enz", "incl", "d.w.z", "nl",
                  "ca", "resp", "vgl", "dr", "prof", "p", "pp", "blz", "nr", "vs", "ed", "eds", "red", "m.a.w",
                  "i.s.m", "t.a.v", "t.o.v", "o.i.v", "zgn", "evt", "fig", "hfst", "dhr", "mevr"}
_SHORT_LINE = 60  # a line this short that ends without punctuation ends its block (a list item, a verse)


_NAME_PARTICLES = {"et", "al", "en", "and", "van", "de", "den", "der", "von"}


def collapse(text: str) -> str:
    """Collapse every run of whitespace to one space (NFC-normalised, trimmed)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def is_furniture(line: str) -> bool:
    """A line that is page layout, not text: blank, or a page number alone."""
    stripped = line.strip()
    return not stripped or bool(_PAGE_NUMBER.fullmatch(stripped))


@dataclass(frozen=True, repr=False)
class Reading:
    """The cleaned text in one hyphen reading, with the original line at every position."""
    text: str
    starts: tuple[int, ...]        # offset in text where each kept line begins
    line_numbers: tuple[int, ...]  # the original (1-based) line number of each kept line
    segment_starts: frozenset[int]
    segment_ends: frozenset[int]
    item_starts: frozenset[int]    # where a list item (bullet, "(1)", "1.") begins

    def line_at(self, offset: int) -> int:
        """The original line number of the character at offset."""
        return self.line_numbers[bisect.bisect_right(self.starts, offset) - 1]

    def is_whole(self, start: int, end: int) -> bool:
        """True when text[start:end] starts and ends at segment boundaries."""
        return start in self.segment_starts and end in self.segment_ends

    def segment_around(self, start: int, end: int) -> tuple[int, int]:
        """The smallest run of whole segments that holds text[start:end]."""
        begin = max((s for s in self.segment_starts if s <= start), default=0)
        finish = min((e for e in self.segment_ends if e >= end), default=len(self.text))
        return begin, finish


@dataclass(frozen=True)
class Located:
    """Where a quote stands in the cleaned source."""
    reading: Reading
    start: int
    end: int

    @property
    def lines(self) -> tuple[int, int]:
        """First and last original line of the quote."""
        return self.reading.line_at(self.start), self.reading.line_at(self.end - 1)

    @property
    def whole(self) -> bool:
        return self.reading.is_whole(self.start, self.end)


def _abbreviation_before(text: str, period: int) -> bool:
    """True when the period at this offset closes an abbreviation or an initial, not a sentence."""
    word = re.search(r"[\w.]*$", text[max(0, period - 20):period]).group(0).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(\w\.)+\w", word))


def _build(kept: list[tuple[int, str]], drop_hyphen: bool) -> Reading:
    pieces: list[str] = []
    starts: list[int] = []
    segment_starts: set[int] = set()
    segment_ends: set[int] = set()
    offset = 0
    item_starts: set[int] = set()
    heading_lines_left = 0  # a chapter heading runs over two lines; the text after a heading starts anew
    block_ended = False
    for number, line in kept:
        if pieces:
            if pieces[-1].endswith("-"):
                if drop_hyphen:
                    pieces[-1] = pieces[-1][:-1]
                    offset -= 1
            else:
                pieces.append(" ")
                offset += 1
        starts.append(offset)
        heading = bool(_HEADING.match(line))
        item = _LIST_ITEM.match(line)
        if heading or heading_lines_left or item or (block_ended and line[:1].isupper()):
            segment_starts.add(offset)
            if offset:
                segment_ends.add(offset - 1 if pieces[-1] == " " else offset)
        if item:
            item_starts.add(offset)
            segment_starts.add(offset + len(item.group(0).rstrip()) + (1 if line[len(item.group(0).rstrip()):][:1] == " " else 0))
        heading_lines_left = (2 if line.startswith("Hoofdstuk") else 1) if heading else max(0, heading_lines_left - 1)
        block_ended = len(line) < _SHORT_LINE and not line.endswith((",", ";", ":", "-", "(", "&"))
        pieces.append(line)
        offset += len(line)
    text = "".join(pieces)
    for match in _SENTENCE_END.finditer(text):
        if text[match.start()] == "." and _abbreviation_before(text, match.start()):
            continue
        closing = match.start() + 1 + len(match.group(0)[1:].rstrip())
        segment_ends.add(closing)
        segment_starts.add(match.end())
    segment_starts.add(0)
    segment_ends.add(len(text))
    return Reading(text, tuple(starts), tuple(n for n, _ in kept), frozenset(segment_starts), frozenset(segment_ends),
                   frozenset(item_starts))


@dataclass(frozen=True, repr=False)
class CleanedSource:
    """The report's text without page furniture, in both hyphen readings."""
    dropped: Reading
    kept: Reading

    def locate_all(self, quote: str) -> list[Located]:
        """Every place the quote stands, hyphen-dropped reading first."""
        needle = collapse(quote)
        found = []
        for reading in (self.dropped, self.kept):
            at = reading.text.find(needle)
            while needle and at >= 0:
                found.append(Located(reading, at, at + len(needle)))
                at = reading.text.find(needle, at + 1)
        return found

    def locate(self, quote: str) -> Located | None:
        """The first place the quote stands, preferring a whole-segment match."""
        places = self.locate_all(quote)
        return next((p for p in places if p.whole), places[0] if places else None)

    def locate_parts(self, quote: str) -> list[Located] | None:
        """Where each part of a quote stands, in order and in one reading; None when a part is missing.

        A quote may leave out the text between a list's lead-in and the one item it needs: the parts
        are then joined by ELLIPSIS, each part is verbatim on its own, and each begins at most
        MAX_ELISION characters after the one before (so that two sentences from different places of
        the report never pass for one statement).
        """
        parts = quote.split(ELLIPSIS)
        for reading in (self.dropped, self.kept):
            found, after = [], 0
            for part in parts:
                needle = collapse(part)
                places = [p for p in self.locate_all(part) if p.reading is reading and p.start >= after
                          and (not found or p.start - after <= MAX_ELISION)] if needle else []
                place = next((p for p in places if p.whole), places[0] if places else None)
                if place is None:
                    break
                found.append(place)
                after = place.end
            else:
                return found
        return None


@lru_cache(maxsize=4)
def cleaned(path: str) -> CleanedSource:
    """The source file, cleaned (cached per path)."""
    raw = Path(path).read_text(encoding="utf-8").splitlines()
    kept = [(number, collapse(line)) for number, line in enumerate(raw, start=1) if not is_furniture(line)]
    return CleanedSource(_build(kept, drop_hyphen=True), _build(kept, drop_hyphen=False))


def quote_in_source(quote: str, path: str) -> bool:
    """True when every part of the quote stands, in order, in the cleaned source."""
    return cleaned(str(path)).locate_parts(quote) is not None


def quote_lines(quote: str, path: str) -> tuple[int, int] | None:
    """The first and last line of the original source file that the quote spans."""
    parts = cleaned(str(path)).locate_parts(quote)
    return (parts[0].lines[0], parts[-1].lines[1]) if parts else None


def citation_trouble(quote: str) -> str | None:
    """Why a quote does not carry a statement of its own, or None when it does.

    The parenthesised parts (citations, mostly) are set aside; what is left must hold words. A
    closing parenthesis before any opening one means the quote starts inside a citation, an
    unclosed one that it ends inside a citation.
    """
    depth, outside = 0, []
    for char in quote:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return "starts inside a parenthesised citation"
        elif depth == 0:
            outside.append(char)
    if depth > 0:
        return "ends inside a parenthesised citation"
    words = [w for w in re.findall(r"[^\W\d_]{2,}", "".join(outside)) if w[0].islower() and w not in _NAME_PARTICLES]
    if len(words) < 2:
        return "has no words of its own beside its citations"
    return None


def fold(text: str) -> str:
    """Lower-case ASCII form, for matching names whatever their accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
