"""Downloads: a plain CSV and its sources, holding what the page shows."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from climate_atlas.data import load_atlas
from climate_atlas.downloads import series_download, table_download
from climate_atlas.views.table import as_shown, on_screen_table, with_full_names


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_series_download_is_a_plain_csv_with_its_sources(atlas) -> None:
    archive = zipfile.ZipFile(io.BytesIO(series_download(atlas, ["FRA", "TUR"], "SP.POP.TOTL")))
    data = pd.read_csv(archive.open("climate-atlas-series.csv"))
    sources = pd.read_csv(archive.open("sources.csv"))
    assert set(data["iso3"]) == {"FRA", "TUR"}
    assert set(data["series"]) <= set(sources["series"])


def test_the_table_download_holds_the_rows_given_under_full_names(atlas) -> None:
    shown = on_screen_table(atlas, "trend", 2000, "SP.POP.TOTL")
    rows = as_shown(shown[shown["region"] == "Western Africa"],
                    [{"field": "map metric", "dir": "desc"}])
    archive = zipfile.ZipFile(io.BytesIO(table_download(
        atlas, with_full_names(atlas, "trend", 2000, "SP.POP.TOTL", rows), "SP.POP.TOTL", "trend")))
    table = pd.read_csv(archive.open("climate-atlas-table.csv"))
    assert list(table["iso3"]) == list(rows["iso3"])
    assert list(table.columns[3:]) == ["Trend 1993-2022, °C per decade",
                                       "σ: multiple of FAOSTAT's standard deviation over 1951-1980",
                                       "Population (people), latest of 1995-2000",
                                       "Population, year of value"]
    assert (table["Population, year of value"].dropna() == 2000).all()
    sources = pd.read_csv(archive.open("sources.csv"))
    assert any(s.startswith("Temperature anomaly") for s in sources["series"])


def test_the_table_download_gives_each_values_year(atlas) -> None:
    """Where the year has no value the table shows an earlier one; the CSV says which year, as an
    integer, in the column after the value, in the order the table shows."""
    shown = on_screen_table(atlas, "mean", 2022, "EN.ATM.CO2E.PC")
    rows = as_shown(shown, [{"field": "indicator", "dir": "desc"}])
    archive = zipfile.ZipFile(io.BytesIO(table_download(
        atlas, with_full_names(atlas, "mean", 2022, "EN.ATM.CO2E.PC", rows), "EN.ATM.CO2E.PC", "mean")))
    text = archive.read("climate-atlas-table.csv").decode()
    table = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    value, year = "CO2 emissions per capita (t per person), latest of 2017-2022", \
        "CO2 emissions per capita, year of value"
    assert list(table.columns[-2:]) == [value, year]
    assert list(table["iso3"]) == list(rows["iso3"])
    assert table[value].dropna().is_monotonic_decreasing
    india = table.set_index("iso3").loc["IND"]
    series = atlas.indicator_series("EN.ATM.CO2E.PC", "IND")
    assert (india[value], india[year]) == (series.iloc[-1], series.index.max())
    assert table[year].dropna().between(2017, 2022).all()
    assert ",2019\n" in text.replace("\r\n", "\n")  # a year, not 2019.0
