"""Shareable links restore the view, bad ones are dropped politely; the static site also works
under a sub-path and says plainly when it cannot start."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import BOOT_TIMEOUT_MS, BUILD, NetworkLog, new_context, open_atlas
from tools.atlas_page import AtlasPage
from tools.servers import panel_serve, static_serve

SUBPATH = "/atlas/"


@pytest.fixture(scope="module", params=["static", "serve"])
def base_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """The dashboard's URL: the static site under a sub-path, or `panel serve`."""
    if request.param == "serve":
        with panel_serve() as app:
            yield "serve", app.url
    else:
        with static_serve(BUILD, SUBPATH) as url:
            yield "static", url


def _open(browser: Browser, base_url: tuple[str, str], query: str, log: NetworkLog) -> AtlasPage:
    mode, url = base_url
    return open_atlas(browser, mode, url + query, log)


def test_a_link_restores_the_view(browser: Browser, base_url: tuple[str, str]) -> None:
    log = NetworkLog()
    atlas = _open(browser, base_url,
                  "?countries=TUR,CIV&indicator=AG.LND.FRST.ZS&year=1999&metric=year", log)
    try:
        if atlas.mode == "static":
            assert SUBPATH in atlas.page.url
        atlas.wait_for_heading("CIV")
        atlas.wait_for_title("Temperature anomaly: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Forest area: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Anomaly in 1999")
        assert atlas.year() == 1999
        expect(atlas.page.locator(".alert")).to_be_hidden()
        atlas.choose("World Bank indicator", atlas.indicator_label("SP.POP.TOTL"))
        atlas.page.wait_for_function("() => location.search.includes('indicator=SP.POP.TOTL')")
        assert "countries=TUR,CIV" in atlas.page.url
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_a_bad_link_is_dropped_with_a_notice(browser: Browser, base_url: tuple[str, str]) -> None:
    log = NetworkLog()
    atlas = _open(browser, base_url, "?countries=QQQ,FRA&year=3000&indicator=NOPE", log)
    try:
        notice = atlas.page.locator(".alert")
        expect(notice).to_contain_text("QQQ")
        expect(notice).to_contain_text("3000")
        expect(notice).to_contain_text("NOPE")
        atlas.wait_for_heading("FRA")
        atlas.click_country("BRA")
        atlas.wait_for_title("Brazil: trend")
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_a_broken_site_says_why(browser: Browser, tmp_path: Path) -> None:
    """With a wheel missing, the page shows a readable error instead of spinning forever."""
    broken = tmp_path / "site"
    shutil.copytree(BUILD, broken)
    next((broken / "pyodide").glob("numpy-*.whl")).unlink()
    log = NetworkLog()
    with static_serve(broken) as url:
        context = new_context(browser, log)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-site-status='error']", state="attached",
                               timeout=BOOT_TIMEOUT_MS)
        expect(page.locator("#site-status")).to_contain_text("could not start")
        expect(page.locator("#site-status")).to_contain_text("numpy")
        assert page.locator("body.pn-loading").count() == 0, "the spinner is still running"
        context.close()
    assert log.external == []


# Markup in every key a link can carry, each value at most 40 characters (a notice quotes that
# much); a run of script would set body[data-xss].
HOSTILE = [
    ("countries", "FRA"),
    ("countries", "<b>bold</b>"),
    ("countries", "<img src=x onerror=alert(1)>"),
    ("indicator", "<img src=x onerror=alert(2)>"),
    ("indicator", "<script>alert(3)</script>"),
    ("year", "<svg onload=alert(4)>"),
    ("year", "**1999**"),
    ("metric", "[x](javascript:alert(5))"),
    ("metric", "<iframe srcdoc=x></iframe>"),
    ("<img src=x onerror=alert(6)>", "1"),
]


def test_markup_in_a_link_is_shown_as_text(browser: Browser, base_url: tuple[str, str]) -> None:
    log = NetworkLog()
    atlas = _open(browser, base_url, "?" + urlencode(HOSTILE), log)
    try:
        page = atlas.page
        notice = page.locator(".alert")
        atlas.wait_for_heading("FRA")
        for _, value in HOSTILE[1:]:
            expect(notice).to_contain_text(value)
        for tag in ("b", "img", "svg", "script", "iframe", "a", "strong", "em"):
            assert notice.locator(tag).count() == 0, f"<{tag}> from the link became markup"
        assert page.locator("img[src='x'], iframe[srcdoc]").count() == 0
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_the_issues_link_keeps_france(browser: Browser, base_url: tuple[str, str]) -> None:
    """'²' passes str.isdigit() and int() rejects it, in our parser and in Panel's own."""
    log = NetworkLog()
    atlas = _open(browser, base_url, "?countries=FRA&year=%C2%B2", log)
    try:
        atlas.wait_for_heading("FRA")
        expect(atlas.page.locator(".alert")).to_contain_text("'²'")
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_one_bad_value_keeps_the_rest_of_the_link(browser: Browser,
                                                  base_url: tuple[str, str]) -> None:
    """Repeated countries merge; a repeated year keeps its first valid value (Panel's own parser
    keeps the last, '²'); a tracker's setting is ignored quietly; after the visitor's first change
    the address bar follows the state and the notice about the link goes."""
    log = NetworkLog()
    atlas = _open(browser, base_url, "?countries=TUR&countries=CIV&year=1999&year=2000"
                                     "&year=%C2%B2&utm_source=newsletter", log)
    try:
        atlas.wait_for_heading("CIV")
        atlas.wait_for_title("Temperature anomaly: Türkiye, Côte d'Ivoire")
        assert atlas.year() == 1999
        notice = atlas.page.locator(".alert")
        expect(notice).to_contain_text("'²'")
        expect(notice).to_contain_text("ignored '2000'")
        expect(notice).not_to_contain_text("utm_source")
        atlas.click_country("BRA")
        atlas.page.wait_for_function("() => location.search.includes('countries=BRA')")
        assert "year=1999" in atlas.page.url
        expect(notice).to_be_hidden()
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()
