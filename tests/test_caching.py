"""Answers cached by store generation: ETag and Last-Modified on every read, 304 for a request that
still holds, and a write that changes the answers at once (the next request sees the new generation)."""
from __future__ import annotations

import pytest

from test_ingest import ALICE, TOKENS, new_study
from test_validation import entries_settings

QUERY = "/api/queries/studies-for-concept?concept=M9"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from clkg.web import create_app

    settings = entries_settings(tmp_path_factory.mktemp("caching"), write_tokens=dict(TOKENS))
    application = create_app(settings, reason=False)
    yield application
    application.extensions["clkg"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


def studies(response) -> set:
    return {b["study"]["value"] for b in response.get_json(force=True)["results"]["bindings"]}


@pytest.mark.parametrize("path", [QUERY, "/api/queries", "/concepts", "/sparql?query=ASK%7B%7D", "/.well-known/void"])
def test_every_read_carries_validators_and_honours_them(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers.get("ETag"), first.headers.get("Last-Modified")
    assert etag and modified
    assert "Accept" in first.headers["Vary"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_a_repeated_request_is_served_from_the_cache_with_the_same_bytes(app, client):
    cache = app.extensions["clkg-cache"]
    first = client.get(QUERY)
    hits = cache.hits
    second = client.get(QUERY)
    assert cache.hits == hits + 1
    assert second.get_data() == first.get_data() and second.headers["ETag"] == first.headers["ETag"]


def test_variants_are_kept_apart(client):
    as_json = client.get(QUERY)
    as_csv = client.get(QUERY, headers={"Accept": "text/csv"})
    assert as_json.headers["Content-Type"].startswith("application/sparql-results+json")
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert as_json.headers["ETag"] != as_csv.headers["ETag"]
    english, dutch = client.get("/concepts?lang=en"), client.get("/concepts?lang=nl")
    assert english.get_data() != dutch.get_data()


def test_a_contribution_changes_the_answers_at_once(client):
    before = client.get(QUERY)
    etag = before.headers["ETag"]
    posted = client.post("/api/entries", data=new_study("cachecheck", "Caches and networks"),
                         headers=ALICE | {"Content-Type": "text/turtle"})
    assert posted.status_code == 201, posted.get_data(as_text=True)
    after = client.get(QUERY, headers={"If-None-Match": etag})
    assert after.status_code == 200, "a stale validator must not hold after a write"
    assert studies(after) - studies(before) == {"https://w3id.org/clkg/study/cachecheck-2020"}
    deleted = client.delete(f"/api/entries/{posted.get_json()['id']}", headers=ALICE)
    assert deleted.status_code == 200
    assert studies(client.get(QUERY)) == studies(before)


def test_writes_and_errors_are_never_cached(app, client):
    cache = app.extensions["clkg-cache"]
    size = cache.size
    assert client.get("/api/queries/studies-for-concept?concept=NOPE").status_code == 400
    assert client.get("/api/entries").status_code == 200
    assert cache.size == size
    assert "ETag" not in client.get("/api/entries").headers
