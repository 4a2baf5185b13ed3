"""The map metrics per country and season, with the years behind each (DESIGN.md section 3),
and the offsets that re-base a series to another base period.

mean (column recent_mean): mean anomaly over periods.RECENT_MEAN, shown when at least
RECENT_MEAN_MIN_YEARS of those years are present. trend: OLS slope over periods.TREND in °C per
decade, shown when at least TREND_MIN_YEARS of its years exist. Below a threshold the value is empty
and the UI says "insufficient data (N years)", so *_n is always filled; *_first/*_last are the years
actually present (FAOSTAT series end in 2020, so their recent mean covers fewer years and the hover
must say so). sd: FAOSTAT's 1951-1980 standard deviation for the country and season, how unusual an
anomaly is ('' where FAOSTAT has none).

baselines.csv.gz: a series' mean over each choosable base period other than the publishers' (the
amount re-basing subtracts), '' when fewer than periods.base_min_years of its years exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.outputs import TABLES
from pipeline.periods import (
    BASES,
    RECENT_MEAN,
    RECENT_MEAN_MIN_YEARS,
    TREND,
    TREND_MIN_YEARS,
    base_min_years,
)

DECIMALS = 4

COLUMNS = TABLES["warming.csv"][0]
BASELINE_COLUMNS = TABLES["baselines.csv.gz"][0]


def fmt(value: float) -> str:
    """A derived value rounded to 4 decimals; adding 0.0 turns a rounded -0.0 into 0.0."""
    return f"{round(value, DECIMALS) + 0.0:.{DECIMALS}f}"


def window(years: np.ndarray, values: np.ndarray, span: range) -> tuple[np.ndarray, np.ndarray]:
    """The (years, values) that fall inside a window."""
    inside = (years >= span.start) & (years < span.stop)
    return years[inside], values[inside]


def extent(years: np.ndarray) -> list[str]:
    """first, last and count of the years present ('' first/last when none)."""
    if len(years) == 0:
        return ["", "", "0"]
    return [str(years.min()), str(years.max()), str(len(years))]


def metrics(years: np.ndarray, values: np.ndarray) -> list[str]:
    """One warming.csv row (without iso3) from a country's series."""
    mean_years, mean_values = window(years, values, RECENT_MEAN.range())
    trend_years, trend_values = window(years, values, TREND.range())
    mean = fmt(mean_values.mean()) if len(mean_years) >= RECENT_MEAN_MIN_YEARS else ""
    trend = (
        fmt(10 * np.polyfit(trend_years.astype(float), trend_values, 1)[0])
        if len(trend_years) >= TREND_MIN_YEARS
        else ""
    )
    return [mean, *extent(mean_years), trend, *extent(trend_years)]


def build(series: pd.DataFrame, sd: pd.DataFrame) -> pd.DataFrame:
    """warming.csv: one row per country and season with a series, all cells as text.

    `series`: iso3, season, year, value (°C); `sd`: iso3, season, sd (text, °C)."""
    spread = sd.set_index(["iso3", "season"])["sd"]
    rows = [
        [iso3, season, *metrics(group["year"].to_numpy(), group["value"].to_numpy()),
         spread.get((iso3, season), "")]
        for (iso3, season), group in series.groupby(["iso3", "season"], sort=True)
    ]
    return pd.DataFrame(rows, columns=COLUMNS, dtype=str)


def baselines(series: pd.DataFrame) -> pd.DataFrame:
    """baselines.csv.gz: per country, season and base period after the publishers', the series' mean
    over that base and the number of its years present, all cells as text."""
    rows = []
    for (iso3, season), group in series.groupby(["iso3", "season"], sort=True):
        for base in BASES[1:]:
            _, values = window(group["year"].to_numpy(), group["value"].to_numpy(), base.range())
            mean = fmt(values.mean()) if len(values) >= base_min_years(base) else ""
            rows.append([iso3, season, base.first, base.last, mean, len(values)])
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS).astype(str)
