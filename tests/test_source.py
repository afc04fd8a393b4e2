"""The cleaned source: the report without page furniture, mapped back to its lines, and the quote rules.

The expectations are read from the raw file by the test itself (line by line, independently of the
cleaning code), so a cleaning that loses, reorders or misplaces text fails here.
"""
from __future__ import annotations

import rdflib
import pytest

from clkg import evidence
from clkg.source import ELLIPSIS, MAX_ELISION, citation_trouble, cleaned, collapse

# 1.1, a sentence that runs over a page break (the page ends after "Suijs,").
ACROSS_PAGE_BREAK = ("Er circuleren diverse theoretische concepten die expliciet richting geven aan het horizontaal leren "
                     "(vaak van lerend netwerk naar lerende organisatie): terugkomeffect, transfer, return-on-investment, "
                     "terugverdientijd van de investering en praktijkdeprivatisering (Schiff et al., 2015; Suijs, 1999; "
                     "Verbiest, 2002; Kirkpatrick, 2006; Merchie et al., 2016; Odenthal et al., 2011; Feys & Devos, 2015).")


@pytest.fixture(scope="module")
def raw_lines(source_text):
    return source_text.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def source(source_text):
    return cleaned(str(source_text))


def test_page_furniture_is_gone_and_every_text_line_is_kept_in_order(source, raw_lines):
    text_lines = [(n, collapse(line)) for n, line in enumerate(raw_lines, start=1)
                  if line.strip() and not line.strip().isdigit()]
    reading = source.kept
    assert list(reading.line_numbers) == [n for n, _ in text_lines]
    for (number, line), start in zip(text_lines, reading.starts):
        assert reading.text[start:start + len(line)] == line, f"line {number} is not where its map says"
    page_numbers = [n for n, line in enumerate(raw_lines, start=1) if line.strip().isdigit()]
    assert page_numbers and not set(page_numbers) & set(reading.line_numbers)
    assert "\n" not in reading.text and "  " not in reading.text


def test_a_sentence_across_a_page_break_is_one_whole_quote_mapped_to_its_lines(source, raw_lines):
    place = source.locate(ACROSS_PAGE_BREAK)
    assert place is not None and place.whole
    first, last = place.lines
    assert raw_lines[first - 1].strip().startswith("Er circuleren diverse theoretische concepten")
    assert raw_lines[last - 1].strip().startswith("2015). Het valt op")
    between = [line for line in raw_lines[first - 1:last] if line.strip()]
    assert any(line.startswith(" ") for line in between[1:]), "the sentence does not cross a page break"


def test_hyphenated_line_ends_read_both_ways(source):
    """'return-on-\ninvestment' is a real hyphen, 'betrok-\nken' a split word: each reading serves one."""
    assert "return-on-investment" in source.kept.text and "return-oninvestment" in source.dropped.text
    assert source.locate(ACROSS_PAGE_BREAK).reading is source.kept


@pytest.mark.parametrize("fragment, whole", [
    (ACROSS_PAGE_BREAK, True),
    (ACROSS_PAGE_BREAK[:-1], False),                        # without its final period
    (ACROSS_PAGE_BREAK[4:], False),                         # starts inside the sentence
    ("1999; Verbiest, 2002; Kirkpatrick, 2006; Merchie et al., 2016; Odenthal et al., 2011; Feys & Devos, 2015).", False),
])
def test_whole_sentences(source, fragment, whole):
    place = source.locate(fragment)
    assert place is not None and place.whole is whole


@pytest.mark.parametrize("quote, trouble", [
    ("1999; Verbiest, 2002; Kirkpatrick, 2006; Feys & Devos, 2015).", "starts inside"),
    ("terugverdientijd van de investering en praktijkdeprivatisering (Schiff et al., 2015; Suijs,", "ends inside"),
    ("(Theiss & Grigsby, 2010; Johnson & Rakestraw, 2015).", "no words of its own"),
    ("Onderwijs op Maat (van Amersfoort et al., 2013)", "no words of its own"),
    ("Merchie et al. (2016)", "no words of its own"),
    ("Feys en Devos (2015) bestuderen incentivized netwerking binnen scholengemeenschappen.", None),
    ("In (h)echte partnerschappen zijn er gemeenschappelijke verantwoordelijkheden (Acar & Robertson, 2014).", None),
])
def test_a_quote_must_carry_a_statement_of_its_own(quote, trouble):
    found = citation_trouble(quote)
    assert (found is None) if trouble is None else (found is not None and trouble in found)


def test_a_quote_with_a_lead_in_and_one_list_item(source):
    lead_in = ("Vanuit face-to-face interacties zijn dit mogelijkheden waarvan empirische evidentie bestaat in "
               "leernetwerken die het binnenschoolse overstijgen en leerkrachtautonomie hoog in het vaandel dragen "
               "in de opstartfase:")
    item = "• SWOT-analyse (Khantahaphum, Tesaputa & Weangsamoot, 2016)"
    parts = source.locate_parts(lead_in + ELLIPSIS + item)
    assert parts is not None and all(p.whole for p in parts) and parts[0].end < parts[1].start
    assert source.locate_parts(item + ELLIPSIS + lead_in) is None, "parts out of order must not be found"


def test_the_parts_of_a_quote_stand_close_together(source):
    """Two verbatim sentences from different chapters joined by an ellipsis are not one quote."""
    near = "• SWOT-analyse (Khantahaphum, Tesaputa & Weangsamoot, 2016)"
    lead_in = ("Vanuit face-to-face interacties zijn dit mogelijkheden waarvan empirische evidentie bestaat in "
               "leernetwerken die het binnenschoolse overstijgen en leerkrachtautonomie hoog in het vaandel dragen "
               "in de opstartfase:")
    first, later = source.locate_parts(lead_in + ELLIPSIS + near)
    assert later.start - first.end <= MAX_ELISION
    distant = "Er circuleren diverse theoretische concepten die expliciet richting geven aan het horizontaal leren"
    assert source.locate_parts(distant) is not None  # verbatim on its own (chapter 1) ...
    assert source.locate_parts(lead_in + ELLIPSIS + distant) is None  # ... but not after a chapter-3 lead-in
    assert source.locate_parts(distant + ELLIPSIS + near) is None  # nor thousands of characters before an item


BAD_CLAIMS = """
@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix cls: <https://w3id.org/clkg/study/> .
@prefix clm: <https://w3id.org/clkg/claim/> . @prefix clc: <https://w3id.org/clkg/concept/> .
@prefix cito: <http://purl.org/spar/cito/> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
cls:verbiest-2002 a clo:Study ; bibo:authorList ( [ foaf:familyName "Verbiest" ] ) .
clm:only-citations a clo:Claim ; cito:cites cls:verbiest-2002 ; cito:citesAsEvidence cls:verbiest-2002 ;
    clo:about clc:horizontal-learning ; clo:polarity clo:supports ; clo:section "1.1" ;
    clo:quote "1999; Verbiest, 2002; Kirkpatrick, 2006; Merchie et al., 2016; Odenthal et al., 2011; Feys & Devos, 2015)."@nl .
clm:half-sentence a clo:Claim ; cito:cites cls:verbiest-2002 ; cito:citesAsEvidence cls:verbiest-2002 ;
    clo:about clc:horizontal-learning ; clo:polarity clo:supports ; clo:section "1.1" ;
    clo:quote "terugverdientijd van de investering en praktijkdeprivatisering (Schiff et al., 2015; Suijs, 1999; Verbiest, 2002;"@nl .
clm:altered a clo:Claim ; cito:cites cls:verbiest-2002 ; cito:citesAsEvidence cls:verbiest-2002 ;
    clo:about clc:horizontal-learning ; clo:polarity clo:supports ; clo:section "1.1" ;
    clo:quote "Er circuleren geen theoretische concepten (Verbiest, 2002)."@nl .
"""


def test_the_audit_rejects_quotes_that_are_citations_half_sentences_or_altered(source_text):
    graph = rdflib.Graph().parse(data=BAD_CLAIMS, format="turtle")
    problems = evidence.audit(graph, source_text)
    by_claim = {name: [p for p in problems if p.startswith(name + ":")] for name in ("only-citations", "half-sentence", "altered")}
    assert any("starts inside" in p for p in by_claim["only-citations"])
    assert any("not whole" in p for p in by_claim["only-citations"])
    assert any("ends inside" in p for p in by_claim["half-sentence"])
    assert any("not whole" in p for p in by_claim["half-sentence"])
    assert any("not found" in p for p in by_claim["altered"])
