"""The objects the views build hold the data of the country they were asked for."""

from __future__ import annotations

import math

import holoviews as hv
import pytest

from climate_atlas.data import load_atlas
from climate_atlas.views.metrics import metric_table
from climate_atlas.views.series import indicator_chart, indicator_source, temperature_chart
from climate_atlas.views.sources import sources_markdown
from climate_atlas.views.world_map import choropleth, part_countries


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _raw_warming(atlas, iso3: str, column: str) -> float:
    return float(atlas.warming.at[iso3, column])


@pytest.mark.parametrize(("metric", "column"),
                         [("mean", "mean_2018_2022"), ("trend", "trend_per_decade")])
def test_map_colours_france_by_its_metric(atlas, metric: str, column: str) -> None:
    polygons = choropleth(atlas, metric)
    france = [d for d in polygons.split(datatype="dataframe") if d["iso3"].iloc[0] == "FRA"]
    assert france, "France has no polygon on the map"
    assert all(d["value"].iloc[0] == _raw_warming(atlas, "FRA", column) for d in france)
    assert polygons.opts.get().kwargs["clim"][0] == -polygons.opts.get().kwargs["clim"][1]


def test_map_rows_map_back_to_countries(atlas) -> None:
    polygons = choropleth(atlas, "mean")
    assert [d["iso3"].iloc[0] for d in polygons.split(datatype="dataframe")] == \
        part_countries(atlas)


def test_countries_without_series_are_grey_and_say_no_data(atlas) -> None:
    table = choropleth(atlas, "mean").dframe()
    cyprus_north = table[table["iso3"] == "CYN"]
    assert cyprus_north["value"].isna().all()
    assert set(cyprus_north["label"]) == {"no data"}


def test_insufficient_data_is_words_not_a_number(atlas) -> None:
    label = metric_table(atlas, "trend").at["SSD", "label"]
    assert label.startswith("insufficient data (") and label.endswith(" years)")


def test_temperature_chart_holds_the_countrys_series_and_trend(atlas) -> None:
    chart = temperature_chart(atlas, "FRA")
    own = next(el for el in chart if isinstance(el, hv.Curve) and el.label == "France")
    expected = atlas.temperature[atlas.temperature["iso3"] == "FRA"]
    assert list(own.dimension_values("year")) == list(expected["year"])
    assert list(own.dimension_values("anomaly")) == list(expected["anomaly"])
    trend = next(el for el in chart if el.label == "Trend 1993-2022")
    years = trend.dimension_values("year")
    slope = (trend.dimension_values("anomaly")[1] - trend.dimension_values("anomaly")[0]) / (
        years[1] - years[0])
    assert math.isclose(slope * 10, _raw_warming(atlas, "FRA", "trend_per_decade"))
    title = chart.opts.get().kwargs["title"]
    assert title.startswith("France: trend +") and "source IMF" in title


def test_world_reference_is_drawn(atlas) -> None:
    chart = temperature_chart(atlas, "FRA")
    world = next(el for el in chart if el.label == "World")
    assert len(world) == len(atlas.world_temperature)


def test_indicator_chart_holds_the_published_values(atlas) -> None:
    chart = indicator_chart(atlas, "EN.ATM.CO2E.PC", "FRA")
    rows = atlas.indicators[(atlas.indicators["code"] == "EN.ATM.CO2E.PC")
                            & (atlas.indicators["iso3"] == "FRA")]
    assert list(chart.dimension_values("value")) == list(rows["value"])
    assert chart.opts.get().kwargs["ylabel"] == atlas.indicator_meta.at["EN.ATM.CO2E.PC", "unit"]
    assert "EN.ATM.CO2E.PC" in indicator_source(atlas, "EN.ATM.CO2E.PC")


def test_missing_indicator_says_so(atlas) -> None:
    chart = indicator_chart(atlas, "EN.ATM.CO2E.PC", "CYN")
    assert len(chart) == 0
    assert "no World Bank data" in chart.opts.get().kwargs["title"]


def test_sources_panel_lists_every_publisher(atlas) -> None:
    text = sources_markdown(atlas)
    for entry in atlas.manifest["inputs"]:
        assert entry["publisher"] in text
