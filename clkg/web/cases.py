"""The page of a school case (clo:Case) and of its parts (`/case/...`): its school, focus group,
partnership table, observations, how they compare with the literature, and its network map drawn as an
inline SVG picture.

The data comes from page queries (queries/pages/case-*.rq) and the named query case-vs-literature. The
picture is laid out here with networkx (spring layout, fixed seed, so a map always looks the same) and
drawn by the template (resource-case.html) with autoescaped values only: nodes are coloured by side
(the school's own team) and, for external actors, by Gehre position; their radius grows with degree
centrality; a broker across a structural hole gets a dark ring; a tie's width grows with its strength,
an informal tie is dashed.
"""
from __future__ import annotations

import networkx as nx
from flask import render_template

from clkg import vocab
from clkg.web.links import local_name, rebase
from clkg.web.pagequeries import as_bool, iri, named, select
from clkg.web.rdfviews import incoming

INTERNAL_COLOUR = "#2471a3"
POSITION_COLOURS = {"core": "#c0392b", "anchoring": "#7d3c98", "framing": "#d68910", "context": "#717d7e",
                    "": "#1e8449"}
ATTRIBUTES = ("partner", "initiator", "manifestation", "where", "startYear", "durationMonths", "contactsPerYear",
              "permanentFollowUp", "how", "entryOption", "what", "phase")
SINGLE = ("initiator", "manifestation", "startYear", "durationMonths", "contactsPerYear", "permanentFollowUp", "phase")


def _number(value, default: float = 0.0) -> float:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return default


def network_picture(actors: list[dict], ties: list[dict], labels, *, width: int = 760, height: int = 520,
                    seed: int = 7) -> dict | None:
    """Positions, sizes and colours of a network map for the template; None for a map without actors."""
    if not actors:
        return None
    g = nx.Graph()
    for row in actors:
        g.add_node(str(row["actor"]))
    for row in ties:
        source, target = str(row["source"]), str(row["target"])
        if source in g and target in g and source != target:
            g.add_edge(source, target)
    if len(g) == 1:
        positions = {next(iter(g)): (0.0, 0.0)}
    else:
        spread = 2.0 / len(g) ** 0.5  # a little more room between actors than networkx's default 1/sqrt(n)
        layout = nx.spring_layout(g, seed=seed, k=spread, iterations=500)
        positions = {node: (float(x), float(y)) for node, (x, y) in layout.items()}
    xs, ys = [p[0] for p in positions.values()], [p[1] for p in positions.values()]
    margin_x, margin_y = 185, 30
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0

    def place(node):
        x, y = positions[node]
        px = margin_x + (x - min(xs)) / span_x * (width - 2 * margin_x) if len(g) > 1 else width / 2
        py = margin_y + (y - min(ys)) / span_y * (height - 2 * margin_y) if len(g) > 1 else height / 2
        return round(px, 1), round(py, 1)

    nodes = []
    for row in actors:
        node = str(row["actor"])
        x, y = place(node)
        internal = as_bool(row.get("internal"))
        position = str(row.get("position") or "")
        centrality = _number(row.get("degreeCentrality"))
        label = str(row.get("label") or labels(node))
        nodes.append({
            "id": node, "x": x, "y": y, "r": round(7 + 16 * min(max(centrality, 0.0), 1.0), 1),
            "fill": INTERNAL_COLOUR if internal else POSITION_COLOURS.get(position, POSITION_COLOURS[""]),
            "internal": internal, "position": position, "broker": as_bool(row.get("broker")),
            "label": label if len(label) <= 28 else label[:27] + "…",
            "full_label": label, "anchor": "start" if x >= width / 2 else "end",
            "degree": row.get("degree"), "betweenness": row.get("betweenness"), "closeness": row.get("closeness"),
        })
    _place_labels(nodes, width)
    at = {n["id"]: n for n in nodes}
    strengths = [_number(row.get("strength"), 1.0) for row in ties] or [1.0]
    strongest = max(strengths) or 1.0
    edges = []
    for row in ties:
        source, target = str(row["source"]), str(row["target"])
        if source not in at or target not in at or source == target:
            continue
        strength = _number(row.get("strength"), 1.0)
        edges.append({"x1": at[source]["x"], "y1": at[source]["y"], "x2": at[target]["x"], "y2": at[target]["y"],
                      "width": round(1 + 4 * strength / strongest, 1), "informal": str(row.get("kind") or "") == "informalTie",
                      "title": f"{at[source]['full_label']} – {at[target]['full_label']}"
                               + (f" ({row.get('strength')})" if row.get("strength") else "")})
    return {"width": width, "height": height, "nodes": nodes, "edges": edges,
            "legend": [("internal", INTERNAL_COLOUR)] + [(p or "none", c) for p, c in POSITION_COLOURS.items()]}


def _place_labels(nodes: list[dict], width: int, char: float = 6.4, line: float = 13.0) -> None:
    """Put each label beside its node (towards the outside of the picture, inside its edges) and move it
    down a line while it would overlap a label placed before it."""
    placed = []
    for node in sorted(nodes, key=lambda n: (n["y"], n["x"])):
        length = len(node["label"]) * char
        anchor = node["anchor"]
        if anchor == "end" and node["x"] - node["r"] - 4 - length < 2:
            anchor = "start"
        if anchor == "start" and node["x"] + node["r"] + 4 + length > width - 2:
            anchor = "end"
        x = node["x"] + node["r"] + 4 if anchor == "start" else node["x"] - node["r"] - 4
        left, right = (x, x + length) if anchor == "start" else (x - length, x)
        y = node["y"] + 4
        for _ in range(6):
            if not any(left < r and l < right and abs(y - other) < line for l, r, other in placed):
                break
            y += line
        placed.append((left, right, y))
        node.update(anchor=anchor, label_x=round(x, 1), label_y=round(y, 1))


def partnership_table(rows: list[dict], labels) -> list[dict]:
    """One dict per partnership: its label and the values of each 5W1H attribute (IRIs or literals)."""
    table: dict[str, dict] = {}
    for row in rows:
        iri = str(row["partnership"])
        entry = table.setdefault(iri, {"iri": iri, "label": row.get("label"), **{a: [] for a in ATTRIBUTES}})
        attribute = row.get("attribute")
        if not attribute:
            continue
        name = local_name(attribute)
        value = row.get("value")
        if value is None or name not in entry:
            continue
        if value.is_iri:
            labels.add_pair(value, row.get("valueEn"), row.get("valueNl"), row.get("valueCode"))
        if value not in entry[name]:
            entry[name].append(value)
    for entry in table.values():
        for name in SINGLE:
            entry[name] = entry[name][0] if entry[name] else None
    return sorted(table.values(), key=lambda e: str(e["label"] or e["iri"]))


def literature_comparison(resource: str, labels) -> list[dict]:
    """The rows of the named query case-vs-literature for this case."""
    rows = named("case-vs-literature", {"case": resource})
    for row in rows:
        if row.get("concept"):
            labels.add_pair(row["concept"], row.get("label"), None, row.get("code"))
    return rows


def render(context: dict) -> str:
    """A case's page, or the page of one of its parts (a partnership, an actor, a tie...)."""
    resource, labels, description = context["resource"], context["L"], context["d"]
    context["observations"] = [_with_label(row, "concept", labels)
                               for row in select("case-observations", resource=iri(resource))]
    if rebase(vocab.CLO + "Case") in description.types():  # a case, not one of its parts
        context["case"] = case_context(resource, labels)
    context["incoming"] = incoming(resource, labels)
    return render_template("resource-case.html", **context)


def _with_label(row: dict, var: str, labels) -> dict:
    row = dict(row)
    if row.get(var):
        labels.add_pair(row[var], row.get("labelEn"), row.get("labelNl"), row.get("code"))
    return row


def case_context(resource: str, labels) -> dict:
    """Everything the page of a clo:Case shows besides its plain description."""
    school = select("case-school", resource=iri(resource))
    informants = select("case-informants", resource=iri(resource))
    by_role: dict[str, list] = {}
    for row in informants:
        by_role.setdefault(str(row.get("role") or ""), []).append(row)
    actors = select("case-actors", resource=iri(resource))
    for row in actors:
        labels.add_pair(row["actor"], row.get("label"), None)
        if row.get("kind"):
            labels.add_pair(row["kind"], row.get("kindEn"), row.get("kindNl"))
    ties = select("case-ties", resource=iri(resource))
    partnerships = partnership_table(select("case-partnerships", resource=iri(resource)), labels)
    for entry in partnerships:
        if entry["label"]:
            labels.add_pair(entry["iri"], entry["label"], None)
    return {"school": school[0] if school else {}, "informants": by_role,
            "informant_count": len(informants), "partnerships": partnerships, "actors": actors,
            "actor_kinds": {str(r["actor"]): r.get("kind") for r in actors},
            "network": network_picture(actors, ties, labels), "ties": len(ties),
            "comparison": literature_comparison(resource, labels)}
