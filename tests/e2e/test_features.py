"""The seed's three interactions (the map draws every country, a click selects, an indicator redraws
its chart), then find, compare, time, table and downloads, analysis, keyboard and phone: in both
modes, on one page per mode."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Request, expect

from climate_atlas.layout import PLAY_INTERVAL_MS
from climate_atlas.state import DEFAULT_INDICATOR
from climate_atlas.views.scatter import scatter_table
from climate_atlas.views.stripes import (
    BAND,
    PNG_BAND_PX,
    PNG_FOOT_PX,
    PNG_TEXT_PX,
    STRIPES_NAME,
    hex_to_rgb,
    png_stripe_px,
    stripe_colors,
)
from tests.e2e.browser import NetworkLog, artifact
from tools.atlas_page import SCATTER_TITLE_MARKER, AtlasPage


def test_map_renders_every_country(atlas: AtlasPage) -> None:
    drawn = atlas.map_column("iso3")
    assert drawn == atlas.drawn_countries()
    assert {"FRA", "NOR", "SSD", "PSE", "ESH"} <= set(drawn)
    atlas.page.screenshot(path=artifact(f"dashboard-{atlas.mode}.png"), full_page=True)


def test_clicking_a_polygon_selects_its_country(atlas: AtlasPage) -> None:
    target = "AUS" if "(AUS)" in atlas.heading() else "BRA"
    name = atlas.atlas.country_name(target)
    atlas.click_country(target)
    assert f"({target})" in atlas.heading()
    atlas.wait_for_title(f"{name}: trend")


def test_changing_the_indicator_redraws_its_chart(atlas: AtlasPage) -> None:
    meta = atlas.atlas.indicator_meta
    current = atlas.page.get_by_label("World Bank indicator").input_value()
    gdp = atlas.indicator_label("NY.GDP.PCAP.PP.KD")
    code = "NY.GDP.PCAP.PP.KD" if current != gdp else "AG.LND.FRST.ZS"
    atlas.choose("World Bank indicator", atlas.indicator_label(code))
    atlas.wait_for_title(f"{meta.at[code, 'short_name']}:")


def _search(atlas: AtlasPage, typed: str, option: str) -> None:
    """Type into the search box, check the suggestion offered, and take it with Enter.

    The pointer is moved off the page first: BokehJS 3.9's autocomplete keeps the index of a
    hovered suggestion while the list shrinks under it, and then throws on Enter.
    """
    atlas.page.mouse.move(0, 0)
    box = atlas.page.get_by_label("Find a country")
    box.fill("")
    box.press_sequentially(typed, delay=30)
    expect(atlas.page.get_by_text(option, exact=True)).to_be_visible()
    box.press("Enter")


def _click_mode(atlas: AtlasPage, button: str, effect: str) -> None:
    atlas.page.get_by_role("button", name=button).click()
    atlas.page.get_by_text(f"a map click {effect} this").wait_for()


def _replace_on_click(atlas: AtlasPage) -> None:
    _click_mode(atlas, "Click replaces selection", "replaces")


def test_search_by_alias_selects_and_highlights(atlas: AtlasPage) -> None:
    _replace_on_click(atlas)
    _search(atlas, "Ivory", "Ivory Coast: Côte d'Ivoire (CIV)")
    atlas.wait_for_heading("CIV")
    atlas.wait_for_highlight(["CIV"])
    atlas.wait_for_title("Côte d'Ivoire: trend")


def test_compare_shows_a_legend_entry_per_country(atlas: AtlasPage) -> None:
    _replace_on_click(atlas)
    atlas.click_country("FRA")
    _click_mode(atlas, "Click adds to comparison", "adds to")
    atlas.click_country("DEU")
    atlas.click_country("EGY")
    atlas.wait_for_title("Temperature anomaly: France, Germany, Egypt")
    legend = atlas.legend()
    for name in ("France", "Germany", "Egypt", "World"):
        assert name in legend
    atlas.wait_for_highlight(["DEU", "EGY", "FRA"])
    _replace_on_click(atlas)


def test_year_slider_recolours_the_map_and_play_advances(atlas: AtlasPage) -> None:
    atlas.choose("Map shows", "Anomaly in the chosen year")
    start = atlas.year()
    atlas.wait_for_title(f"Anomaly in {start}")
    before = atlas.map_column("value")
    handle = atlas.page.get_by_role("slider").first
    handle.focus()
    for back in (1, 2, 3):  # each step answered before the next: a press may not cross an echo
        handle.press("ArrowLeft")
        atlas.wait_for_title(f"Anomaly in {start - back}")
    assert atlas.map_column("value") != before
    # From the first year, so the play has decades left when Pause is clicked: from three years
    # before the last it could reach the end and stop itself first on a slow machine.
    handle.press("Home")
    first = round(float(handle.get_attribute("aria-valuemin")))
    atlas.wait_for_title(f"Anomaly in {first}")
    atlas.page.get_by_role("button", name="▶ Play the years").click()
    atlas.wait_for_title(f"Anomaly in {first + 1}")
    atlas.page.get_by_role("button", name="❚❚ Pause").click()
    atlas.page.get_by_role("button", name="▶ Play the years").wait_for()
    paused = atlas.year()
    atlas.page.wait_for_timeout(3 * PLAY_INTERVAL_MS)
    assert atlas.year() == paused
    atlas.choose("Map shows", "Mean anomaly 2018-2022")
    atlas.wait_for_title("Mean anomaly 2018-2022")


def test_the_slider_and_play_show_the_chosen_year_from_any_metric(atlas: AtlasPage) -> None:
    """From a map of the mean or the trend, which do not change with the year, moving the slider or
    pressing Play shows the chosen year's anomaly: the visitor sees the years they choose."""
    mean = "Mean anomaly 2018-2022"
    shown = atlas.page.get_by_label("Map shows", exact=True)
    handle = atlas.page.get_by_role("slider").first
    atlas.choose("Map shows", mean)
    atlas.wait_for_title(mean)
    start = atlas.year()
    handle.focus()
    handle.press("ArrowLeft")
    atlas.wait_for_title(f"Anomaly in {start - 1}")
    assert shown.evaluate("s => s.options[s.selectedIndex].text") == "Anomaly in the chosen year"
    atlas.page.wait_for_function("() => location.search.includes('metric=year')")
    handle.press("Home")
    first = round(float(handle.get_attribute("aria-valuemin")))
    atlas.wait_for_title(f"Anomaly in {first}")
    atlas.choose("Map shows", "Trend 1993-2022 (°C per decade)")
    atlas.wait_for_title("Trend 1993-2022")
    atlas.page.get_by_role("button", name="▶ Play the years").click()
    atlas.wait_for_title(f"Anomaly in {first + 1}")
    atlas.page.get_by_role("button", name="❚❚ Pause").click()
    atlas.page.get_by_role("button", name="▶ Play the years").wait_for()
    atlas.choose("Map shows", mean)
    atlas.wait_for_title(mean)


def _download(atlas: AtlasPage, label: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(atlas.download(label)[1]))


def _select(atlas: AtlasPage, searches: list[tuple[str, str]]) -> None:
    """Select exactly these countries, in order, by search: (typed, suggestion "Name (ISO)")."""
    _replace_on_click(atlas)
    for i, (typed, option) in enumerate(searches):
        if i == 1:
            _click_mode(atlas, "Click adds to comparison", "adds to")
        _search(atlas, typed, option)
        atlas.wait_for_heading(option[-4:-1])
    _replace_on_click(atlas)


def test_stripes_show_under_the_temperature_chart_with_their_credit(atlas: AtlasPage) -> None:
    _select(atlas, [("Norw", "Norway (NOR)")])
    atlas.wait_for_stripes(["Norway"])
    atlas.wait_for_title("Norway: trend")
    series = atlas.atlas.series("NOR")
    expect(atlas.page.get_by_role("img", name=re.compile(
        f"^Warming stripes.*: Norway, {series.index.min()} to {series.index.max()}\\.$"))).to_be_visible()
    chart_x, chart_y, chart_w, chart_h = atlas.plot_box("Norway: trend")
    x, y, w, h = atlas.plot_box(STRIPES_NAME)
    assert chart_y + chart_h <= y < chart_y + chart_h + 50, "not right under the temperature chart"
    assert abs(x - chart_x) < 20 and abs(w - chart_w) < 40
    year = int(series.index.max())  # the hover names the year and its anomaly
    atlas.page.mouse.move(*atlas.plot_point(year, -1 + BAND / 2, STRIPES_NAME))
    expect(atlas.page.get_by_text(f"{series.loc[year]:+.2f} °C", exact=True)).to_be_visible()
    atlas.page.mouse.move(0, 0)
    caption = atlas.page.get_by_text("method by Ed Hawkins (University of Reading)")
    expect(caption).to_be_visible()
    expect(caption).to_contain_text(f"against {atlas.atlas.periods.base}")


def test_a_second_country_adds_a_row_of_stripes(atlas: AtlasPage) -> None:
    _select(atlas, [("Norw", "Norway (NOR)")])
    atlas.wait_for_stripes(["Norway"])
    one_row = atlas.plot_box(STRIPES_NAME)[3]
    _select(atlas, [("Norw", "Norway (NOR)"), ("Keny", "Kenya (KEN)")])
    atlas.wait_for_stripes(["Norway", "Kenya"])
    expect(atlas.page.get_by_role("img", name=re.compile("^Warming stripes.*Norway.*; Kenya"))
           ).to_be_visible()
    atlas.page.wait_for_function(
        "([name, h]) => Bokeh.index.query_one(v => v.model.name === name"
        " && v.model.document === Bokeh.documents[Bokeh.documents.length - 1])"
        ".el.getBoundingClientRect().height > 1.8 * h", arg=[STRIPES_NAME, one_row])


def test_stripes_png_holds_a_band_per_country_in_the_scales_colours(atlas: AtlasPage) -> None:
    """The PNG of Norway and Costa Rica (whose series is shorter): its size, and the colour of
    each band's first and last stripe against the scale for that year's anomaly in the data."""
    _select(atlas, [("Norw", "Norway (NOR)"), ("Costa", "Costa Rica (CRI)")])
    atlas.wait_for_stripes(["Norway", "Costa Rica"])
    requested: list[str] = []

    def listener(request: Request) -> None:
        requested.append(request.url)

    atlas.page.context.on("request", listener)
    try:
        image = Image.open(io.BytesIO(atlas.download("Download the stripes (PNG)", 60_000)[1]))
    finally:
        atlas.page.context.remove_listener("request", listener)
    if atlas.mode == "static":  # Pillow's wheel is not part of the boot: it comes with this click
        assert any("/pyodide/pillow-" in url for url in requested), requested
    assert image.format == "PNG"
    rows = [atlas.atlas.series("NOR"), atlas.atlas.series("CRI")]
    first = int(min(s.index.min() for s in rows))
    last = int(max(s.index.max() for s in rows))
    w = png_stripe_px(first, last)
    assert image.size == ((last - first + 1) * w, 2 * (PNG_TEXT_PX + PNG_BAND_PX) + PNG_FOOT_PX)
    pixels = image.convert("RGB")
    for row, series in enumerate(rows):
        y = row * (PNG_TEXT_PX + PNG_BAND_PX) + PNG_TEXT_PX + PNG_BAND_PX // 2
        for year in (int(series.index.min()), int(series.index.max())):
            anomaly = series.loc[year]
            drawn = pixels.getpixel(((year - first) * w + w // 2, y))
            assert drawn == hex_to_rgb(stripe_colors([anomaly])[0]), (row, year, anomaly)
            assert (drawn[0] > drawn[2]) == (anomaly >= 0)  # red is warm, blue is cool


def test_series_download_matches_the_data(atlas: AtlasPage) -> None:
    _replace_on_click(atlas)
    _search(atlas, "Norw", "Norway (NOR)")
    atlas.wait_for_heading("NOR")
    archive = _download(atlas, "Download the selected series")
    data = pd.read_csv(archive.open("climate-atlas-series.csv"))
    sources = pd.read_csv(archive.open("sources.csv"))
    temperature = data[data["series"].str.startswith("Temperature anomaly")]
    spot = temperature[(temperature["iso3"] == "NOR") & (temperature["year"] == 2015)]
    assert spot["value"].item() == atlas.atlas.series("NOR").loc[2015]
    assert set(data["series"]) <= set(sources["series"])
    assert sources[["publisher", "licence", "source_page", "release_date"]].notna().all().all()


def test_table_download_matches_the_data(atlas: AtlasPage) -> None:
    atlas.choose("Map shows", "Mean anomaly 2018-2022")
    atlas.wait_for_title("Mean anomaly 2018-2022")
    archive = _download(atlas, "Download the table")
    table = pd.read_csv(archive.open("climate-atlas-table.csv"), keep_default_na=False,
                        na_values=[""])
    sources = pd.read_csv(archive.open("sources.csv"))
    mean_column = next(c for c in table.columns if c.startswith("Mean anomaly 2018-2022"))
    row = table[table["iso3"] == "FRA"].iloc[0]
    assert row[mean_column] == atlas.atlas.warming.at["FRA", "recent_mean"]
    assert len(table) == len(atlas.atlas.countries)
    assert any(s.startswith("Temperature anomaly") for s in sources["series"])


def test_table_is_sortable_and_filterable(atlas: AtlasPage) -> None:
    table = atlas.page.locator(".tabulator")
    table.locator('.tabulator-col[tabulator-field="country"] input').press_sequentially("Nor")
    expect(table.locator(".tabulator-row", has_text="Norway")).to_be_visible()
    rows = table.locator(".tabulator-row").all_inner_texts()
    assert rows and all("Nor" in row for row in rows)


def _shown_iso3(atlas: AtlasPage) -> list[str]:
    return atlas.page.locator('.tabulator-row .tabulator-cell[tabulator-field="iso3"]') \
        .all_inner_texts()


def _sort_by(atlas: AtlasPage, field: str, direction: str) -> None:
    """Click the column's title until the table sorts by it in `direction` (and by it alone)."""
    column = atlas.page.locator(f'.tabulator-col[tabulator-field="{field}"]')
    for _ in range(2):
        if column.get_attribute("aria-sort") == direction:
            return
        column.locator(".tabulator-col-title").click()
    expect(column).to_have_attribute("aria-sort", direction)


@pytest.mark.parametrize(("region", "field", "direction", "rows"), [
    ("Western Africa", "map metric", "descending", 17),
    # Réunion: the browser sorts it before Rwanda (accents after letters), code points after
    ("Eastern Africa", "country", "ascending", 21),
])
def test_table_download_holds_the_rows_as_filtered_and_sorted(
        atlas: AtlasPage, region: str, field: str, direction: str, rows: int) -> None:
    """The filters and sort order on screen decide the download, on every page of the table."""
    table = atlas.page.locator(".tabulator")
    table.locator('.tabulator-col[tabulator-field="country"] input').fill("")
    region_filter = table.locator('.tabulator-col[tabulator-field="region"] input')
    region_filter.fill(region)
    countries = atlas.atlas.countries
    expected = countries[countries["region"] == region]
    expect(table.locator(".tabulator-row")).to_have_count(15)  # the first of two pages
    _sort_by(atlas, field, direction)
    first_page = _shown_iso3(atlas)
    archive = _download(atlas, "Download the table as shown")
    shown = pd.read_csv(archive.open("climate-atlas-table.csv"), keep_default_na=False,
                        na_values=[""])
    try:
        assert len(shown) == len(expected) == rows
        assert set(shown["iso3"]) == set(expected.index)
        assert list(shown["iso3"][:15]) == first_page
    finally:
        region_filter.fill("")  # the sort stays: Tabulator's header cycles only asc and desc
    expect(table.locator(".tabulator-row")).to_have_count(15)


def _default_view(atlas: AtlasPage) -> int:
    """The indicator and year a first visit shows (the last year: CO2 per capita has none then);
    returns that year."""
    last = atlas.atlas.periods.years.last
    atlas.choose("World Bank indicator", atlas.indicator_label(DEFAULT_INDICATOR))
    handle = atlas.page.get_by_role("slider").first
    handle.focus()
    # End, not one ArrowRight per year counted from the year on screen: under `panel serve` a key
    # press that crosses the server's echo of the one before can be lost, and the count falls short.
    handle.press("End")
    expect(handle).to_have_attribute("aria-valuenow", re.compile(rf"^{last}(\.0*)?$"))
    expect(atlas.page.get_by_text(f"where {last} has no value, the latest from the 5 years before "
                                  f"({last - 5}-{last - 1}), with its year")).to_be_visible()
    return last


def _indicator_cells(atlas: AtlasPage) -> list[str]:
    return atlas.page.locator('.tabulator-row .tabulator-cell[tabulator-field="indicator"]') \
        .all_inner_texts()


def test_table_shows_the_latest_earlier_value_with_its_year(atlas: AtlasPage) -> None:
    """The default view's indicator column is filled where the year has no value: India's latest
    CO2 per capita from the 5 years before, labelled with its year; the column still sorts as
    numbers, and the download has each value's year in a column of its own."""
    last = _default_view(atlas)
    india = atlas.atlas.indicator_series(DEFAULT_INDICATOR, "IND")
    assert last - 5 <= india.index.max() < last  # else this test would not test the rule
    table = atlas.page.locator(".tabulator")
    iso3_filter = table.locator('.tabulator-col[tabulator-field="iso3"] input')
    table.locator('.tabulator-col[tabulator-field="country"] input').fill("")
    table.locator('.tabulator-col[tabulator-field="region"] input').fill("")
    iso3_filter.press_sequentially("IND")
    try:
        expect(table.locator(".tabulator-row")).to_have_count(1)
        assert _shown_iso3(atlas) == ["IND"]
        cell = table.locator('.tabulator-row .tabulator-cell[tabulator-field="indicator"]')
        expect(cell).to_have_text(re.compile(rf"^\d+\.\d\d \({india.index.max()}\)$"))
        assert float(cell.inner_text().split()[0]) == pytest.approx(india.iloc[-1], abs=0.005)
    finally:
        iso3_filter.fill("")
    expect(table.locator(".tabulator-row")).to_have_count(15)
    _sort_by(atlas, "indicator", "descending")
    shown = [float(text.split()[0].replace(",", "")) for text in _indicator_cells(atlas)]
    assert shown == sorted(shown, reverse=True) and shown[0] > 10  # as numbers, not as text
    first_page = _shown_iso3(atlas)

    archive = _download(atlas, "Download the table as shown")
    csv = pd.read_csv(archive.open("climate-atlas-table.csv"), keep_default_na=False,
                      na_values=[""], dtype={"CO2 emissions per capita, year of value": "Int64"})
    value, year = csv.columns[-2:]
    assert (value, year) == (f"CO2 emissions per capita (t per person), latest of {last - 5}-{last}",
                             "CO2 emissions per capita, year of value")
    assert list(csv["iso3"][:15]) == first_page
    assert csv.set_index("iso3").loc["IND", [value, year]].tolist() == [india.iloc[-1],
                                                                       india.index.max()]
    assert csv[year].dropna().between(last - 5, last - 1).all()
    assert csv[year].isna().equals(csv[value].isna()) and csv[value].notna().sum() > 150


def _isolated_point(table: pd.DataFrame, logx: bool) -> pd.Series:
    """The scatter point farthest from its nearest neighbour, so a click hits only it."""
    x = np.log10(table["value"]) if logx else table["value"]
    xy = np.c_[(x - x.min()) / np.ptp(x), (table["trend_per_decade"] - table["trend_per_decade"]
                                         .min()) / np.ptp(table["trend_per_decade"])]
    distances = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(distances, np.inf)
    return table.iloc[int(distances.min(axis=1).argmax())]


def test_scatter_click_selects_its_country(atlas: AtlasPage) -> None:
    """The caption says which year's value each point has (the table's rule), the hover gives it,
    and a click on a point selects its country."""
    atlas.open_tab("Warming vs indicator")
    expect(atlas.page.get_by_text("Rank correlation (Spearman)")).to_be_visible()
    atlas.choose("World Bank indicator", atlas.indicator_label("NY.GDP.PCAP.PP.KD"))
    atlas.wait_for_title("Warming trend against GDP per capita")
    last = int(atlas.atlas.indicator_rows("NY.GDP.PCAP.PP.KD")["year"].max())
    expect(atlas.page.get_by_text(f"Each country's value is its latest from {last - 5}-{last}: the "
                                  f"indicator's last year, {last}, or up to 5 years before "
                                  "(the hover gives its year)")).to_be_visible()
    table = scatter_table(atlas.atlas, "NY.GDP.PCAP.PP.KD")
    values = table["value"]
    point = _isolated_point(table, values.min() > 0 and values.max() / values.min() > 100)
    atlas.page.mouse.click(*atlas.plot_point(point["value"], point["trend_per_decade"],
                                             SCATTER_TITLE_MARKER))
    atlas.wait_for_heading(point["iso3"])
    # the pointer rests on the point: its hover gives the value's year
    expect(atlas.page.get_by_text(re.compile(rf"^\S+ \({point['year']}\)$"))).to_be_visible()
    atlas.open_tab("Table")


def test_keyboard_alone_finds_a_country_and_changes_indicator_and_year(atlas: AtlasPage) -> None:
    page = atlas.page
    page.mouse.move(0, 0)  # a keyboard user's pointer hovers nothing
    page.evaluate("document.activeElement && document.activeElement.blur()")
    search = page.get_by_label("Find a country")
    for _ in range(150):  # from wherever the last test left off, round the page if need be
        page.keyboard.press("Tab")
        if search.evaluate("el => el.matches(':focus')"):
            break
    else:
        raise AssertionError("Tab never reached the search box")
    page.keyboard.type("Turkey", delay=30)
    page.keyboard.press("Enter")
    atlas.wait_for_heading("TUR")
    indicator = page.get_by_label("World Bank indicator")
    before = indicator.input_value()
    indicator.focus()
    page.keyboard.press("ArrowDown")
    assert indicator.input_value() != before
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowLeft")
    atlas.wait_for_title("Türkiye: trend")


def test_phone_layout_has_no_horizontal_scroll(atlas: AtlasPage) -> None:
    page = atlas.page
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.wait_for_timeout(1500)  # let Bokeh re-lay out its canvases at the new width
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=artifact(f"phone-{atlas.mode}.png"), full_page=True)
        assert overflow <= 0
    finally:
        page.set_viewport_size(size)


def test_no_request_leaves_loopback(atlas: AtlasPage, network: NetworkLog) -> None:
    """After every interaction above, the page has asked no host but loopback."""
    assert network.external == []
