"""Before Python is live, the static site's pre-render answers (app/climate_atlas/views/prerender.py),
and the live session takes over from the state the visitor reached, with no flash back.

Static site only: `panel serve` has no pre-render (its own tests, test_features.py among them, run
unchanged). The test's server holds the Python runtime back (tools/servers.Gate) until the test
releases it, so "before Python" is a state the test controls, not a race it hopes to win. Two
tests are a first visit's (the worker builds the live page), two a returning visitor's (the worker
restores Python from the heap snapshot and starts from the page built into it): both take over
without a flash back.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from playwright.sync_api import Browser, Locator, Page, expect

from climate_atlas.anomalies import default_scope
from climate_atlas.data import load_atlas
from climate_atlas.links import link_rules, parse_query
from climate_atlas.views.metrics import METRICS
from climate_atlas.views.prerender import PARSE_LINK_JS
from climate_atlas.views.stripes import STRIPES_NAME, stripes_height
from climate_atlas.views.world_map import MAP_NAME, colouring, map_countries
from tests.e2e.browser import (
    BOOT_TIMEOUT_MS,
    BUILD,
    RESTORED,
    NetworkLog,
    keep_snapshot,
    new_context,
    watch_console,
)
from tests.e2e.test_climate_views import SEASON_BASE_LINK
from tests.link_queries import queries
from tools.atlas_page import SHOWN_TITLES_JS, AtlasPage
from tools.servers import Gate, static_serve

RUNTIME = "/pyodide/pyodide.asm.*"  # Pyodide's wasm and JS: without them no Python starts
COUNTRIES = ["BRA", "AUS", "FRA"]  # clicked before Python, in this order: the last one is kept

_MAP_DRAWN_JS = f"""() => window.Bokeh != null && Bokeh.index != null
  && Bokeh.index.query_one(v => v.model.name === '{MAP_NAME}' && v.frame != null) != null"""

# Every animation frame from now on: the plot titles a visitor sees (window.__atlasFrames).
_RECORD_FRAMES_JS = f"""() => {{
  const shown = {SHOWN_TITLES_JS};
  window.__atlasFrames = [];
  const tick = () => {{
    window.__atlasFrames.push(shown());
    if (!window.__atlasStopFrames) requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}}"""


@contextlib.contextmanager
def _held(browser: Browser, *, returning: bool = False, **options: object
          ) -> Iterator[tuple[Callable[[str], AtlasPage], Gate]]:
    """(open the atlas at a query, the gate holding its Python runtime back); the visit must ask no
    other host and log no console error or CSP violation. `returning`: a returning visitor's, whose
    Python is restored from the heap snapshot (asserted once the test is done), and whose live
    session starts from the page built into the snapshot, not one the worker builds. `options`:
    the browser context's."""
    gate = Gate(RUNTIME)
    log = NetworkLog()
    said: list[str] = []
    with static_serve(BUILD, gates=(gate,)) as url:
        context = new_context(browser, log, **{"viewport": {"width": 1400, "height": 1000},
                                               **options})
        if returning:
            keep_snapshot(context, url)
        page = context.new_page()
        page.on("console", lambda message: said.append(message.text))
        watch_console(page, log)

        def open_at(query: str) -> AtlasPage:
            page.goto(url + query)
            page.wait_for_function(_MAP_DRAWN_JS, timeout=30_000)
            return AtlasPage(page, "static")

        try:
            yield open_at, gate
        finally:
            context.close()
    assert log.external == [] and log.console_errors == [], log.console_errors
    if returning:
        assert any(RESTORED in text for text in said), f"not restored from the snapshot: {said}"


def _python_is_held(page: Page, gate: Gate) -> None:
    assert gate.asked.is_set(), "the page never asked for the Python runtime"
    _before_python(page)


def _before_python(page: Page) -> None:
    """The page is before Python: not live, no handover begun, the status still at step 1 (until
    the runtime has arrived), whether or not the page has asked for the runtime yet."""
    body = page.locator("body")
    expect(body).not_to_have_attribute("data-atlas-ready", "true")
    expect(body).not_to_have_attribute("data-atlas-handover", "started")
    expect(page.locator("#site-status")).to_contain_text("Step 1 of 3")


def _drawn(atlas: AtlasPage, iso3: str, indicator: str = "EN.ATM.CO2E.PC") -> dict[str, Any]:
    """What the page draws for a single selected country: heading, outline, the temperature chart
    (title, series, trend line, legend) and the indicator chart (title, series)."""
    name = atlas.atlas.country_name(iso3)
    short = atlas.atlas.indicator_meta.at[indicator, "short_name"]
    atlas.wait_for_heading(iso3)
    atlas.wait_for_highlight([iso3])
    atlas.wait_for_title(f"{name}: ")
    atlas.wait_for_title(f"{short}: ")
    return {"heading": atlas.heading(),
            "titles": sorted(t for t in atlas.titles() if t.startswith((f"{name}: ", f"{short}: "))),
            "temperature": atlas.lines(f"{name}: ", name),
            "indicator": atlas.lines(f"{short}: ", name), "legend": atlas.legend()}


def _frames_since(page: Page) -> list[list[str]]:
    page.evaluate("window.__atlasStopFrames = true")
    return page.evaluate("window.__atlasFrames")


# The focused element, through shadow roots, if it lies in a part marked as loading (the body's own
# mark is the page's veil, which the parts that answer are lifted above): its tag and text.
_FOCUSED_LOADING_JS = """() => {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  for (let n = el; n != null && n !== document.body; n = n.parentElement ?? n.getRootNode().host) {
    if (n.classList?.contains('pn-loading')) return `${el.tagName} ${el.textContent || el.value || ''}`;
  }
  return null;
}"""
# Focus the button labelled `label` from a script (the keyboard cannot reach it).
_FOCUS_JS = """label => {
  const find = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'BUTTON' && el.textContent.includes(label)) return el;
      const inner = el.shadowRoot && find(el.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  find(document).focus();
}"""


# For each marker (a plot's name, the start of a plot's title or a text in a pane): whether the
# part that shows it is marked as loading (Panel's class, on it or a part around it).
_MARKED_LOADING_JS = """(markers) => markers.map((marker) => {
  const view = Bokeh.index.query_one((v) => v.model.name === marker
    || String(v.model.title?.text ?? '').startsWith(marker)
    || (typeof v.model.text === 'string' && v.model.text.includes(marker)));
  for (let p = view; p != null; p = p.parent) {
    if ((p.model.css_classes ?? []).includes('pn-loading')) return true;
  }
  return false;
})"""


def _what_needs_python_is_loading(atlas: AtlasPage) -> None:
    """Before Python: the parts that need it are marked as loading and lie under the veil (a click
    there reaches nothing), the page says what already answers, and it scrolls."""
    page = atlas.page
    note = page.locator("#site-prerender")
    expect(note).to_be_visible()
    expect(note).to_contain_text("The map, the year slider and the charts answer now")
    # search, click, 4 selects, play, chips, the stripes, the upload, the tabs, the map's and
    # the charts' PNG buttons
    assert page.locator(".pn-loading").count() >= 13
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    picture = page.get_by_role("button", name="Download the map (PNG)").bounding_box()
    assert picture is not None
    page.mouse.click(picture["x"] + picture["width"] / 2, picture["y"] + picture["height"] / 2)
    page.wait_for_timeout(300)  # time for a download to start, were it to
    assert downloads == [], "a PNG's name before Python would be the default state's"
    # nor does the keyboard: Tab passes them by, and Enter on a PNG button downloads nothing; the
    # year slider, which answers it, is named for a screen reader as in the live page
    expect(page.get_by_role("slider", name="Year")).to_have_count(1)
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED_LOADING_JS)
        assert focused is None, f"the keyboard reached {focused}, which needs Python"
    page.evaluate(_FOCUS_JS, "Download the temperature chart (PNG)")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert downloads == [], "Enter on a PNG button started a download before Python"
    box = page.get_by_placeholder("Name, ISO3 code").bounding_box()
    assert box is not None
    top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName",
                        [box["x"] + 20, box["y"] + box["height"] / 2])
    assert top == "BODY", "the search box is not under the loading veil"
    x, y = atlas.plot_point(*atlas.country_point("BRA"), MAP_NAME)
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y]) != "BODY"
    page.mouse.move(x, y)  # the map's hover answers
    expect(page.get_by_text("Country:").first).to_be_visible()
    page.mouse.wheel(0, 600)
    page.wait_for_function("window.scrollY > 0")


def test_a_click_before_python_is_answered_and_kept(browser: Browser) -> None:
    """With the Python runtime's download held back by the test's own server, a click on a country
    draws its series, and once the runtime is released the live session shows the same selection
    with no flash back; the JS-drawn series equal the Python-drawn ones for three countries. What
    needs Python says it is loading until then (one page: each is a Python boot)."""
    with _held(browser) as (open_at, gate):
        atlas = open_at("?countries=FRA,DEU")  # the first click makes a selection of two one
        atlas.wait_for_highlight(["FRA", "DEU"])
        _what_needs_python_is_loading(atlas)
        js_drawn = {}
        for iso3 in COUNTRIES:
            atlas.click_country(iso3)
            js_drawn[iso3] = _drawn(atlas, iso3)
            assert f"countries={iso3}" in atlas.page.url
        # the slider shows the year it is moved to: from the default mean, that year's anomaly
        year = atlas.year() - 1
        atlas.page.get_by_role("slider").first.press("ArrowLeft")
        year_title = f"Anomaly in {year}, °C vs "
        atlas.wait_for_title(year_title)
        expect(atlas.page.get_by_label("Map shows", exact=True)).to_have_value(
            METRICS["year"].label(atlas.atlas.periods))
        assert f"year={year}&metric=year" in atlas.page.url
        assert _map_state(atlas) == _python_colours(atlas, year)
        _python_is_held(atlas.page, gate)
        for iso3 in COUNTRIES:  # the carried series are the published ones
            series = atlas.atlas.series(iso3)
            assert js_drawn[iso3]["temperature"][0] == (list(series.index), list(series.to_numpy()))
        kept = atlas.atlas.country_name(COUNTRIES[-1])

        atlas.page.evaluate(_RECORD_FRAMES_JS)
        gate.release()
        atlas.wait_ready(BOOT_TIMEOUT_MS)
        frames = _frames_since(atlas.page)
        assert len(frames) > 10
        flashed = [f for f in frames if not any(t.startswith(f"{kept}: ") for t in f)
                   or any(t.startswith("India") for t in f)]
        assert flashed == [], f"frames without {kept}'s chart or with the default's: {flashed[:3]}"
        assert atlas.page.locator("body").get_attribute("data-atlas-handover") == "done"
        expect(atlas.page.locator("#site-prerender")).to_be_hidden()
        assert atlas.page.locator("body.pn-loading").count() == 0

        # The live session starts from the kept selection and year, drawn by Python as the JS drew
        # them ...
        atlas.wait_for_title(year_title)
        assert atlas.year() == year
        assert _drawn(atlas, COUNTRIES[-1]) == js_drawn[COUNTRIES[-1]]
        # ... and draws the other two countries as the JS did.
        for iso3 in COUNTRIES[:-1]:
            atlas.click_country(iso3)
            assert _drawn(atlas, iso3) == js_drawn[iso3], iso3


def _map_state(atlas: AtlasPage) -> tuple[list, list]:
    return atlas.map_column("value"), atlas.map_column("label")


def _python_colours(atlas: AtlasPage, year: int) -> tuple[list, list]:
    colours = colouring(atlas.atlas, map_countries(atlas.atlas.geometry), "year", year,
                        default_scope(atlas.atlas))
    # as map_column reads them: no data (NaN) as None
    return [None if math.isnan(v) else float(v) for v in colours.value], colours.label


def test_a_link_and_the_year_slider_before_python(browser: Browser) -> None:
    """The link's selection, indicator, metric and (first) year show as soon as the map does; the slider
    recolours the map (hover labels as Python writes them, 0.125 rounded to even); the live session
    starts from the year the slider reached, with no flash back."""
    link = "?countries=TUR,CIV&indicator=AG.LND.FRST.ZS&year=1992&metric=year&year=2000"
    with _held(browser, returning=True) as (open_at, gate):
        atlas = open_at(link)
        atlas.wait_for_heading("CIV")
        atlas.wait_for_highlight(["TUR", "CIV"])
        atlas.wait_for_title("Temperature anomaly: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Forest area: Türkiye, Côte d'Ivoire")
        atlas.wait_for_title("Anomaly in 1992")
        assert atlas.year() == 1992
        # the selectors show the link's choices (as Python would), though only Python can change them
        expect(atlas.page.get_by_label("Map shows", exact=True)).to_have_value(
            METRICS["year"].label(atlas.atlas.periods))
        expect(atlas.page.get_by_label("World Bank indicator")).to_have_value(
            atlas.indicator_label("AG.LND.FRST.ZS"))
        assert _map_state(atlas) == _python_colours(atlas, 1992)
        assert atlas.page.url.endswith(link)  # showing a link changes nothing in it
        # the link's notice, in Python's words, where Python shows it
        notice = atlas.page.get_by_text(" ".join(parse_query(link, atlas.atlas)[1]), exact=True)
        expect(notice).to_be_visible()
        heading = atlas.page.get_by_text("Compared with:").inner_text()

        atlas.page.get_by_role("slider").first.press("ArrowLeft")
        atlas.wait_for_title("Anomaly in 1991")
        drawn = _map_state(atlas)
        assert drawn == _python_colours(atlas, 1991)
        austria = drawn[1][map_countries(atlas.atlas.geometry).index("AUT")]
        assert austria.startswith("+0.12 °C"), austria  # 0.125: Python rounds ties to even
        assert "year=1991" in atlas.page.url and "countries=TUR,CIV" in atlas.page.url
        # the visitor moved on from the link: its notice goes, and so does what it spoke of
        expect(notice).to_be_hidden()
        assert parse_query(urlsplit(atlas.page.url).query, atlas.atlas)[1] == []
        # the charts below the warming stripes (which wait for Python) lie where Python draws them
        boxes = atlas.plot_box(MAP_NAME), atlas.plot_box("Forest area: ")
        _python_is_held(atlas.page, gate)

        atlas.page.evaluate(_RECORD_FRAMES_JS)
        gate.release()
        atlas.wait_ready(BOOT_TIMEOUT_MS)
        frames = _frames_since(atlas.page)
        assert frames and all("Anomaly in 1991, °C vs 1951-1980" in f
                              and "Temperature anomaly: Türkiye, Côte d'Ivoire" in f
                              for f in frames), frames[:3]
        assert atlas.year() == 1991
        assert _map_state(atlas) == drawn
        assert atlas.page.get_by_text("Compared with:").inner_text() == heading
        expect(notice).to_be_hidden()
        assert (atlas.plot_box(MAP_NAME), atlas.plot_box("Forest area: ")) == boxes


def test_a_links_notice_and_embed_show_before_python(browser: Browser) -> None:
    """An embedded view's link shows only that view, its link back and the notice for what the link
    dropped (in Python's words) as soon as the map is drawn, and none of it moves when Python takes
    over."""
    link = "?embed=map&countries=FRA,XXX&colour=red&utm_source=news"
    with _held(browser) as (open_at, gate):
        atlas = open_at(link)
        page = atlas.page
        notice = page.get_by_text(" ".join(parse_query(link, atlas.atlas)[1]), exact=True)
        back = page.get_by_role("link", name="Open the full Climate Atlas at this view")
        search = page.get_by_placeholder("Name, ISO3 code")
        expect(notice).to_be_visible()
        expect(notice).to_have_text("Unknown country code 'XXX' was ignored. "
                                    "Unknown link setting 'colour' was ignored.")
        announced = page.get_by_role("alert")  # a screen reader is told, as after the handover
        expect(announced).to_have_text(notice.inner_text())
        expect(back).to_be_visible()
        expect(back).to_have_attribute("href", "?countries=FRA")  # the whole atlas, valid values
        expect(search).to_be_hidden()
        expect(page.get_by_text("Temperature series:")).to_be_hidden()
        atlas.wait_for_highlight(["FRA"])
        boxes = notice.bounding_box(), back.bounding_box(), atlas.plot_box(MAP_NAME)
        _python_is_held(page, gate)

        gate.release()
        atlas.wait_ready(BOOT_TIMEOUT_MS)
        expect(notice).to_be_visible()
        expect(announced).to_have_text(notice.inner_text())
        expect(back).to_be_visible()
        expect(back).to_have_attribute("href", re.compile(r"^\?countries=FRA&(?!.*embed)"))
        expect(search).to_be_hidden()
        atlas.wait_for_highlight(["FRA"])
        assert (notice.bounding_box(), back.bounding_box(), atlas.plot_box(MAP_NAME)) == boxes


def test_a_link_to_another_season_is_left_to_python(browser: Browser) -> None:
    """The pre-render carries the year as a whole only: a link to a season stands it down (and the
    page says so) rather than draw the wrong series; Python then draws the link. The warming
    stripes wait at the height Python draws them for the link's two countries, so the chart below
    them does not move."""
    link = SEASON_BASE_LINK.replace("countries=NOR", "countries=SWE,NOR")
    with _held(browser, returning=True) as (open_at, gate):
        atlas = open_at(link)
        page = atlas.page
        expect(page.locator("#site-prerender")).to_contain_text("needs Python")
        # the default's map, heading and charts, which are not the link's, say they are loading
        assert page.evaluate(_MARKED_LOADING_JS, [MAP_NAME, "Selected: India", "India: trend",
                                                  "CO2 emissions per capita: "]) == [True] * 4
        page.mouse.click(*atlas.plot_point(*atlas.country_point("BRA"), MAP_NAME))
        page.wait_for_timeout(300)  # time for a click to be answered, were it to be
        assert "BRA" not in page.url
        # the stripes' height, and so the indicator chart's place below them (the heading above,
        # the default country's until Python, moves both alike)
        stripes, below = atlas.plot_box(STRIPES_NAME), atlas.plot_box("CO2 emissions per capita: ")
        assert stripes[3] == stripes_height(2)
        _python_is_held(page, gate)
        gate.release()
        atlas.wait_ready(BOOT_TIMEOUT_MS)
        atlas.wait_for_heading("NOR")
        atlas.wait_for_title("Anomaly in 2010, Dec–Jan–Feb, °C vs 1961-1990")
        atlas.wait_for_title("Temperature anomaly, Dec–Jan–Feb: Sweden, Norway")
        stripes_live, below_live = atlas.plot_box(STRIPES_NAME), atlas.plot_box("CO2 emissions per capita: ")
        assert stripes_live[3] == stripes[3]
        assert below_live[1] - stripes_live[1] == below[1] - stripes[1]


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_one_mark_turns_while_python_starts_unless_the_visitor_asked_for_less_motion(
        browser: Browser, motion: str) -> None:
    """Before Python, a part that waits for it (the search box) shows Panel's loading mark standing
    still; the status bar's mark turns, and stands still too for a visitor whose system asks for
    reduced motion."""
    with _held(browser, reduced_motion=motion) as (open_at, _):
        atlas = open_at("")
        _before_python(atlas.page)

        def still(locator: Locator) -> bool:
            shots = []
            for _ in range(3):
                shots.append(locator.screenshot())
                atlas.page.wait_for_timeout(230)  # a turn takes 1 s: no two shots a turn apart
            return len(set(shots)) == 1

        assert still(atlas.page.locator(".bk-AutocompleteInput.pn-loading"))
        assert still(atlas.page.locator("#site-status")) == (motion == "reduce")


# The pre-render's port of links.parse_query, run in a page: the address the browser makes of the
# query (location.search), and what the port reads from it.
_PARSE_LINK_JS = f"""([query, rules, codes]) => {{
  {PARSE_LINK_JS}
  const search = new URL('http://127.0.0.1/?' + query).search;
  return [search, parse_link(search, rules, codes)];
}}"""


@pytest.fixture(scope="module")
def read_link(browser: Browser) -> Iterator[Callable[[str], tuple[str, dict, list[str]]]]:
    """query -> (location.search of it, the values and the notices the port reads from it)."""
    atlas = load_atlas()
    rules, codes = link_rules(atlas), list(atlas.countries.index)
    context = new_context(browser, NetworkLog())
    page = context.new_page()

    def read(query: str) -> tuple[str, dict, list[str]]:
        search, parsed = page.evaluate(_PARSE_LINK_JS, [query, rules, codes])
        return search, parsed["values"], parsed["notices"]

    yield read
    context.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries())
# Python's whitespace, upper case, repr quoting and escapes, cut values, lists, repeated keys
@example("countries=%C2%85swe%1C,%E2%80%AEfra,%C2%A0nor%E3%80%80&year=%1F1999%0B")
@example("countries=x%27y,a%22b,c%27%22d,e%5Cf,%7F%C2%80%C2%A0%E2%80%8B%F0%9F%98%80&year=2000&year=1999")
@example("countries=%C5%BF%C3%9F,%C4%B1nd,%EF%AC%80,deu&%E2%80%AEcol=1&utm_source=a&fbclid=b")
@example("countries=" + "x" * 45 + "&countries=FRA,DEU,ITA,ESP,PRT,NOR,SWE,FIN,DNK,POL,a,b,c,d,e,f")
# characters newer than Pyodide's Python (Unicode 16 and 15.1), which Chromium knows
@example("countries=" + ",".join("%F0%9F%AB%A9" * 8 + str(k) for k in range(5)))
@example("%E2%BF%BC%E3%87%AF=1&indicator=%E3%87%AF%F0%9F%AB%A9&countries=DEU")
@example("??countries=FRA&embed=&embed=map&metric=own&metric=year&metric=mean&base=1991-2020&=")
def test_the_pre_render_reads_a_link_as_python_does(read_link, query: str) -> None:
    """Before Python the page keeps the values Python keeps and shows the notices Python shows,
    word for word, for any link (here generated; no runtime is booted)."""
    search, values, notices = read_link(query)
    assert (values, notices) == parse_query(search, load_atlas())
