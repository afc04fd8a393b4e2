"""Audit of the evidence graph: every claim traceable to the report.

Run as ``python -m clkg.evidence [TTL ...]`` (default: everything under kg/evidence) to list the
problems; the test suite asserts that the list is empty.
"""
from __future__ import annotations

import sys
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from clkg import config, resources
from clkg.source import citation_trouble, cleaned, fold
from clkg.turtle import load

CLO = Namespace(config.CANONICAL_BASE + "ontology/")
CITO = Namespace("http://purl.org/spar/cito/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
POLARITIES = {CLO.supports, CLO.nuances, CLO.contradicts}
# How the report uses a cited work (CiTO): every claim has cito:cites and exactly one of these, to the same study.
# The claim shape (shapes/claim.ttl) and the ontology (ontology/clkg.ttl) list the same properties; a test keeps them equal.
CITATION_FUNCTIONS = tuple(CITO[name] for name in (
    "citesAsEvidence", "usesConceptIn", "citesAsAuthority", "usesMethodIn", "obtainsBackgroundFrom",
    "citesAsPotentialSolution", "citesAsRecommendedReading"))


def first_author_names(graph: Graph, study: URIRef) -> set[str]:
    """The first author's surname plus every recorded variant of the in-text citation."""
    names: set[str] = set()
    authors = graph.value(study, BIBO.authorList)
    if authors is not None:
        first = graph.value(authors, RDF.first)
        family = graph.value(first, FOAF.familyName) if first is not None else None
        if family is not None:
            names.add(str(family))
    for cited in [graph.value(study, CLO.inTextCitation), *graph.objects(study, CLO.citedVariant)]:
        if cited is not None:
            names.add(str(cited).split(",")[0].split(" & ")[0].split(" (")[0].split(" et al")[0])
    return {n for n in names if n}


def quote_problems(quote: str, source: Path) -> list[str]:
    """Why a quote is not a whole, verbatim statement of the cleaned source (empty when it is)."""
    parts = cleaned(str(source)).locate_parts(quote)
    if parts is None:
        return [f"quote not found in the cleaned source: {quote[:80]!r}"]
    problems = [f"quote part {i + 1} is not whole sentences or list items (lines {p.lines[0]}-{p.lines[1]})"
                for i, p in enumerate(parts) if not p.whole]
    trouble = citation_trouble(quote)
    if trouble:
        problems.append(f"quote {trouble}: {quote[-60:]!r}")
    return problems


def audit(graph: Graph, source: Path) -> list[str]:
    """Every reason a claim is not traceable, as readable lines (empty when all is well)."""
    problems = []
    for claim in sorted(graph.subjects(RDF.type, CLO.Claim)):
        label = str(claim).rsplit("/", 1)[-1]
        study = graph.value(claim, CITO.cites)
        quote = graph.value(claim, CLO.quote)
        if study is None or (study, RDF.type, CLO.Study) not in graph:
            problems.append(f"{label}: cited study {study} is not a clo:Study")
        functions = [(f, s) for f in CITATION_FUNCTIONS for s in graph.objects(claim, f)]
        if len(functions) != 1 or functions[0][1] != study:
            problems.append(f"{label}: needs exactly one citation function to the cited study, has {functions}")
        if graph.value(claim, CLO.about) is None:
            problems.append(f"{label}: no clo:about")
        if graph.value(claim, CLO.polarity) not in POLARITIES:
            problems.append(f"{label}: polarity is not supports/nuances/contradicts")
        if graph.value(claim, CLO.section) is None:
            problems.append(f"{label}: no clo:section")
        if quote is None or getattr(quote, "language", None) != "nl":
            problems.append(f"{label}: no quote tagged @nl")
            continue
        problems.extend(f"{label}: {problem}" for problem in quote_problems(str(quote), source))
        if study is not None:
            names = first_author_names(graph, study)
            if names and not any(fold(n) in fold(str(quote)) for n in names):
                problems.append(f"{label}: quote does not name {sorted(names)}")
    return problems


def main(argv: list[str]) -> int:
    paths = argv or sorted(str(p) for p in resources.evidence().glob("*.ttl"))
    problems = audit(load(paths), config.SOURCE_TEXT)
    for line in problems:
        print(line)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
