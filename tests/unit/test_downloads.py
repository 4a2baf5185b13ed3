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
                                       "Population in 2000 (people)"]
    sources = pd.read_csv(archive.open("sources.csv"))
    assert any(s.startswith("Temperature anomaly") for s in sources["series"])
