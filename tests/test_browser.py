"""In a real headless browser: Chromium (the distribution's package, /usr/bin/chromium) driven by
Playwright, against a real server process on a free loopback port, both started and stopped here.

The walk: the home page, a concept from it, a study from the concept's evidence, then the query page,
where a query typed into YASGUI runs against /sparql and its result table is read. Nothing but
loopback is reachable from the browser. `tests/browser_setup.sh` installs Chromium where it is missing
(the test suite runs it: tests/prerequisites.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from clkg import config
from conftest import live_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server(real_settings):
    with live_server([sys.executable, str(config.ROOT / "server.py"), "--host", "127.0.0.1", "--port"],
                     real_settings.data_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run tests/browser_setup.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(locale="en-GB")
    blocked = []

    def loopback_only(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_home_concept_study_and_a_yasgui_query(page, server):
    # Home: the numbers and the ways in.
    page.goto(f"{server}/")
    assert int(page.inner_text("#count-studies strong")) > 100
    assert int(page.inner_text("#count-claims strong")) > 500

    # Follow a concept (the first of the 15 motives) to its page.
    concept = page.locator("ol.motives a").first
    concept_name = concept.inner_text().strip()
    concept.click()
    page.wait_for_url("**/concept/M1.html")
    assert page.inner_text("h1").strip() in concept_name
    evidence = page.locator("table.evidence a.study")
    assert evidence.count() > 0

    # Follow a study from the concept's evidence to its page, which lists the claims citing it.
    citation = evidence.first.inner_text().strip()
    evidence.first.click()
    page.wait_for_url("**/study/*.html")
    assert page.inner_text("h1").strip() == citation
    study_iri = page.inner_text("p.iri").strip()
    assert study_iri.startswith("https://w3id.org/clkg/study/")
    claims = page.locator("table.claims tr")
    assert claims.count() > 1 and "M1" in page.inner_text("table.claims")

    # The query page: YASGUI pointed at /sparql, with the named queries as examples.
    page.goto(f"{server}/sparql")
    page.wait_for_function("() => typeof yasgui !== 'undefined' && yasgui.getTab() && yasgui.getTab().getYasqe()")
    page.click("[data-query-name='studies-for-concept']")
    assert "citesAsEvidence" in page.evaluate("() => yasgui.getTab().getQuery()")
    query = ("PREFIX clo: <https://w3id.org/clkg/ontology/>\n"
             f"SELECT ?citation WHERE {{ <{study_iri}> clo:inTextCitation ?citation }}")
    page.evaluate("query => { yasgui.getTab().setQuery(query); return true; }", query)
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr td")
    table = page.inner_text(".yasr table")
    assert "citation" in table and citation in table
