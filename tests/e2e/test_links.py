"""Shareable links restore the view, bad ones are dropped politely; the static site also works
under a sub-path and says plainly when it cannot start."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import BOOT_TIMEOUT_MS, BUILD, NetworkLog, new_context, open_atlas
from tools.atlas_page import AtlasPage
from tools.servers import static_serve

SUBPATH = "/atlas/"


@pytest.fixture(scope="module", params=["static", "serve"])
def base_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """The dashboard's URL: the static site under a sub-path, or `panel serve`."""
    if request.param == "serve":
        yield "serve", request.getfixturevalue("served_url")
    else:
        with static_serve(BUILD, SUBPATH) as url:
            yield "static", url


@contextlib.contextmanager
def _opened(browser: Browser, base_url: tuple[str, str], query: str,
            returning: bool = True) -> Iterator[AtlasPage]:
    """The dashboard opened at the link `query`, in a context of its own that is closed afterwards
    (on the static site a returning visitor's, unless `returning` is false); the visit must ask no
    other host and log no console error."""
    mode, url = base_url
    log = NetworkLog()
    atlas = open_atlas(browser, mode, url + query, log, returning=returning)
    try:
        yield atlas
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_a_link_restores_the_view(browser: Browser, base_url: tuple[str, str]) -> None:
    link = "?countries=TUR,CIV&indicator=AG.LND.FRST.ZS&year=1999&metric=year"
    with _opened(browser, base_url, link, returning=False) as atlas:  # as a link's first visitor
        if atlas.mode == "static":
            assert SUBPATH in atlas.page.url
        atlas.wait_for_heading("CIV")
        atlas.wait_for_title("Temperature anomaly: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Forest area: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Anomaly in 1999")
        assert atlas.year() == 1999
        expect(atlas.page.locator(".alert-warning")).to_be_hidden()
        atlas.choose("World Bank indicator", atlas.indicator_label("SP.POP.TOTL"))
        atlas.page.wait_for_function("() => location.search.includes('indicator=SP.POP.TOTL')")
        assert "countries=TUR,CIV" in atlas.page.url


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
# much).
HOSTILE = [
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
# Unknown codes, repeated keys (countries merge; a year keeps its first valid value, and Panel's own
# parser would keep the last, '²'), a tracker's setting, and the markup above: one page (each page
# of the static site is a Python boot) holds every kind of bad value a link can carry.
BAD_LINK = [("countries", "TUR"), ("countries", "CIV,QQQ"), ("year", "1999"), ("year", "2000"),
            ("year", "3000"), ("indicator", "NOPE"), ("utm_source", "newsletter"), *HOSTILE,
            ("year", "²")]


def test_a_bad_link_keeps_its_valid_parts_and_shows_the_rest_as_text(
        browser: Browser, base_url: tuple[str, str]) -> None:
    """What is valid is kept, each bad value is named in the notice as the link gave it and never
    becomes markup, a tracker's setting is ignored quietly; after the visitor's first change the
    address bar follows the state and the notice about the link goes."""
    with _opened(browser, base_url, "?" + urlencode(BAD_LINK)) as atlas:
        page = atlas.page
        atlas.wait_for_heading("CIV")
        atlas.wait_for_title("Temperature anomaly: Türkiye, Côte d'Ivoire")
        assert atlas.year() == 1999
        notice = page.locator(".alert-warning")
        for value in ("QQQ", "3000", "NOPE", "'²'", "ignored '2000'", *(v for _, v in HOSTILE[:-1]),
                      HOSTILE[-1][0]):
            expect(notice).to_contain_text(value)
        expect(notice).not_to_contain_text("utm_source")
        for tag in ("b", "img", "svg", "script", "iframe", "a", "strong", "em"):
            assert notice.locator(tag).count() == 0, f"<{tag}> from the link became markup"
        assert page.locator("img[src='x'], iframe[srcdoc]").count() == 0
        atlas.click_country("BRA")
        page.wait_for_function("() => location.search.includes('countries=BRA')")
        atlas.wait_for_title("Brazil: trend")
        assert "year=1999" in page.url
        expect(notice).to_be_hidden()


def test_the_issues_link_keeps_france(browser: Browser, served_url: str) -> None:
    """'²' passes str.isdigit() and int() rejects it, in our parser and in Panel's own; the issue's
    link blanked the served page. (The static site gets '²' as a key's last value in the bad link
    above: each static page is a Python boot.)"""
    with _opened(browser, ("serve", served_url), "?countries=FRA&year=%C2%B2") as atlas:
        atlas.wait_for_heading("FRA")
        expect(atlas.page.locator(".alert-warning")).to_contain_text("'²'")


def test_an_embed_shows_only_its_view_and_links_back(browser: Browser,
                                                     base_url: tuple[str, str]) -> None:
    with _opened(browser, base_url, "?embed=map&countries=FRA&metric=trend") as atlas:
        back = atlas.page.get_by_role("link", name="Open the full Climate Atlas at this view")
        expect(back).to_be_visible()
        atlas.wait_for_title("Trend 1993-2022, °C per decade")
        for hidden in (atlas.page.get_by_label("Find a country"),
                       atlas.page.get_by_role("tab", name="Table"),
                       atlas.page.get_by_text("Selected: France")):
            expect(hidden).to_be_hidden()
        assert back.get_attribute("target") == "_top"
        href = back.get_attribute("href")
        assert href.startswith("?countries=FRA&") and "metric=trend" in href and "embed" not in href
        atlas.page.mouse.click(*atlas.plot_point(*atlas.country_point("BRA"), "world-map"))
        expect(back).to_have_attribute("href", re.compile(r"^\?countries=BRA&"))
        atlas.page.wait_for_function("() => location.search.includes('embed=map')")


def test_an_embed_works_inside_an_iframe(browser: Browser, base_url: tuple[str, str]) -> None:
    """The chart embed as a third-party page uses it: in an iframe, only the charts and the link
    back, which leaves the iframe."""
    mode, url = base_url
    log = NetworkLog()
    context = new_context(browser, log, viewport={"width": 1000, "height": 800})
    try:
        page = context.new_page()
        page.set_content(f'<iframe src="{url}?embed=chart&countries=NOR" title="atlas" width="800" '
                         'height="500"></iframe>')
        frame = page.frame_locator("iframe")
        frame.locator("body[data-atlas-ready='true']").wait_for(state="attached",
                                                                 timeout=BOOT_TIMEOUT_MS)
        embedded = AtlasPage(page.frames[1], mode)
        embedded.wait_for_title("Norway: trend")
        # the chart takes the iframe's width, not the charts' column of the whole page
        assert embedded.plot_box("Norway: trend")[2] > 0.8 * 800
        back = frame.get_by_role("link", name="Open the full Climate Atlas at this view")
        expect(back).to_be_visible()
        expect(frame.get_by_text("Selected: Norway (NOR)")).to_be_visible()
        for hidden in (frame.get_by_label("Find a country"), frame.get_by_label("Map shows"),
                       frame.get_by_role("tab", name="Table")):
            expect(hidden).to_be_hidden()
        with page.expect_navigation():
            back.click()
        assert page.url.startswith(url) and "countries=NOR" in page.url and "embed" not in page.url
    finally:
        context.close()
    assert log.external == []
