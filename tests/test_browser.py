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
    errors, violations = [], []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: violations.append(f"{tab.url}: {message.text}")
           if message.type == "error" and "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


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


def test_no_page_breaks_its_content_security_policy(page, server):
    """Every kind of page loads without the browser refusing anything under the site's CSP (no inline
    script, handler or style; the ontology documentation's own styles allowed by hash)."""
    paths = ["/", "/concepts", "/concept/M1.html", "/studies", "/claims", "/evidence-map", "/search?q=leraar",
             "/cases", "/case/example-1.html", "/graphs", "/graph/evidence.html", "/dataset.html",
             "/ontology.html", "/sparql", "/nothing-here"]
    for path in paths:
        response = page.goto(f"{server}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
    page.goto(f"{server}/studies")
    page.locator("table a").first.click()  # a study page
    page.wait_for_url("**/study/*.html")
    page.locator("table.claims a.muted").first.click()  # one of its claims
    page.wait_for_url("**/claim/*.html")
    # a dump still downloads under the locked policy of data answers (default-src 'none'; sandbox)
    page.goto(f"{server}/dataset.html")
    with page.expect_download() as download:
        page.locator("a[href$='/dumps/all.nq']").first.click()
    assert download.value.suggested_filename == "all.nq" and download.value.failure() is None
    # the page fixture fails the test on any CSP violation the browser logged on these pages


def test_searching_for_a_word_of_the_report(page, server):
    """The header's box suggests concepts as one types and a suggestion leads to its page; a search for
    "professionalisering" lists M13 among the concepts and marks the word in the quotes."""
    page.goto(f"{server}/studies")
    box = page.locator("header input[name=q]")
    box.press_sequentially("professional develop", delay=20)
    page.wait_for_function("() => [...document.querySelectorAll('#search-suggestions option')]"
                           ".some(o => o.value.includes(\"teachers' professional development\"))")
    label = page.evaluate("() => [...document.querySelectorAll('#search-suggestions option')]"
                          ".map(o => o.value).find(v => v.includes(\"teachers' professional development\"))")
    box.fill(label)  # what choosing the suggestion puts in the box
    page.wait_for_url("**/concept/M13*")
    assert "M13" in page.inner_text("main")

    page.goto(f"{server}/search?q=professionalisering")
    concepts = page.locator("ul[data-kind=concept] a")
    assert any("/concept/M13" in (concepts.nth(i).get_attribute("href") or "") for i in range(min(3, concepts.count())))
    marks = page.locator("ul[data-kind=claim] mark")
    assert marks.count() > 10
    assert all("professionalis" in marks.nth(i).inner_text().lower() for i in range(marks.count()))
