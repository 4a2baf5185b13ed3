"""The objects the views build hold the data of the country they were asked for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from climate_atlas.anomalies import default_scope
from climate_atlas.data import load_atlas
from climate_atlas.state import new_state
from climate_atlas.views.metrics import metric_table
from climate_atlas.views.series import (
    indicator_chart,
    indicator_source,
    show_indicator,
    show_temperature,
    temperature_chart,
)
from climate_atlas.views.sources import sources_markdown
from climate_atlas.views.world_map import country_at, map_countries, recolour, world_map


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _state(atlas, metric: str = "mean", year: int = 2022, selection=("FRA",), **choices):
    state = new_state(atlas)
    state.param.update(metric=metric, year=year, selection=list(selection), **choices)
    return state


def _raw_warming(atlas, iso3: str, column: str) -> float:
    return float(atlas.warming.at[iso3, column])


@pytest.mark.parametrize(("metric", "column"),
                         [("mean", "recent_mean"), ("trend", "trend_per_decade")])
def test_map_colours_france_by_its_metric(atlas, metric: str, column: str) -> None:
    world = world_map(atlas, atlas.geometry, _state(atlas, metric))
    data = world.countries.data
    row = data["iso3"].index("FRA")
    assert data["value"][row] == _raw_warming(atlas, "FRA", column)
    assert world.mapper.low == -world.mapper.high
    assert world.outlines.data["iso3"] == ["FRA"]


def test_recolouring_changes_values_not_geometry(atlas) -> None:
    world = world_map(atlas, atlas.geometry, _state(atlas))
    xs = world.countries.data["xs"]
    recolour(world, atlas, _state(atlas, "year", 1990))
    row = world.countries.data["iso3"].index("FRA")
    assert world.countries.data["value"][row] == atlas.series("FRA").loc[1990]
    assert world.countries.data["xs"] is xs
    assert "1990" in world.figure.title.text


def test_map_rows_are_the_geometry_countries(atlas) -> None:
    world = world_map(atlas, atlas.geometry, _state(atlas))
    assert world.countries.data["iso3"] == map_countries(atlas.geometry)
    assert len(map_countries(atlas.geometry)) == len(atlas.geometry["countries"])


def test_countries_without_series_are_grey_and_say_no_data(atlas) -> None:
    data = world_map(atlas, atlas.geometry, _state(atlas)).countries.data
    row = data["iso3"].index("CYN")
    # NaN, which BokehJS's colour mapper draws in its nan_color; it would read None as 0
    assert np.isnan(data["value"][row])
    assert data["label"][row] == "no data"


def test_insufficient_data_is_words_not_a_number(atlas) -> None:
    label = metric_table(atlas, "trend").at["SSD", "label"]
    assert label == "insufficient data (12 years), IMF"


def _labels(chart) -> list[str]:
    return [item.label.value for item in chart.legend.items if item.visible]


def _slot_of(chart, name: str):
    return next(slot for slot in chart.slots
                if slot.series_item.visible and slot.series_item.label.value == name)


def test_temperature_chart_holds_the_countrys_series_and_trend(atlas) -> None:
    chart = temperature_chart(atlas, ["FRA"])
    own = _slot_of(chart, "France")
    expected = atlas.temperature[atlas.temperature["iso3"] == "FRA"]
    assert list(own.series.data["year"]) == list(expected["year"])
    assert list(own.series.data["value"]) == list(expected["anomaly"])
    assert _labels(chart) == ["World", "France", "France trend 1993-2022"]
    years, values = own.trend.data["year"], own.trend.data["value"]
    slope = (values[1] - values[0]) / (years[1] - years[0])
    assert math.isclose(slope * 10, _raw_warming(atlas, "FRA", "trend_per_decade"))
    title = chart.figure.title.text
    assert title == f"France: trend {_raw_warming(atlas, 'FRA', 'trend_per_decade'):+.2f} °C/decade (IMF)"


def test_world_reference_is_drawn(atlas) -> None:
    chart = temperature_chart(atlas, ["FRA"])
    assert len(chart.world.data["year"]) == len(atlas.world_temperature)
    assert list(chart.world.data["value"]) == list(atlas.world_temperature)


def test_indicator_chart_holds_the_published_values(atlas) -> None:
    chart = indicator_chart(atlas, "EN.ATM.CO2E.PC", ["FRA"])
    rows = atlas.indicators[(atlas.indicators["code"] == "EN.ATM.CO2E.PC")
                            & (atlas.indicators["iso3"] == "FRA")]
    assert list(_slot_of(chart, "France").series.data["value"]) == list(rows["value"])
    assert chart.figure.yaxis[0].axis_label == atlas.indicator_meta.at["EN.ATM.CO2E.PC", "unit"]
    assert "EN.ATM.CO2E.PC" in indicator_source(atlas, "EN.ATM.CO2E.PC")


def test_missing_indicator_says_so(atlas) -> None:
    chart = indicator_chart(atlas, "EN.ATM.CO2E.PC", ["CYN"])
    assert len(_slot_of(chart, "Northern Cyprus").series.data["year"]) == 0
    assert "no World Bank data" in chart.figure.title.text


def test_comparison_overlays_each_country_and_the_world(atlas) -> None:
    chart = temperature_chart(atlas, ["FRA", "DEU", "TUR"])
    assert {"France", "Germany", "Türkiye", "World"} <= set(_labels(chart))


def test_a_new_selection_updates_the_same_chart(atlas) -> None:
    """A click changes the data in place: same figure, the old country's slot reused or emptied."""
    chart = temperature_chart(atlas, ["FRA", "DEU"])
    figure, first = chart.figure, chart.slots[0].series
    show_temperature(chart, atlas, ["TUR"], default_scope(atlas))
    assert chart.figure is figure and chart.slots[0].series is first
    assert _labels(chart) == ["World", "Türkiye", "Türkiye trend 1993-2022"]
    assert len(chart.slots[1].series.data["year"]) == 0
    assert chart.figure.title.text.startswith("Türkiye: trend")


def test_a_new_indicator_updates_the_same_chart(atlas) -> None:
    chart = indicator_chart(atlas, "EN.ATM.CO2E.PC", ["FRA"])
    show_indicator(chart, atlas, "NY.GDP.PCAP.PP.KD", ["FRA"])
    world = atlas.world_indicators[atlas.world_indicators["code"] == "NY.GDP.PCAP.PP.KD"]
    assert list(chart.world.data["value"]) == list(world["value"])
    assert chart.figure.yaxis[0].axis_label == atlas.indicator_meta.at["NY.GDP.PCAP.PP.KD", "unit"]
    assert chart.figure.title.text.startswith(atlas.indicator_meta.at["NY.GDP.PCAP.PP.KD", "short_name"])


def test_a_point_inside_a_polygon_finds_its_country(atlas) -> None:
    for country in atlas.geometry["countries"]:
        if country["iso3"] in ("FRA", "NOR", "SSD", "PSE", "ESH", "ZAF"):
            assert country_at(atlas.geometry, *country["label"]) == country["iso3"]
    assert country_at(atlas.geometry, 0.0, -8000.0) is None  # the Southern Ocean


def test_sources_panel_lists_every_publisher(atlas) -> None:
    text = sources_markdown(atlas)
    for entry in atlas.manifest["inputs"]:
        assert entry["publisher"] in text
