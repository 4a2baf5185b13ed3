"""The map metrics' registry, the periods the app reads from the data, and the columns it reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from climate_atlas.anomalies import Scope, anomalies
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
    assert metric_options(atlas) == {
        "Mean anomaly 2018-2022": "mean",
        "Anomaly in the chosen year": "year",
        "Trend 1993-2022 (°C per decade)": "trend",
        "Seed project's 1901-2012 change": "seed",
    }
    assert [metric_title(atlas, key, 1990) for key in metric_options(atlas).values()] == [
        "Mean anomaly 2018-2022, °C vs 1951-1980",
        "Anomaly in 1990, °C vs 1951-1980",
        "Trend 1993-2022, °C per decade",
        "Change 1901-2012, °C (seed project's data)",
    ]
    assert metric_table(atlas, "year", 1990).at["FRA", "label"].startswith("+")
    label = metric_table(atlas, "year", 1990).at["FRA", "label"]
    assert " °C vs 1951-1980 in 1990, " in label and label.endswith(" σ, IMF")


def test_derived_tables_are_computed_once_per_change(atlas) -> None:
    """The map, the table and its caption ask for the same tables: each change pays once, and a
    year step leaves a metric that does not follow the year alone."""
    assert metric_table(atlas, "mean", 1990) is metric_table(atlas, "mean", 2000)
    assert metric_table(atlas, "year", 1990) is metric_table(atlas, "year", 1990)
    assert metric_table(atlas, "year", 1990) is not metric_table(atlas, "year", 1991)
    first = country_table(atlas, "trend", 2000, "EN.ATM.CO2E.PC")
    first.iloc[0, 0] = "changed by a caller"
    assert country_table(atlas, "trend", 2000, "EN.ATM.CO2E.PC").iloc[0, 0] != "changed by a caller"


def test_a_season_names_itself_and_its_source(atlas) -> None:
    jja = Scope("jja", "1951-1980")
    assert metric_title(atlas, "mean", 2003, jja) == "Mean anomaly 2018-2022, Jun–Jul–Aug, °C vs 1951-1980"
    assert metric_title(atlas, "trend", 2003, jja) == "Trend 1993-2022, Jun–Jul–Aug, °C per decade"
    table = metric_table(atlas, "year", 2003, jja)
    assert table.at["FRA", "value"] == atlas.series("FRA", "jja").loc[2003]
    assert " °C vs 1951-1980 in 2003, " in table.at["FRA", "label"]
    assert table.at["FRA", "label"].endswith(" σ, FAOSTAT")
    assert metric_table(atlas, "mean", scope=jja).at["FRA", "label"].startswith(
        f"{atlas.warming_for('jja').at['FRA', 'recent_mean']:+.2f} °C vs 1951-1980 (2018-2020, 3 years)")


def test_sigma_is_the_anomaly_over_faostats_spread(atlas) -> None:
    for scope in (Scope("annual", "1951-1980"), Scope("jan", "1951-1980"), Scope("son", "1991-2020")):
        table = metric_table(atlas, "year", 2010, scope)
        sd = atlas.warming_for(scope.season).at["BRA", "sd"]
        assert table.at["BRA", "sigma"] == pytest.approx(table.at["BRA", "value"] / sd)
        assert f", {table.at['BRA', 'sigma']:.1f} σ, " in table.at["BRA", "label"]
    assert metric_table(atlas, "trend")["sigma"].isna().all()  # a trend is not an anomaly


@pytest.mark.parametrize("base", ["1961-1990", "1991-2020"])
def test_another_base_subtracts_the_series_own_mean_over_it(atlas, base: str) -> None:
    first, last = map(int, base.split("-"))
    scope = Scope("annual", base)
    published = atlas.series("FRA")
    own_mean = published.loc[first:last].mean()
    assert anomalies(atlas, "FRA", scope).loc[2003] == pytest.approx(published.loc[2003] - own_mean,
                                                                      abs=1e-4)
    assert anomalies(atlas, "FRA", scope).loc[first:last].mean() == pytest.approx(0, abs=1e-4)
    table = metric_table(atlas, "mean", scope=scope)
    assert table.at["FRA", "value"] == pytest.approx(
        atlas.warming.at["FRA", "recent_mean"] - own_mean, abs=1e-4)
    assert f"°C vs {base}" in table.at["FRA", "label"]
    trend = metric_table(atlas, "trend", scope=scope)
    assert trend.at["FRA", "value"] == atlas.warming.at["FRA", "trend_per_decade"]  # unchanged


def test_too_few_base_years_read_insufficient_data(atlas) -> None:
    scope = Scope("annual", "1991-2020")
    assert len(atlas.series("SSD").loc[1991:2020]) < 24
    table = metric_table(atlas, "mean", scope=scope)
    assert table.at["SSD", "label"].startswith("insufficient data for base 1991-2020 (")
    assert table["value"].isna()["SSD"]
    assert anomalies(atlas, "SSD", scope).empty
