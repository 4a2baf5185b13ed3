"""Your data: a visitor's CSV becomes an indicator and a map metric, in both modes, on a page of its
own; a bad file changes nothing on screen; on the static site no request carries the file."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Request, expect

from climate_atlas.views.own_data import WHERE
from climate_atlas.views.world_map import MAP_NAME, NO_DATA_COLOR
from tools.atlas_page import AtlasPage

MARKER = "Zebra crossings q7x"  # the series' name: found in a request only if the file left
GOOD = (f"Country,Year,Value,Name,Unit\n"
        f"India,2015,11.5,{MARKER},per km\nIndia,2019,12.25,,\nIN,2020,13,,\n"
        f"France,2019,40.5,,\nIvory Coast,2018,3.5,,\nAtlantis,2019,1,,\n").encode()
DUPLICATE = b"country,year,value\nFRA,2010,1\nFrance,2010,2\n"
OWN_METRIC = "Your data (chosen year, or the latest before)"


@pytest.fixture(scope="module")
def requests_seen(atlas: AtlasPage) -> Iterator[list[str]]:
    """Every request the page's context makes from now on: its URL and body."""
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(f"{request.url} {request.post_data_buffer or b''!r}")

    atlas.page.context.on("request", record)
    yield seen
    atlas.page.context.remove_listener("request", record)


def _pixel(atlas: AtlasPage, iso3: str) -> str:
    """The colour the map draws at a point inside the country, as "#rrggbb"."""
    atlas.page.mouse.move(0, 0)  # no hover highlight
    x, y = atlas.plot_point(*atlas.country_point(iso3), MAP_NAME)
    png = atlas.page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    return "#{:02x}{:02x}{:02x}".format(*Image.open(io.BytesIO(png)).convert("RGB").getpixel((0, 0)))


def _upload(atlas: AtlasPage, name: str, content: bytes) -> None:
    atlas.page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}])


def test_the_page_says_where_the_file_goes_before_the_upload(atlas: AtlasPage) -> None:
    where = WHERE["browser" if atlas.mode == "static" else "server"]
    expect(atlas.page.get_by_text(where)).to_be_visible()


def test_a_bad_file_is_refused_naming_the_line_and_nothing_on_screen_changes(
        atlas: AtlasPage) -> None:
    before = atlas.page.get_by_label("World Bank indicator", exact=True).input_value()
    _upload(atlas, "twice.csv", DUPLICATE)
    # announced at once to a screen reader (a11y.ANNOUNCE_ALERTS_JS)
    expect(atlas.page.get_by_role("alert").filter(has_text="Line 3")).to_have_text(
        "Line 3: a second value for 'France' (FRA) in 2010 (the first is on line 2). Nothing on "
        "the page changed.", timeout=30_000)
    assert atlas.page.get_by_label("World Bank indicator", exact=True).input_value() == before
    assert not any(title.startswith("Your data") for title in atlas.titles())


def test_a_file_becomes_the_indicator_and_a_map_metric(atlas: AtlasPage,
                                                       requests_seen: list[str]) -> None:
    _upload(atlas, "mine.csv", GOOD)
    expect(atlas.page.get_by_role("status").filter(has_text="Read ")).to_have_text(
        f"Read your file: {MARKER} (per km), 5 values for 3 countries, 2015-2020. It is now the "
        "chosen indicator, and a map metric. 1 unknown country left out: 'Atlantis'.", timeout=30_000)
    expect(atlas.page.locator(".alert").filter(has_text="Line 3")).to_have_count(0)
    atlas.wait_for_title(f"{MARKER}: India")
    assert atlas.series(f"{MARKER}: India", "India") == {2015: 11.5, 2019: 12.25, 2020: 13.0}
    expect(atlas.page.get_by_text("Source: your data, from your file (5 values, 3 countries)")
           ).to_be_visible()
    select = atlas.page.get_by_label("World Bank indicator", exact=True)
    assert select.input_value() == f"Your data: {MARKER} (per km)"

    atlas.choose("Map shows", OWN_METRIC)  # the year: the last, 2022; else the latest from 2017
    atlas.wait_for_title(f"Your data: {MARKER} (per km), {atlas.year()} or the latest of ")
    codes, values = atlas.drawn_countries(), atlas.map_column("value")
    assert values[codes.index("IND")] == 13.0 and values[codes.index("FRA")] == 40.5
    assert values[codes.index("DEU")] is None
    assert atlas.map_column("label")[codes.index("IND")] == "13 per km in 2020, your data"
    assert _pixel(atlas, "DEU") == NO_DATA_COLOR  # no data is grey, not the scale's low end
    assert "your-data" not in atlas.page.evaluate("location.search")  # a link cannot carry it
    if atlas.mode == "static":  # the file was read in the browser: no request carried it
        assert not [r for r in requests_seen if MARKER.replace(" ", "") in r.replace(" ", "")
                    or "Zebra" in r]


def test_the_table_and_the_ranking_show_the_series(atlas: AtlasPage) -> None:
    atlas.open_tab("Table")
    expect(atlas.page.get_by_text(f"indicator: {MARKER} in")).to_be_visible()
    table = atlas.page.locator(".tabulator").first
    iso3_filter = table.locator('.tabulator-col[tabulator-field="iso3"] input')
    iso3_filter.fill("FRA")
    iso3_filter.press("Enter")  # Tabulator filters on a key, not on fill's input event
    expect(table.locator(".tabulator-row")).to_have_count(1)
    expect(table.locator(".tabulator-row")).to_contain_text("40.5")
    atlas.choose("Map shows", "Mean anomaly 2018-2022")  # the ranking sets the series against it
    atlas.open_tab("Warming vs indicator")
    ranking = atlas.page.locator(".tabulator").filter(has_text="95% low")
    expect(ranking.locator(".tabulator-row").filter(
        has_text=f"Your data: {MARKER} (per km)")).to_have_count(1, timeout=60_000)


def test_a_second_file_replaces_the_first_everywhere(atlas: AtlasPage) -> None:
    _upload(atlas, "second.csv", b"iso3;year;value;name;unit\nIND;2015;1,5;Second series;t\n"
                                 b"FRA;2015;2,5;;\nESP;2015;3,5;;\n")
    expect(atlas.page.locator(".alert").filter(has_text="Read ")).to_contain_text(
        "Second series (t), 3 values for 3 countries", timeout=30_000)
    atlas.wait_for_title("Second series: India")
    assert atlas.series("Second series: India", "India") == {2015: 1.5}
    ranking = atlas.page.locator(".tabulator").filter(has_text="95% low")
    own_rows = ranking.locator(".tabulator-row").filter(has_text="Your data: Second series (t)")
    expect(own_rows).to_have_count(1, timeout=60_000)
    atlas.choose("Map shows", OWN_METRIC)
    expect(own_rows).to_have_count(0, timeout=60_000)  # the map shows it: no ρ with itself
