"""The pages for people: home, evidence map (HTML heatmap and CSV) and the listings of
concepts, studies, claims, cases and graphs. Server-rendered with Jinja; every query is a `.rq` file
in `queries/pages/` (or a named query), run through the service's worker pool."""
from __future__ import annotations

import math
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from clkg import vocab
from clkg.web import i18n, pagequeries
from clkg.web.context import service
from clkg.web.graphstats import statistics
from clkg.web.labels import Labels, natural_key
from clkg.web.pagequeries import as_int, literal, select

blueprint = Blueprint("pages", __name__)

HEAT_STEPS = 10  # shades of the heatmap: static/site.css has a class heat-1 ... heat-10 (and heat-0)
GROUPS = ("motive", "condition", "outcome")
LEVELS = ("STU", "TEA", "SCH")
VALUE_TYPES = ("ACT", "RES", "PRA", "VIS", "INS")


def alt(name: str, href: str, media_type: str) -> dict:
    return {"name": name, "href": href, "type": media_type}


def void_alternates() -> list[dict]:
    root = request.script_root
    return [alt("VoID (Turtle)", f"{root}/.well-known/void", "text/turtle"),
            alt("VoID (JSON-LD)", f"{root}/dataset.jsonld", "application/ld+json")]


# --- home --------------------------------------------------------------------------------------------
@blueprint.get("/")
def home():
    lang = i18n.language()
    rows = select("counts")
    counts = {k: as_int(v) for k, v in (rows[0] if rows else {}).items()}
    coded = coded_concepts()
    labels = Labels(lang)
    for item in coded.values():
        labels.add_pair(item["concept"], item.get("labelEn"), item.get("labelNl"), item["code"])
    ways = {
        "motives": _codes(coded, r"M\d+"),
        "conditions": _codes(coded, r"C5\.\d+(\.\d+)?"),
        "levels": _codes(coded, r"L-[A-Z]+"),
    }
    return render_template("home.html", counts=counts, ways=ways, L=labels, alternates=void_alternates())


def coded_concepts() -> dict[str, dict]:
    return {str(row["code"]): row for row in select("coded-concepts")}


def _codes(coded: dict, pattern: str) -> list[str]:
    codes = sorted((code for code in coded if re.fullmatch(pattern, code)), key=natural_key)
    return [str(coded[code]["concept"]) for code in codes]


# --- evidence map ------------------------------------------------------------------------------------
MAP_FUNCTIONS = ("citesAsEvidence",)  # the citation-function filters the map page offers as links


def map_arguments() -> dict:
    """The evidence map's query arguments: the citation function (CiTO) to count, if one is asked."""
    function = request.args.get("function")
    return {"function": function} if function else {}


@blueprint.get("/evidence-map")
def evidence_map():
    from clkg.namedqueries import ParameterError

    formats = {"html": "text/html", "csv": "text/csv", "json": "application/sparql-results+json"}
    try:
        body, _ = service().run_named("evidence-map", map_arguments(), media_type="application/sparql-results+json")
    except ParameterError as error:
        return Response(f"{error}\n", 400, content_type="text/plain; charset=utf-8")
    if request.headers.get("Accept"):
        best = request.accept_mimetypes.best_match(list(formats.values()) + ["application/json"])
        if best is None:
            return Response(f"Cannot serve the evidence map as {request.headers['Accept']}; available: "
                            f"{', '.join(formats.values())}.\n", 406, content_type="text/plain; charset=utf-8")
        if best == "text/csv":
            return evidence_map_csv()
        if best in ("application/json", "application/sparql-results+json"):
            return Response(body, content_type="application/sparql-results+json; charset=utf-8", headers={"Vary": "Accept"})
    lang = i18n.language()
    rows = pagequeries.rows(body)
    coded = coded_concepts()
    labels = Labels(lang)
    for item in coded.values():
        labels.add_pair(item["concept"], item.get("labelEn"), item.get("labelNl"), item["code"])
    columns = vocab.POLARITIES + ("studies",)
    # One scale for the three polarities (so that a single nuance does not look like a dozen support),
    # another for the totals.
    polarity_max = max([as_int(r.get(c)) for r in rows for c in vocab.POLARITIES] + [1])
    maxima = {c: polarity_max for c in vocab.POLARITIES} | {"studies": max([as_int(r.get("studies")) for r in rows] + [1])}
    groups = {g: [] for g in GROUPS}
    for row in rows:
        cells = [heat_cell(row, column, maxima[column], labels) for column in columns]
        groups.setdefault(str(row.get("group")), []).append({"concept": str(row["concept"]), "code": str(row["code"]),
                                                             "cells": cells})
    for items in groups.values():
        items.sort(key=lambda item: natural_key(item["code"]))
    by_code = {item["code"]: item for items in groups.values() for item in items}
    outcome_max = max([as_int(r.get("studies")) for r in rows if str(r.get("group")) == "outcome"] + [1])
    matrix = []
    for level in LEVELS:
        line = []
        for kind in VALUE_TYPES:
            item = by_code.get(f"O-{level}-{kind}")
            line.append(heat_cell({"concept": item["concept"], "studies": item["cells"][-1]["count"]}, "studies",
                                  outcome_max, labels) if item else None)
        matrix.append({"level": coded.get(f"L-{level}", {}).get("concept"), "code": f"L-{level}", "cells": line})
    value_types = [{"code": f"V-{kind}", "concept": coded.get(f"V-{kind}", {}).get("concept")} for kind in VALUE_TYPES]
    root = request.script_root
    query = f"?{urlencode(map_arguments())}" if map_arguments() else ""
    alternates = [alt("CSV", f"{root}/evidence-map.csv{query}", "text/csv"),
                  alt("JSON (SPARQL results)", f"{root}/api/queries/evidence-map{query}", "application/sparql-results+json")]
    return render_template("evidence-map.html", groups=groups, columns=columns, L=labels, matrix=matrix,
                           value_types=value_types, alternates=alternates, maxima=maxima,
                           function=map_arguments().get("function"), functions=MAP_FUNCTIONS)


def heat_cell(row: dict, column: str, maximum: int, labels: Labels) -> dict:
    """One cell of the heatmap: count, a shade (step 0-10 of the column's maximum; the colours are the
    `heat-*` classes of static/site.css), link to the evidence."""
    count = as_int(row.get(column))
    step = math.ceil(HEAT_STEPS * count / maximum) if count and maximum else 0
    anchor = "evidence" if column == "studies" else f"evidence-{column}"
    concept = str(row["concept"])
    return {"count": count, "classes": f"heat-{column} heat-{min(step, HEAT_STEPS)}", "concept": concept,
            "anchor": anchor, "column": column,
            "title": i18n.t(f"map.cell.{column}", count=count, concept=labels(concept))}


@blueprint.get("/evidence-map.csv")
def evidence_map_csv():
    from clkg.namedqueries import ParameterError

    try:
        body, _ = service().run_named("evidence-map", map_arguments(), media_type="text/csv")
    except ParameterError as error:
        return Response(f"{error}\n", 400, content_type="text/plain; charset=utf-8")
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="evidence-map.csv"', "Vary": "Accept"})


# --- listings ----------------------------------------------------------------------------------------
@blueprint.get("/concepts")
def concepts():
    lang = i18n.language()
    labels = Labels(lang)
    nodes, children = {}, {}
    for row in select("concept-list"):
        concept = str(row["concept"])
        labels.add_pair(concept, row.get("labelEn"), row.get("labelNl"), row.get("notation"))
        parents = [p for p in str(row.get("broader") or "").split() if p]
        nodes[concept] = {"iri": concept, "code": row.get("notation"), "claims": as_int(row.get("claims")),
                          "parents": parents, "section": str(row.get("section") or "")}
    for concept, node in nodes.items():
        for parent in node["parents"]:
            if parent in nodes:
                children.setdefault(parent, []).append(concept)
    def key(iri):  # in the order of the report: by the defining section, then by code or label
        section = nodes[iri]["section"]
        return ([(0, 0, "")] if section in ("", "intro") else natural_key(section),
                natural_key(labels.code(iri) or labels(iri)))

    tops = sorted((c for c, n in nodes.items() if not any(p in nodes for p in n["parents"])), key=key)
    tree = [_subtree(top, nodes, children, key, frozenset()) for top in tops]
    root = request.script_root
    alternates = [alt("Turtle (concept scheme)", f"{root}/concept/scheme.ttl", "text/turtle"),
                  alt("JSON-LD (concept scheme)", f"{root}/concept/scheme.jsonld", "application/ld+json"),
                  alt("Turtle (ontology graph dump)", f"{root}/dumps/ontology.ttl", "text/turtle")]
    return render_template("concepts.html", tree=tree, L=labels, total=len(nodes), alternates=alternates)


def _subtree(concept, nodes, children, key, path) -> dict:
    node = dict(nodes[concept])
    kids = [] if concept in path else sorted(set(children.get(concept, [])), key=key)
    node["children"] = [_subtree(k, nodes, children, key, path | {concept}) for k in kids]
    return node


@blueprint.get("/studies")
def studies():
    rows = sorted(select("study-list"), key=lambda r: (str(r.get("citation") or "").lower(), str(r["study"])))
    root = request.script_root
    alternates = [alt("JSON (SPARQL results)", f"{root}/api/queries/studies", "application/sparql-results+json"),
                  alt("Turtle (evidence graph dump)", f"{root}/dumps/evidence.ttl", "text/turtle")]
    return render_template("studies.html", studies=rows, alternates=alternates)


@blueprint.get("/claims")
def claims():
    lang = i18n.language()
    sections = sorted(select("claim-sections"), key=lambda r: natural_key(r["section"]))
    section = request.args.get("section", "").strip()
    rows, labels = [], Labels(lang)
    if section:
        rows = select("claim-list", section=literal(section))
        for row in rows:
            if row.get("concept"):
                labels.add_pair(row["concept"], row.get("labelEn"), row.get("labelNl"), row.get("code"))
    root = request.script_root
    alternates = [alt("Turtle (evidence graph dump)", f"{root}/dumps/evidence.ttl", "text/turtle"),
                  alt("JSON-LD (evidence graph dump)", f"{root}/dumps/evidence.jsonld", "application/ld+json")]
    return render_template("claims.html", sections=sections, section=section, claims=rows, L=labels,
                           alternates=alternates)


@blueprint.get("/cases")
def cases():
    rows = select("case-list")
    root = request.script_root
    alternates = [alt("Turtle (illustrative graph dump)", f"{root}/dumps/illustrative.ttl", "text/turtle")]
    return render_template("cases.html", cases=rows, alternates=alternates)


@blueprint.get("/graphs")
def graphs():
    return render_template("graphs.html", stats=statistics(), alternates=void_alternates())


@blueprint.get("/favicon.ico")
def favicon():
    return "", 204
