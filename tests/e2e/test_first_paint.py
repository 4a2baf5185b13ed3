"""The static site's first paint: the map's picture (tools/build_site/poster.py) is on screen before
BokehJS has run, where and as BokehJS then draws the map, and it goes once BokehJS has drawn it.

Static site only (`panel serve` has no pre-render). The test's server holds BokehJS's and Panel's
files back (tools/servers.Gate), so "before BokehJS" is a state the test controls, and the Python
runtime too, so that nothing else changes the page meanwhile. A click on the picture is answered
on it: the clicked country's temperature chart, compared here with the chart Python draws.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from climate_atlas.data import Atlas, load_atlas
from climate_atlas.links import parse_query
from climate_atlas.views.prerender import TABLE_ID
from climate_atlas.views.series import TEMPERATURE_NAME, temperature_chart
from climate_atlas.views.world_map import MAP_NAME
from tests.e2e.browser import BUILD, NetworkLog, new_context, watch_console
from tools.atlas_page import AtlasPage
from tools.chromium import CHROMIUM, LAUNCH_ARGS
from tools.servers import Gate, static_serve

SCRIPTS = "/js/*"  # BokehJS, Panel's JS and the page's half of the Python worker (scripts.py)
RUNTIME = "/pyodide/pyodide.asm.*"
# Large countries across the map: a point inside each, in its colour on the picture and the map.
COUNTRIES = ["BRA", "AUS", "USA", "CAN", "RUS", "CHN", "IND", "DZA", "COD", "ARG", "KAZ", "SAU"]

_PICTURE_BOX_JS = """() => {
  const r = document.querySelector('#atlas-poster .figure svg').getBoundingClientRect();
  return [r.x, r.y, r.width, r.height];
}"""
# The frame of the plot named `name` as BokehJS draws it, in page coordinates.
_FRAME_BOX_JS = """name => {
  const v = Bokeh.index.query_one((v) => v.model.name === name);
  const r = v.el.getBoundingClientRect(), f = v.frame.bbox;
  return [r.x + f.x, r.y + f.y, f.width, f.height];
}"""


def _colour(page: Page, points: list[tuple[float, float]]) -> list[tuple[int, ...]]:
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    return [shot.getpixel((round(x), round(y))) for x, y in points]


@pytest.fixture(scope="module")
def scrollbars(browser: Browser) -> Iterator[Browser]:
    """A browser that draws scrollbars that take room, as desktop browsers on Windows and Linux do
    (headless Chromium hides them): the page gets one once BokehJS has drawn it."""
    other = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS,
                                        ignore_default_args=["--hide-scrollbars"])
    yield other
    other.close()


@pytest.mark.parametrize(("viewport", "scrollbar"),
                         [({"width": 1400, "height": 1000}, False),
                          ({"width": 1400, "height": 1000}, True), ({"width": 390, "height": 844}, False)],
                         ids=["desktop", "desktop-scrollbar", "phone"])
def test_the_map_is_painted_before_bokehjs_runs_where_bokehjs_draws_it(
        request: pytest.FixtureRequest, browser: Browser, viewport: dict, scrollbar: bool) -> None:
    if scrollbar:
        browser = request.getfixturevalue("scrollbars")
    scripts, runtime = Gate(SCRIPTS), Gate(RUNTIME)
    log = NetworkLog()
    with static_serve(BUILD, gates=(scripts, runtime)) as url:
        context = new_context(browser, log, viewport=viewport)
        page = context.new_page()
        watch_console(page, log)
        try:
            page.goto(url, wait_until="commit")
            page.wait_for_selector("html[data-atlas-poster='up'] #atlas-poster .figure svg", state="visible")
            # the picture can be up before the parser reaches the deferred script's tag
            assert scripts.asked.wait(30) and page.evaluate("window.Bokeh === undefined")
            picture = page.evaluate(_PICTURE_BOX_JS)
            before = page.screenshot()

            scripts.release()
            page.wait_for_selector("html[data-atlas-poster='done']", state="attached")
            assert page.locator("#atlas-poster").count() == 0
            frame = page.evaluate(_FRAME_BOX_JS, MAP_NAME)
            # BokehJS rounds the frame to whole pixels; the picture keeps the fraction
            assert all(abs(a - b) <= 1 for a, b in zip(picture, frame, strict=True)), (picture, frame)
            atlas = AtlasPage(page, "static")
            points = [atlas.plot_point(*atlas.country_point(c), MAP_NAME) for c in COUNTRIES]
            frame = page.evaluate(_FRAME_BOX_JS, MAP_NAME)  # plot_point scrolls the map into view
            on_picture = [(x - frame[0] + picture[0], y - frame[1] + picture[1]) for x, y in points]
            shot = Image.open(io.BytesIO(before)).convert("RGB")
            painted = [shot.getpixel((round(x), round(y))) for x, y in on_picture]
            drawn = _colour(page, points)
            differ = [(c, p, d) for c, p, d in zip(COUNTRIES, painted, drawn, strict=True)
                      if max(abs(a - b) for a, b in zip(p, d, strict=True)) > 3]
            assert differ == [], f"(country, picture, map) colours that differ: {differ}"
        finally:
            context.close()
    assert log.external == [] and log.console_errors == [], log.console_errors


# Links, and whether the picture shows for them: it shows the default state, with no notice above
LINKS_AND_PICTURE = (
    ("?countries=FRA", "off"), ("?year=1999", "off"), ("?embed=chart", "off"),
    ("?indicator=AG.LND.FRST.ZS", "up"), ("?utm_source=news&indicator=AG.LND.FRST.ZS&fbclid=x", "up"),
    # a notice would move the map down as soon as BokehJS draws it
    ("?colour=red", "off"), ("?indicator=nope", "off"), ("?Countries=FRA", "off"),
    ("?indicator=AG.LND.FRST.ZS&indicator=AG.LND.FRST.ZS", "off"),
)


def test_a_link_that_changes_the_map_opens_without_the_picture(browser: Browser) -> None:
    """The picture is the default state: a link to a selection (or a metric, year, season, base or
    embedded view), or one that brings a notice, shows nothing of it, not even for a frame; a link
    to an indicator keeps it."""
    scripts, runtime = Gate(SCRIPTS), Gate(RUNTIME)
    log = NetworkLog()
    with static_serve(BUILD, gates=(scripts, runtime)) as url:
        for query, shown in LINKS_AND_PICTURE:
            values, notices = parse_query(query, load_atlas())
            assert (shown == "up") == (notices == [] and set(values) <= {"indicator"}), query
            # a context each: the held requests of one keep its connections to the server busy
            context = new_context(browser, log, viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            watch_console(page, log)
            try:
                page.goto(url + query, wait_until="commit")
                page.wait_for_selector(f"html[data-atlas-poster='{shown}']", state="attached")
                assert page.locator("#atlas-poster").count() == (shown == "up"), query
            finally:
                context.close()
    assert log.external == [] and log.console_errors == [], log.console_errors


_OUTLINED_AT_JS = """([x, y]) => {
  const hit = document.elementFromPoint(x, y);
  return hit != null && hit.classList.contains('atlas-clicked')
    && getComputedStyle(hit).strokeWidth === '2.5px';
}"""
# The chart the picture drew for a click: its title, legend, and each line's points in data units.
_POSTER_CHART_JS = """() => {
  const chart = document.querySelector('#atlas-poster .chart');
  if (chart == null || chart.hidden) return null;
  const d = (name) => chart.querySelector('svg path.' + name).getAttribute('d') || '';
  const r = chart.querySelector('.frame').getBoundingClientRect();
  return {title: chart.querySelector('.title').textContent,
          legend: [...chart.querySelectorAll('.legend > div')].map((e) => e.textContent),
          series: d('series'), trend: d('trend'), world: d('world'), frame: [r.x, r.y, r.width, r.height]};
}"""


# Whether the page's country table is not yet whole: not in the page, or not all of its text.
_TABLE_INCOMPLETE_JS = """id => {
  const block = document.getElementById(id);
  try { JSON.parse(block.textContent); } catch (e) { return true; }
  return false;
}"""


def _points(d: str) -> list[tuple[float, float]]:
    """The points of an SVG path of M and L commands (y pointing down) in data units (y up)."""
    numbers = [float(n) for n in re.findall(r"-?[\d.]+(?:e-?\d+)?", d)]
    return [(x, -y) for x, y in zip(numbers[::2], numbers[1::2], strict=True)]


def _python_drawn(atlas: Atlas, iso3: str) -> dict:
    """What the temperature chart Python draws for a selection of `iso3` shows."""
    chart = temperature_chart(atlas, [iso3])
    slot = chart.slots[0]
    lines = {"series": slot.series.data, "trend": slot.trend.data, "world": chart.world.data}
    legend = ["World", slot.series_item.label.value]
    if slot.trend_item.visible:
        legend.append(slot.trend_item.label.value)
    return {"title": chart.figure.title.text, "legend": legend,
            **{k: list(zip(v["year"], v["value"], strict=True)) for k, v in lines.items()}}


def _assert_drawn_as_python_draws(drawn: dict | None, atlas: Atlas, iso3: str) -> None:
    """The picture's chart (_POSTER_CHART_JS) shows what Python's chart for `iso3` shows."""
    python = _python_drawn(atlas, iso3)
    assert drawn is not None, f"no chart for {iso3}"
    assert (drawn["title"], drawn["legend"]) == (python["title"], python["legend"])
    for line in ("series", "trend", "world"):
        assert _points(drawn[line]) == pytest.approx(python[line]), (iso3, line)


@pytest.mark.parametrize("viewport", [{"width": 1400, "height": 1000}, {"width": 768, "height": 1000},
                                      {"width": 390, "height": 844}], ids=["desktop", "tablet", "phone"])
def test_a_click_on_the_picture_is_answered_on_it_and_once_the_map_is_drawn(
        browser: Browser, viewport: dict) -> None:
    """A visitor who clicks a country on the picture, before BokehJS has run, sees it outlined and
    its temperature chart drawn at once (the same title, legend and lines as the chart Python draws
    for that country, where BokehJS will draw it), and once the pre-render is drawn the click is
    answered as a click on the map: heading, temperature chart and address name that country (the
    Python runtime stays held back). Yemen: a series with gaps and no trend; Bosnia and Herzegovina:
    a name whose heading and chip take more lines than the default's, and y tick labels narrower
    than the default's (BokehJS's axis, so the frame, starts further left). At a tablet's width the
    chips above the chart take two lines; at a phone's the chart's column wraps below the map's."""
    kept = "BIH"  # the last click, which the pre-render answers
    scripts, runtime = Gate(SCRIPTS), Gate(RUNTIME)
    log = NetworkLog()
    with static_serve(BUILD, gates=(scripts, runtime)) as url:
        context = new_context(browser, log, viewport=viewport)
        page = context.new_page()
        watch_console(page, log)
        try:
            page.goto(url, wait_until="commit")
            page.wait_for_selector("html[data-atlas-poster='up'] #atlas-poster .figure svg", state="visible")
            assert page.evaluate(_POSTER_CHART_JS) is None  # no chart before a click
            # the rest of the page, with the country table the picture's chart is drawn from
            page.wait_for_function("document.readyState !== 'loading'")
            atlas = AtlasPage(page, "static")
            for iso3 in ("AUS", "YEM", kept):  # the last click is the one kept
                point = atlas.picture_point(iso3)
                page.mouse.click(*point)
                assert page.evaluate(_OUTLINED_AT_JS, list(point)), iso3
                _assert_drawn_as_python_draws(page.evaluate(_POSTER_CHART_JS), atlas.atlas, iso3)
            # one outline: the click replaced the default selection
            assert page.locator("#atlas-poster path.atlas-clicked").count() == 1
            assert page.locator('#atlas-poster path[fill="none"]').count() == 0
            assert page.evaluate("window.Bokeh === undefined")
            poster_frame = page.evaluate(_POSTER_CHART_JS)["frame"]

            scripts.release()
            atlas.wait_for_heading(kept)
            atlas.wait_for_title(f"{atlas.atlas.country_name(kept)}: trend")
            assert f"countries={kept}" in page.url
            assert page.locator("body").get_attribute("data-atlas-ready") != "true"
            assert page.locator("#atlas-poster").count() == 0
            frame = page.evaluate(_FRAME_BOX_JS, TEMPERATURE_NAME)  # where the picture's chart was
            assert all(abs(a - b) <= 2 for a, b in zip(poster_frame, frame, strict=True)), (
                poster_frame, frame)
        finally:
            context.close()
    assert log.external == [] and log.console_errors == [], log.console_errors


# The picture's top left corner: the Arctic Ocean, no country.
_SEA_JS = """() => {
  const r = document.querySelector('#atlas-poster .figure svg').getBoundingClientRect();
  const [x, y] = [r.x + 4, r.y + 4];
  return document.elementFromPoint(x, y).dataset?.iso3 === undefined ? [x, y] : null;
}"""
# Once the picture's chart shows, whether the page was still arriving (polled at each frame).
_CHART_SHOWN_JS = """() => !document.querySelector('#atlas-poster .chart').hidden && document.readyState"""


# Where a country is on the picture while it is still arriving (picture_point waits for all of
# it): its path's box's centre, if that point is the country's.
_EARLY_POINT_JS = """iso3 => {
  const path = document.querySelector(`#atlas-poster .figure svg path[data-iso3="${iso3}"]`);
  if (path == null) return null;
  const r = path.getBoundingClientRect(), [x, y] = [r.x + r.width / 2, r.y + r.height / 2];
  return document.elementFromPoint(x, y) === path ? [x, y] : null;
}"""


@pytest.mark.parametrize("case", ["country", "country-then-sea", "before-its-script"])
def test_a_click_on_the_picture_before_the_country_table_arrives_is_drawn_once_it_has(
        browser: Browser, case: str) -> None:
    """On a slow link the picture is on screen while the rest of the page, with the country table
    the picture's chart is drawn from, is still arriving: a click then outlines the country and
    draws its chart as soon as the table is in, while the page is still arriving and before
    BokehJS has run (it used to wait for the pre-render to be drawn). A click on the sea changes
    nothing, as on the map. A click on the picture while the picture itself is still arriving,
    before its script listens, is kept for that script."""
    scripts, runtime = Gate(SCRIPTS), Gate(RUNTIME)
    log = NetworkLog()
    with static_serve(BUILD, gates=(scripts, runtime)) as url:
        context = new_context(browser, log, route=False, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        watch_console(page, log)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        # 20 kB/s: the picture (about 75 kB of paths) takes about four seconds to arrive, the
        # table (about 0.1 MB, after it) about five more, the whole page (0.64 MB) about thirty
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": 20e3, "uploadThroughput": 20e3})
        try:
            page.goto(url, wait_until="commit")
            atlas = AtlasPage(page, "static")
            if case == "before-its-script":
                point = None
                while point is None:
                    page.wait_for_timeout(20)
                    point = page.evaluate(_EARLY_POINT_JS, "BRA")
                    # (at first the document may have no element yet)
                    assert page.evaluate("document.documentElement?.dataset.atlasPoster") is None, (
                        "the picture's script ran before Brazil was on screen")
                page.mouse.click(*point)
                assert page.evaluate("document.documentElement.dataset.atlasPoster") is None
                page.wait_for_selector("html[data-atlas-poster='up']", state="attached", timeout=30_000)
                # (the picture may move as the rest of its column arrives)
                clicked = page.locator("#atlas-poster path.atlas-clicked")
                assert clicked.evaluate("p => p.dataset.iso3") == "BRA"
            else:
                page.wait_for_selector("html[data-atlas-poster='up'] #atlas-poster .figure svg",
                                       state="visible")
                point = atlas.picture_point("BRA")
                page.mouse.click(*point)
                assert page.evaluate(_OUTLINED_AT_JS, list(point))
            assert page.evaluate(_TABLE_INCOMPLETE_JS, TABLE_ID), "the whole table came first"
            assert page.evaluate(_POSTER_CHART_JS) is None
            if case == "country-then-sea":
                sea = page.evaluate(_SEA_JS)
                assert sea is not None, "the picture's corner is a country"
                page.mouse.click(*sea)
                assert page.evaluate(_OUTLINED_AT_JS, list(point)), "a click on the sea took the outline"
            shown = page.wait_for_function(_CHART_SHOWN_JS, polling="raf", timeout=60_000)
            assert shown.json_value() == "loading"
            _assert_drawn_as_python_draws(page.evaluate(_POSTER_CHART_JS), atlas.atlas, "BRA")
            assert page.evaluate("window.Bokeh === undefined")
            # the pre-render answers the kept click where it was made, as a click on Brazil
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                          "downloadThroughput": -1, "uploadThroughput": -1})
            scripts.release()
            atlas.wait_for_heading("BRA")
            assert "countries=BRA" in page.url
        finally:
            context.close()
    assert log.external == [] and log.console_errors == [], log.console_errors
