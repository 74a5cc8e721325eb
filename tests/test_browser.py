"""The pages in a real browser: headless Chromium (Debian's `chromium`, driven by the
`playwright` package with the system executable; never `playwright install`). Load the
search page, type a query, apply a facet with the keyboard, follow a result to its landing
page and read the JSON-LD from the rendered page.

Without Chromium the tests are skipped, saying why, except when CI=true or
FAIRGATE_REQUIRE_BROWSER=1: then a missing browser is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Iterator

import pytest

from mappings import schemaorg

from .conftest import in_ci
from .apps import build_app, live
from .render_fixtures import FIXTURES, NOW

ARGS = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CLOCK = [NOW]


def _browser_required() -> bool:
    return in_ci() or os.environ.get("FAIRGATE_REQUIRE_BROWSER", "") == "1"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        message = ("no `chromium` on PATH (Debian: apt-get install chromium); "
                   "the browser tests need it")
        if _browser_required():
            pytest.fail(message + " (CI or FAIRGATE_REQUIRE_BROWSER=1: they must run)",
                        pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser")
    yield from live(lambda url: build_app(data, FIXTURES.values(), CLOCK, base_url=url))


@pytest.fixture
def page(browser):
    context = browser.new_context(java_script_enabled=False)  # the pages need no script
    page = context.new_page()
    yield page
    context.close()


def test_search_facet_result_and_json_ld(page, server):
    page.goto(server.url + "/")
    assert page.get_by_label("Search datasets and experiments").is_visible()
    page.get_by_label("Search datasets and experiments").fill("cathode")
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.wait_for_url("**/search?q=cathode*")
    total = int(page.locator(".total").text_content())
    assert total >= 2
    assert page.locator(".hit mark").first.text_content().lower() == "cathode"
    # apply a facet with the keyboard: focus the link, press Enter
    facet = page.locator("a[data-facet='facility'][data-value='ESRF']")
    expected = int(facet.locator(".count").text_content())
    facet.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**facility=ESRF*")
    assert int(page.locator(".total").text_content()) == expected
    assert page.locator("a[data-facet='facility'][aria-current='true']").count() == 1
    # follow a result to its landing page
    first = page.locator("a.hit-link").first
    title = first.text_content()
    first.click()
    page.wait_for_load_state()
    assert page.locator("h1").text_content() == title
    record = next(r for r in FIXTURES.values() if r.title == title)
    data = json.loads(page.locator("script[type='application/ld+json']").text_content())
    assert data["name"] == record.title and data["@type"] == "Dataset"
    assert data["url"] == page.url
    assert data == json.loads(json.dumps(schemaorg.dataset(
        record, server.app.extensions["fairgate"].render_context(NOW))))


def test_keyboard_reaches_the_query_box_first(page, server):
    page.goto(server.url + "/search")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
