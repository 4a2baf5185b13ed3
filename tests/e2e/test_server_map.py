"""The served map's own controls (`panel serve` only): projections, the tile basemap, 50m detail.

Two page boots: one server whose tiles come from a tile server of this module on 127.0.0.1 (PNG
tiles drawn with Pillow on request), and one whose tile URL names a host the browser context
aborts, as in an air-gapped deployment. Every test puts back what it changed (Equal Earth, tiles
off, 110m), so the order of the tests does not matter.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Locator, expect

from climate_atlas import server_extras
from climate_atlas.pictures import TAINTED
from climate_atlas.views.world_map import MAP_NAME
from tests.e2e.browser import BOOT_TIMEOUT_MS, NetworkLog, artifact, new_context, watch_console
from tools.atlas_page import AtlasPage
from tools.map_points import point_in
from tools.servers import HOST, panel_serve

EQUAL_EARTH = "Equal Earth"
OTHER_PROJECTIONS = ["Robinson", "Mollweide", server_extras.ORTHOGRAPHIC, "Plate Carrée"]
ORIGIN = (0.0, 0.0)
TILE_COLOUR = (255, 0, 255)  # magenta: no country is filled with it, so a magenta pixel is a tile
TILE_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.png$")
BLOCKED_TILES = "http://tiles.invalid/{Z}/{X}/{Y}.png"
BLOCKED_TILE_URL = re.compile(r"^http://tiles\.invalid/\d+/\d+/\d+\.png$")
# Big countries to click, in order of preference; each test clicks one that is not selected yet.
CLICK_TARGETS = ["BRA", "AUS", "CAN", "CHN", "USA", "RUS", "ARG", "KAZ", "DZA", "COD", "IND"]
REDRAW_TIMEOUT_MS = 60_000
DETAIL_TIMEOUT_MS = 120_000  # the first 50m projection in a process takes seconds, up to ~30 s

# BokehJS keeps a replaced figure's models in `doc.all_models` (every map drawn so far is there,
# the first one first), but only the figure on screen has a view: everything below starts from
# that view, never from a search of all models.
_LIVE_MAP = f"""const doc = Bokeh.documents[Bokeh.documents.length - 1];
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.model.name === '{MAP_NAME}'
                                          && v.frame != null);
  const sources = view == null ? [] : view.model.renderers.map(r => r.data_source);
  const source = sources.find(s => s != null && s.data != null && s.data.iso3 && s.data.label);
  const tiles = view == null ? null
    : (view.model.renderers.find(r => r.tile_source != null) || {{}}).tile_source || null;"""

# The tags of the map on screen (the served map has one: server_extras.map_tag).
_MAP_TAGS_JS = f"() => {{ {_LIVE_MAP} return view == null ? null : view.model.tags.map(String); }}"

# Tags of every map view in the page: exactly one map is on the page at a time.
_MAP_VIEWS_JS = f"""() => [...Bokeh.index.query(v => v.model.name === '{MAP_NAME}')]
  .map(v => v.model.tags.map(String).join(' '))"""

# One column of the choropleth's data source (one row per country).
_MAP_COLUMN_JS = f"""column => {{ {_LIVE_MAP}
  return source == null ? null : Array.from(source.data[column], v => Number.isNaN(v) ? null : v);
}}"""

# The choropleth's data: rows, coordinate count and bounds of all its polygons' xs and ys.
_MAP_SHAPE_JS = f"""() => {{ {_LIVE_MAP}
  if (source == null) return null;
  let points = 0, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const {{xs, ys}} = source.data;
  for (let row = 0; row < xs.length; row++)
    for (let part = 0; part < xs[row].length; part++)
      for (let ring = 0; ring < xs[row][part].length; ring++) {{
        const x = xs[row][part][ring], y = ys[row][part][ring];
        for (let i = 0; i < x.length; i++) {{
          points++;
          x0 = Math.min(x0, x[i]); x1 = Math.max(x1, x[i]);
          y0 = Math.min(y0, y[i]); y1 = Math.max(y1, y[i]);
        }}
      }}
  return {{rows: xs.length, points, bounds: [x0, y0, x1, y1]}};
}}"""

# The basemap's tiles as BokehJS tracks them: [url template, [[loaded, finished], ...]] or null.
_TILES_JS = f"""() => {{ {_LIVE_MAP}
  return tiles == null ? null : [tiles.url, [...tiles.tiles.values()].map(t => [t.loaded, t.finished])];
}}"""

# Once every tile BokehJS asked for has settled (loaded and drawn, or failed): the tile URL and
# each tile's [loaded, finished], read in the same call (BokehJS may ask for more tiles later).
_TILES_SETTLED_JS = f"""() => {{ {_LIVE_MAP}
  if (tiles == null || tiles.tiles.size === 0) return null;
  const states = [...tiles.tiles.values()].map(t => [t.loaded, t.finished]);
  return states.every(([loaded, finished]) => loaded || finished) ? [tiles.url, states] : null;
}}"""


class ServedMapPage(AtlasPage):
    """AtlasPage reading the map on screen. (AtlasPage's map_column and country_point take the
    first map in `doc.all_models`, which after a redraw is a replaced one.)"""

    def map_key(self) -> tuple[str, str, tuple[float, float]] | None:
        """(detail, projection, centre) of the map on screen, from its tag."""
        tags = self.page.evaluate(_MAP_TAGS_JS) or []
        tag = next((t for t in tags if t.startswith("server-map|")), None)
        if tag is None:
            return None
        _, projection, detail, center = tag.split("|")
        lon, lat = (float(v) for v in center.split(","))
        return detail, projection, (lon, lat)

    def map_column(self, column: str) -> list:
        return self.page.evaluate(_MAP_COLUMN_JS, column)

    def country_point(self, iso3: str) -> tuple[float, float]:
        key = self.map_key()
        assert key is not None, "no served map on the page"
        point = point_in(server_extras.projected(*key), iso3)
        assert point is not None, f"{iso3} is not on the map {key}"
        return point


# --- the tile server -------------------------------------------------------------------------

def _tile_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), TILE_COLOUR).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class TileServer:
    """An xyz tile server on 127.0.0.1 that records every path asked for."""

    template: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tile_server() -> Iterator[TileServer]:
    png = _tile_png()
    requests: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requests.append(self.path)
            match = TILE_PATH.match(self.path)
            valid = match is not None and all(
                0 <= int(v) < 2 ** int(match[1]) for v in (match[2], match[3]))
            self.send_response(200 if valid else 404)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Type", "image/png" if valid else "text/plain")
            body = png if valid else b"no such tile"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TileServer(f"http://{HOST}:{server.server_address[1]}/{{Z}}/{{X}}/{{Y}}.png",
                         requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# --- the two served pages --------------------------------------------------------------------

@dataclass
class Served:
    """One booted page of `panel serve`, its network log, and each console error with the URL
    it is about (a failed load names the resource there, not in its text)."""

    page: ServedMapPage
    log: NetworkLog
    errors: list[tuple[str, str]] = field(default_factory=list)


def _boot(browser: Browser, tile_url: str) -> Iterator[Served]:
    with panel_serve(env={server_extras.TILE_URL_ENV: tile_url}) as app:
        url = app.url
        log = NetworkLog()
        context = new_context(browser, log, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        watch_console(page, log)
        served = Served(ServedMapPage(page, "serve"), log)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                served.errors.append((message.text, message.location.get("url", "")))

        page.on("console", console)
        page.on("pageerror", lambda exc: served.errors.append((f"uncaught: {exc}", "")))
        page.goto(url)
        served.page.wait_ready(BOOT_TIMEOUT_MS)
        try:
            yield served
        finally:
            context.close()


@pytest.fixture(scope="module")
def served(browser: Browser, tile_server: TileServer) -> Iterator[Served]:
    """The served dashboard with tiles from the module's tile server."""
    yield from _boot(browser, tile_server.template)


@pytest.fixture(scope="module")
def offline(browser: Browser) -> Iterator[Served]:
    """The served dashboard whose tile host cannot be reached (the context aborts it)."""
    yield from _boot(browser, BLOCKED_TILES)


@pytest.fixture(autouse=True)
def _console_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    """No console error while a test runs, except that with tiles unreachable, failed tile loads
    are allowed (and only those)."""
    names = [n for n in ("served", "offline") if n in request.fixturenames]
    if not names:
        yield
        return
    pages: list[Served] = [request.getfixturevalue(n) for n in names]
    before = [(len(p.log.console_errors), len(p.errors)) for p in pages]
    yield
    for name, served_page, (logged, seen) in zip(names, pages, before, strict=True):
        if name == "offline":
            new = [f"{text} ({url})" for text, url in served_page.errors[seen:]
                   if not _is_tile_failure(text, url)]
        else:
            new = served_page.log.console_errors[logged:]
        assert new == [], "console errors during the test:\n" + "\n".join(new)


def _is_tile_failure(text: str, url: str) -> bool:
    """A tile that could not load, or could not load with CORS (BokehJS then loads it without)."""
    if text.startswith("Access to image at "):
        url = text.split("'")[1]
    return (text.startswith(("Failed to load resource", "Access to image at "))
            and BLOCKED_TILE_URL.match(url) is not None)


# --- helpers ---------------------------------------------------------------------------------

def _selected(atlas: ServedMapPage) -> str:
    found = re.search(r"\(([A-Z]{3})\)", atlas.heading())
    assert found, f"no country in the heading {atlas.heading()!r}"
    return found[1]


def _key(atlas: ServedMapPage, projection: str, detail: str = "110m") -> tuple:
    """The (detail, projection, centre) the map should now draw; the globe faces the selection."""
    center = (server_extras.globe_center(_selected(atlas))
              if projection == server_extras.ORTHOGRAPHIC else ORIGIN)
    return detail, projection, center


def _wait_for_map(atlas: ServedMapPage, key: tuple, timeout_ms: float = REDRAW_TIMEOUT_MS) -> None:
    """Wait until the map drawn is `key`'s, then check it is the only map on the page, with
    the controls still above it."""
    tag = server_extras.map_tag(key)
    atlas.page.wait_for_function(f"tag => ({_MAP_TAGS_JS})()?.includes(tag)", arg=tag,
                                 timeout=timeout_ms)
    assert atlas.page.evaluate(_MAP_VIEWS_JS) == [tag], "one map on the page, the new one"
    assert atlas.map_key() == key
    expect(atlas.page.get_by_label("Map projection", exact=True)).to_have_count(1)
    expect(_tiles_box(atlas)).to_have_count(1)
    expect(atlas.page.get_by_text("Tile basemap (switches the map to Web Mercator)")).to_have_count(1)
    expect(atlas.page.get_by_text("Detail 50m", exact=True)).to_have_count(1)


def _check_map_data(atlas: ServedMapPage, key: tuple) -> dict:
    """The map's data source holds `key`'s projected polygons: its countries, in order, and
    coordinates spanning the same extent. Returns the data's summary."""
    geo = server_extras.projected(*key)
    assert atlas.map_column("iso3") == [c["iso3"] for c in geo.geometry["countries"]]
    shape = atlas.page.evaluate(_MAP_SHAPE_JS)
    expected = [min(s.bounds[0] for s in geo.shapes.values()),
                min(s.bounds[1] for s in geo.shapes.values()),
                max(s.bounds[2] for s in geo.shapes.values()),
                max(s.bounds[3] for s in geo.shapes.values())]
    span = max(expected[2] - expected[0], expected[3] - expected[1])
    assert shape["bounds"] == pytest.approx(expected, abs=span * 1e-6), key
    return shape


def _click_some_country(atlas: ServedMapPage, key: tuple) -> str:
    """Click a big country that is on this map and not selected yet; it becomes the selection."""
    current = _selected(atlas)
    geo = server_extras.projected(*key)
    target = next(c for c in CLICK_TARGETS if c != current and point_in(geo, c) is not None)
    atlas.click_country(target)
    assert f"({target})" in atlas.heading()
    return target


def _tiles_box(atlas: ServedMapPage) -> Locator:
    """The tile basemap's checkbox, found by its accessible name (its <label>)."""
    return atlas.page.get_by_role("checkbox", name=server_extras.TILES_LABEL, exact=True)


def _set_tiles(atlas: ServedMapPage, on: bool) -> None:
    box = _tiles_box(atlas)
    if on:
        box.check()
    else:
        box.uncheck()


def _map_pixels(atlas: ServedMapPage) -> Image.Image:
    x, y, width, height, _ = atlas.canvas_box(MAP_NAME)
    box = {"x": x, "y": y, "width": width, "height": height}
    return Image.open(io.BytesIO(atlas.page.screenshot(clip=box))).convert("RGB")


# --- tests -----------------------------------------------------------------------------------

def test_each_projection_redraws_the_map_and_clicks_still_select(served: Served) -> None:
    atlas = served.page
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    previous = _check_map_data(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    try:
        for projection in OTHER_PROJECTIONS:
            atlas.choose("Map projection", projection)
            key = _key(atlas, projection)
            _wait_for_map(atlas, key)
            shape = _check_map_data(atlas, key)
            assert shape["bounds"] != pytest.approx(previous["bounds"], rel=1e-3), projection
            previous = shape
            picked = _click_some_country(atlas, key)
            if projection == server_extras.ORTHOGRAPHIC:
                # The globe turns to the country just selected (a new figure), which still selects.
                turned = ("110m", projection, server_extras.globe_center(picked))
                _wait_for_map(atlas, turned)
                _check_map_data(atlas, turned)
                _click_some_country(atlas, turned)
        atlas.page.screenshot(path=artifact("server-map-projection.png"))
    finally:
        atlas.choose("Map projection", EQUAL_EARTH)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    _check_map_data(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    _click_some_country(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    assert served.log.external == []


def test_tiles_from_a_local_server_are_drawn_under_a_web_mercator_map(
        served: Served, tile_server: TileServer) -> None:
    atlas = served.page
    mercator = ("110m", server_extras.MERCATOR, ORIGIN)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    assert atlas.page.evaluate(_TILES_JS) is None, "tiles are off by default"
    asked_before = len(tile_server.requests)
    try:
        _set_tiles(atlas, True)
        _wait_for_map(atlas, mercator)
        _check_map_data(atlas, mercator)
        expect(atlas.page.get_by_label("Map projection", exact=True)).to_be_disabled()
        url, tiles = atlas.page.wait_for_function(_TILES_SETTLED_JS,
                                                  timeout=REDRAW_TIMEOUT_MS).json_value()
        assert url == tile_server.template
        assert tiles and all(loaded for loaded, _ in tiles), f"tiles that failed: {tiles}"

        asked = tile_server.requests[asked_before:]
        assert asked, "the tile server saw no request"
        assert all(TILE_PATH.match(path) for path in asked), asked

        pixels = _map_pixels(atlas)
        pixels.save(artifact("server-map-tiles.png"))
        colours = pixels.getcolors(maxcolors=pixels.width * pixels.height)
        tile_share = sum(n for n, c in colours if c == TILE_COLOUR) / (pixels.width * pixels.height)
        assert tile_share > 0.15, f"only {tile_share:.0%} of the map shows the tiles"

        # The map's PNG is the map on screen now (a new figure): its size, with the tiles.
        _, data = atlas.download("Download the map (PNG)")
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        _, _, width, height, ratio = atlas.canvas_box(MAP_NAME)
        assert abs(picture.width - width * ratio) < ratio
        assert abs(picture.height - height * ratio) < ratio
        colours = picture.getcolors(maxcolors=picture.width * picture.height)
        assert sum(n for n, c in colours if c == TILE_COLOUR) / (picture.width * picture.height) > 0.15

        _click_some_country(atlas, mercator)
    finally:
        _set_tiles(atlas, False)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    expect(atlas.page.get_by_label("Map projection", exact=True)).to_be_enabled()
    assert atlas.page.evaluate(_TILES_JS) is None, "tiles off: no basemap"
    assert served.log.external == []


def test_50m_detail_redraws_the_map_and_clicks_still_select(served: Served) -> None:
    atlas = served.page
    coarse = _check_map_data(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    detailed = ("50m", EQUAL_EARTH, ORIGIN)
    try:
        atlas.page.get_by_text("Detail 50m", exact=True).click()
        _wait_for_map(atlas, detailed, DETAIL_TIMEOUT_MS)
        shape = _check_map_data(atlas, detailed)
        assert shape["rows"] > coarse["rows"] and shape["points"] > 3 * coarse["points"]
        assert {"SGP", "MLT", "MDV"} <= set(atlas.map_column("iso3"))
        _click_some_country(atlas, detailed)
    finally:
        atlas.page.get_by_text("Outline 110m", exact=True).click()
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    assert atlas.page.evaluate(_MAP_SHAPE_JS)["rows"] == coarse["rows"]
    assert served.log.external == []


def test_unreachable_tiles_fail_alone_and_the_map_still_works(offline: Served) -> None:
    atlas = offline.page
    mercator = ("110m", server_extras.MERCATOR, ORIGIN)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    assert offline.log.external == [], "nothing leaves loopback before tiles are on"
    try:
        _set_tiles(atlas, True)
        _wait_for_map(atlas, mercator)
        _check_map_data(atlas, mercator)
        _, tiles = atlas.page.wait_for_function(_TILES_SETTLED_JS,
                                                timeout=REDRAW_TIMEOUT_MS).json_value()
        assert tiles and not any(loaded for loaded, _ in tiles)
        _click_some_country(atlas, mercator)
    finally:
        _set_tiles(atlas, False)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    _click_some_country(atlas, ("110m", EQUAL_EARTH, ORIGIN))

    assert offline.log.external, "the tiles were never asked for"
    assert all(BLOCKED_TILE_URL.match(url) for url in offline.log.external), offline.log.external
    # Failed tile loads, and only those, reached the console (the autouse check says the same).
    assert offline.errors, "an aborted tile load logs an error"
    assert all(_is_tile_failure(*error) for error in offline.errors), offline.errors


def test_tiles_that_forbid_copying_stop_the_map_png_with_a_message(offline: Served) -> None:
    """A tile server whose CORS headers allow only its own site (an air-gapped deployment's own,
    say): its tiles are drawn, but the page may not copy them into a PNG, and the visitor is told
    why and what to do."""
    atlas = offline.page
    mercator = ("110m", server_extras.MERCATOR, ORIGIN)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
    # Playwright adds a CORS header allowing the page to a response without one: this one names
    # the tile host alone. Never reused by a later test.
    headers = {"Access-Control-Allow-Origin": "http://tiles.invalid", "Cache-Control": "no-store"}
    tile = _tile_png()
    atlas.page.route(BLOCKED_TILE_URL, lambda route: route.fulfill(
        body=tile, content_type="image/png", headers=headers))
    try:
        _set_tiles(atlas, True)
        _wait_for_map(atlas, mercator)
        atlas.page.wait_for_function(_TILES_SETTLED_JS, timeout=REDRAW_TIMEOUT_MS)
        _, tiles = atlas.page.evaluate(_TILES_JS)
        assert tiles and all(loaded for loaded, _ in tiles), "the tiles are drawn all the same"
        messages: list[str] = []  # an alert holds the click until dismissed: answer at once
        atlas.page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
        atlas.page.get_by_role("button", name="Download the map (PNG)").click()
        assert messages == [TAINTED]
    finally:
        atlas.page.unroute(BLOCKED_TILE_URL)
        _set_tiles(atlas, False)
    _wait_for_map(atlas, ("110m", EQUAL_EARTH, ORIGIN))
