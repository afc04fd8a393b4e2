"""The entry as readable Turtle: one block per node, the case first, then its parts by kind."""
from __future__ import annotations

import re

import pyoxigraph as ox

from clkg.vocab import CLO, PREFIXES, RDF_TYPE


ORDER = ("Case", "School", "Informant", "Partnership", "NetworkMap", "Actor", "Tie", "Observation")


def to_turtle(triples: list, source: str = "") -> bytes:
    """The entry as Turtle, one block per node, the case first, then its parts by kind."""
    kinds = {t.subject.value: t.object.value[len(CLO):] for t in triples
             if t.predicate.value == RDF_TYPE and t.object.value.startswith(CLO)}
    rank = {kind: i for i, kind in enumerate(ORDER)}
    subjects = sorted({t.subject.value for t in triples},
                      key=lambda s: (rank.get(kinds.get(s, ""), len(ORDER)), _natural(s)))
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, []).append(t)
    ordered = [t for s in subjects for t in by_subject[s]]
    prefixes = {name: PREFIXES[name] for name in ("clo", "clc", "clx", "dcterms", "rdfs", "xsd")}
    body = ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    body = re.sub(rb" \.\n(?=[^\t@])", b" .\n\n", body)  # a blank line between nodes
    head = ["# A school case imported by `clkg import-case`" + (f" from {source}" if source else "") + ".",
            "# Network measures are not entered: they are computed when the case is stored (clkg/networks.py)."]
    if any(t.predicate.value == CLO + "illustrative" and t.object.value == "true" for t in triples):
        head.append("# ILLUSTRATIVE: an invented example, not data from the follow-up research; in kg/cases/illustrative/ "
                    "it is kept in the named graph `illustrative` and never counted as evidence.")
    return ("\n".join(head) + "\n").encode("utf-8") + body


def _natural(text: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]
