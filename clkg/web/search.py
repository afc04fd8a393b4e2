"""`/search`: one search over concepts, studies, people and the claims' quotes (clkg/fulltext.py), as a
page grouped by kind or as JSON (`?format=json` or `Accept: application/json`). A hit on a quote also
counts for the concepts its claim is about, so that a word the report uses brings up the concepts it
uses it for, with the number of quotes behind each."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from clkg import fulltext, vocab
from clkg.web import i18n
from clkg.web.labels import Labels
from clkg.web.links import href, local_name, rebase
from clkg.web.pagequeries import Value

blueprint = Blueprint("search", __name__)

KINDS = ("concept", "study", "claim", "person")
# the index's fields that name a resource, as the properties clkg/web/labels.py reads
NAMING = {"label": vocab.SKOS + "prefLabel", "code": vocab.SKOS + "notation", "citation": vocab.CLO + "inTextCitation",
          "name": vocab.FOAF + "name", "title": vocab.DCTERMS + "title"}
PER_KIND = 50        # results shown per kind on the page
SUGGESTIONS = 8      # concepts and studies suggested as one types
SUGGESTED_KINDS = ("concept", "study")
JSON_PER_KIND = 500  # results given per kind as JSON
MAX_QUERY = 200      # characters of a query that count


def grouped(path, q: str) -> tuple[dict[str, list[dict]], set[str]]:
    """The results of `q` in the index at `path` by kind, best first: {"concept": [...], "study": [...],
    ...}, each result a dict with iri, kind, score, field, text and, for concepts, `quotes` (matching
    quotes about it); and the terms the search looked for."""
    hits, wanted = fulltext.search(path, q)
    results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    by_iri = {}
    for hit in hits:
        item = {"iri": hit.resource, "kind": hit.kind, "score": hit.score, "field": hit.field, "text": hit.text,
                "quotes": 0, "about": hit.about}
        by_iri[hit.resource] = item
        results.setdefault(hit.kind, []).append(item)
    for concept, count in fulltext.concepts_by_quotes(hits).items():
        if concept not in by_iri:
            by_iri[concept] = {"iri": concept, "kind": "concept", "score": 0.0, "field": "quote", "text": "",
                               "quotes": 0, "about": []}
            results["concept"].append(by_iri[concept])
        by_iri[concept]["quotes"] = count
    best_quote = max((item["score"] for item in results["claim"]), default=0.0)
    for item in results["concept"]:  # a concept named by the query first, then by the quotes behind it
        item["rank"] = item["score"] + best_quote * item["quotes"] / max(1, len(results["claim"]))
    results["concept"].sort(key=lambda item: (-item["rank"], -item["quotes"], item["iri"]))
    return results, wanted


@blueprint.get("/search")
def search():
    lang = i18n.language()
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    path = fulltext.current_index(current_app.config["CLKG"]) if q else None
    results, wanted = grouped(path, q) if q else ({kind: [] for kind in KINDS}, set())
    wants_json = request.args.get("format") == "json" or (
        request.headers.get("Accept") and request.accept_mimetypes.best_match(["text/html", "application/json"])
        == "application/json")
    shown = {kind: items[:JSON_PER_KIND if wants_json else PER_KIND] for kind, items in results.items()}
    named = sorted({item["iri"] for items in shown.values() for item in items}
                   | {concept for item in shown["claim"] for concept in item["about"]})
    labels, texts = names(path, named, lang)
    if wants_json:
        return jsonify({"q": q, "results": [as_json(item, labels) for kind in KINDS for item in shown[kind]],
                        "total": {kind: len(items) for kind, items in results.items()}})
    for items in shown.values():
        for item in items:
            item["snippet"] = fulltext.snippet(item["text"], wanted) if item["text"] else []
    alternates = [{"name": "JSON", "href": f"{request.script_root}/search?{_query(q, format='json')}",
                   "type": "application/json"}]
    return render_template("search.html", q=q, results=shown, total={k: len(v) for k, v in results.items()},
                           texts=texts, L=labels, alternates=alternates, count=sum(len(v) for v in results.values()))


@blueprint.get("/search/suggest")
def suggest():
    """What the header's search box offers as one types (static/suggest.js): the best concepts and
    studies for the words typed so far (the last one may be the beginning of a word), as JSON: a list of
    iri, kind, label and url."""
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    if not q:
        return jsonify([])
    path = fulltext.current_index(current_app.config["CLKG"])
    hits, _ = fulltext.search(path, q)
    chosen = [hit for hit in hits if hit.kind in SUGGESTED_KINDS][:SUGGESTIONS]
    labels = names(path, [hit.resource for hit in chosen], i18n.language())[0]
    return jsonify([{"iri": hit.resource, "kind": hit.kind, "label": labels(hit.resource),
                     "url": href(hit.resource)} for hit in chosen])


def names(path, resources: list[str], lang: str) -> tuple[Labels, dict[str, dict[str, str]]]:
    """The resources' labels (in `lang`) and their texts by field, both from the index, of the same
    generation as the results."""
    labels, texts = Labels(lang), {}
    for resource, field, text, language in (fulltext.texts_of(path, resources) if resources else []):
        texts.setdefault(resource, {}).setdefault(field, text)
        if field in NAMING:
            value = Value(text)
            value.lang = language or None
            labels.add(resource, rebase(NAMING[field]), value)
    return labels, texts


def _query(q: str, **extra) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": q, **extra})


def as_json(item: dict, labels: Labels) -> dict:
    """A result for programs: iri, kind, label, score, the matched field and its text, and for a concept
    the number of matching quotes about it, for a claim the concepts it is about."""
    found = {"iri": item["iri"], "kind": item["kind"], "label": labels(item["iri"]) or local_name(item["iri"]),
             "score": fulltext.relevance(item.get("rank", item["score"])), "field": item["field"],
             "text": item["text"]}
    if item["kind"] == "concept":
        found["quotes"] = item["quotes"]
    if item["kind"] == "claim":
        found["about"] = item["about"]
    return found
