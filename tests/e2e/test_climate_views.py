"""Seasons, months and base periods: the map, its hover, the temperature chart, the link and the
downloads follow them, in both modes (the static site's visit to a season link is in
test_before_python.py)."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from playwright.sync_api import Browser, expect

from climate_atlas.anomalies import Scope, anomalies
from climate_atlas.views.metrics import metric_table
from tests.e2e.browser import NetworkLog, open_atlas
from tools.atlas_page import AtlasPage

JJA = "Jun–Jul–Aug (FAOSTAT, 1961-2020)"
ANNUAL = "Annual"
NORMAL = "1991-2020 (WMO's current climate normal)"
PUBLISHED = "1951-1980 (the publishers' base)"


def _map_value(atlas: AtlasPage, iso3: str, column: str = "value"):
    codes = atlas.map_column("iso3")
    return atlas.map_column(column)[codes.index(iso3)]


def _show_france(atlas: AtlasPage) -> None:
    atlas.page.get_by_role("button", name="Click replaces selection").click()
    atlas.click_country("FRA")
    atlas.wait_for_title("France: trend")


def _assert_chart_is(atlas: AtlasPage, title: str, scope: Scope) -> None:
    expected = anomalies(atlas.atlas, "FRA", scope)
    drawn = atlas.series(title, "France")
    assert sorted(drawn) == list(expected.index)
    assert drawn[2003] == pytest.approx(expected.loc[2003], abs=1e-9)


def test_a_season_recolours_the_map_and_redraws_the_chart(atlas: AtlasPage) -> None:
    _show_france(atlas)
    atlas.choose("Season or month", JJA)
    atlas.wait_for_title("Mean anomaly 2018-2022, Jun–Jul–Aug, °C vs 1951-1980")
    atlas.wait_for_title("France, Jun–Jul–Aug: trend")
    warming = atlas.atlas.warming_for("jja")
    assert _map_value(atlas, "FRA") == pytest.approx(warming.at["FRA", "recent_mean"])
    sigma = warming.at["FRA", "recent_mean"] / warming.at["FRA", "sd"]
    assert _map_value(atlas, "FRA", "label").endswith(f"(2018-2020, 3 years), {sigma:.1f} σ, FAOSTAT")
    _assert_chart_is(atlas, "France, Jun–Jul–Aug", Scope("jja", "1951-1980"))
    atlas.page.get_by_text("Temperature series: Jun–Jul–Aug, FAOSTAT (1961-2020)").wait_for()
    atlas.page.wait_for_function("() => location.search.includes('season=jja')")
    atlas.choose("Season or month", ANNUAL)
    atlas.wait_for_title("France: trend")


def test_a_base_period_rebases_map_chart_and_downloads(atlas: AtlasPage) -> None:
    _show_france(atlas)
    atlas.choose("Season or month", JJA)
    atlas.choose("Base period", NORMAL)
    atlas.wait_for_title("Mean anomaly 2018-2022, Jun–Jul–Aug, °C vs 1991-2020")
    scope = Scope("jja", "1991-2020")
    expected = (atlas.atlas.warming_for("jja").at["FRA", "recent_mean"]
                - atlas.atlas.baselines.loc[("jja", "1991-2020", "FRA"), "mean"])
    assert _map_value(atlas, "FRA") == pytest.approx(expected)
    assert _map_value(atlas, "SSD", "label").startswith("insufficient data for base 1991-2020 (")
    _assert_chart_is(atlas, "France, Jun–Jul–Aug", scope)
    atlas.page.wait_for_function("() => location.search.includes('base=1991-2020')")
    archive = zipfile.ZipFile(io.BytesIO(atlas.download("Download the selected series")[1]))
    rows = pd.read_csv(archive.open("climate-atlas-series.csv"))
    temperature = rows[rows["series"].str.startswith("Temperature anomaly")]
    assert set(temperature["series"]) == {
        "Temperature anomaly, Jun–Jul–Aug (°C vs 1991-2020), FAOSTAT"}
    assert temperature.set_index("year")["value"].to_dict() == pytest.approx(
        anomalies(atlas.atlas, "FRA", scope).to_dict())
    trend = atlas.atlas.warming_for("jja").at["FRA", "trend_per_decade"]
    atlas.wait_for_title(f"France, Jun–Jul–Aug: trend {trend:+.2f} °C/decade")  # the base keeps it
    atlas.choose("Base period", PUBLISHED)
    atlas.choose("Season or month", ANNUAL)
    atlas.wait_for_title("Mean anomaly 2018-2022, °C vs 1951-1980")


# The static site's visit to this link is test_before_python's (the pre-render leaves it to Python,
# which then draws it): each static page is a Python boot.
SEASON_BASE_LINK = "?countries=NOR&season=djf&base=1961-1990&metric=year&year=2010"


def shows_the_season_and_base_link(atlas: AtlasPage) -> None:
    """The page opened at SEASON_BASE_LINK draws Norway's winters against 1961-1990, map included."""
    atlas.wait_for_title("Anomaly in 2010, Dec–Jan–Feb, °C vs 1961-1990")
    atlas.wait_for_title("Norway, Dec–Jan–Feb: trend")
    scope = Scope("djf", "1961-1990")
    assert _map_value(atlas, "NOR") == pytest.approx(anomalies(atlas.atlas, "NOR", scope).loc[2010])
    for label, shown in (("Season or month", "Dec–Jan–Feb (FAOSTAT, 1961-2020)"),
                         ("Base period", "1961-1990 (WMO's climate normal until 2020)")):
        chosen = atlas.page.get_by_label(label, exact=True)
        assert chosen.evaluate("e => e.selectedOptions[0].text") == shown


def test_a_link_restores_season_and_base(browser: Browser, served_url: str) -> None:
    log = NetworkLog()
    atlas = open_atlas(browser, "serve", served_url + SEASON_BASE_LINK, log)
    try:
        shows_the_season_and_base_link(atlas)
        assert log.external == [] and log.console_errors == []
    finally:
        atlas.page.context.close()


def test_the_table_follows_season_and_base_with_sigma(atlas: AtlasPage) -> None:
    atlas.choose("Season or month", JJA)
    atlas.choose("Base period", NORMAL)
    atlas.open_tab("Table")
    atlas.page.get_by_text("map metric: Mean anomaly 2018-2022, Jun–Jul–Aug, °C vs 1991-2020").wait_for()
    search = atlas.page.locator('.tabulator-col[tabulator-field="country"] input')
    search.press_sequentially("France")
    row = atlas.page.locator(".tabulator-row", has_text="France").first
    table = metric_table(atlas.atlas, "mean", atlas.year(), Scope("jja", "1991-2020"))
    expect(row.locator('.tabulator-cell[tabulator-field="σ"]')).to_have_text(
        f"{table.at['FRA', 'sigma']:.1f}")
    search.fill("")
    search.press("Enter")
    atlas.choose("Base period", PUBLISHED)
    atlas.choose("Season or month", ANNUAL)
    atlas.wait_for_title("Mean anomaly 2018-2022, °C vs 1951-1980")
