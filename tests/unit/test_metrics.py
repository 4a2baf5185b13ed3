"""The map metrics' registry, the periods the app reads from the data, and the columns it reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from climate_atlas.data import COLUMNS, Period, load_atlas
from climate_atlas.state import new_state
from climate_atlas.views.metrics import METRICS, metric_options, metric_table, metric_title
from climate_atlas.views.table import country_table
from pipeline import periods
from pipeline.outputs import TABLES

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_the_data_layer_reads_only_columns_the_pipeline_writes() -> None:
    for name, columns in COLUMNS.items():
        assert name in TABLES, f"{name} is not in pipeline/outputs.py TABLES"
        missing = set(columns) - set(TABLES[name][0])
        assert not missing, f"{name}: the app reads {sorted(missing)}, the pipeline writes none"


def test_every_metric_reads_a_column_the_data_layer_reads() -> None:
    read = {column for columns in COLUMNS.values() for column in columns}
    for metric in METRICS.values():
        assert metric.column in read, metric.key
        if metric.column in COLUMNS["warming.csv"]:  # with the years behind each value
            assert {f"{metric.key}_{s}" for s in ("first", "last", "n")} <= read, metric.key


def test_the_app_reads_its_periods_from_the_manifest(atlas) -> None:
    assert atlas.manifest["periods"] == periods.manifest()["periods"]
    assert atlas.periods.trend == Period(*periods.TREND)
    state = new_state(atlas)
    assert state.param.year.bounds == tuple(periods.YEARS)
    assert state.year == periods.YEARS.last


def test_no_year_of_a_period_is_written_in_app_code() -> None:
    """A window's years appear in the app only as values read from the data."""
    years = {str(year) for period in periods.manifest()["periods"].values() for year in period}
    found = [f"{path.relative_to(APP)}:{n}: {year}"
             for path in sorted(APP.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for year in re.findall(r"(?<!\d)\d{4}(?!\d)", line) if year in years]
    assert found == []


def test_words_name_the_periods(atlas) -> None:
    assert metric_options(atlas.periods) == {
        "Mean anomaly 2018-2022": "mean",
        "Anomaly in the chosen year": "year",
        "Trend 1993-2022 (°C per decade)": "trend",
        "Seed project's 1901-2012 change": "seed",
    }
    assert [metric_title(atlas, key, 1990) for key in METRICS] == [
        "Mean anomaly 2018-2022, °C vs 1951-1980",
        "Anomaly in 1990, °C vs 1951-1980",
        "Trend 1993-2022, °C per decade",
        "Change 1901-2012, °C (seed project's data)",
    ]
    assert metric_table(atlas, "year", 1990).at["FRA", "label"].startswith("+")
    assert metric_table(atlas, "year", 1990).at["FRA", "label"].endswith(
        " °C vs 1951-1980 in 1990, IMF")


def test_derived_tables_are_computed_once_per_change(atlas) -> None:
    """The map, the table and its caption ask for the same tables: each change pays once, and a
    year step leaves a metric that does not follow the year alone."""
    assert metric_table(atlas, "mean", 1990) is metric_table(atlas, "mean", 2000)
    assert metric_table(atlas, "year", 1990) is metric_table(atlas, "year", 1990)
    assert metric_table(atlas, "year", 1990) is not metric_table(atlas, "year", 1991)
    first = country_table(atlas, "trend", 2000, "EN.ATM.CO2E.PC")
    first.iloc[0, 0] = "changed by a caller"
    assert country_table(atlas, "trend", 2000, "EN.ATM.CO2E.PC").iloc[0, 0] != "changed by a caller"
