"""The two map metrics per country, with the years behind each (DESIGN.md section 3).

mean (column recent_mean): mean anomaly over periods.RECENT_MEAN, shown when at least
RECENT_MEAN_MIN_YEARS of those years are present. trend: OLS slope over periods.TREND in °C per
decade, shown when at least TREND_MIN_YEARS of its years exist. Below a threshold the value is empty
and the UI says "insufficient data (N years)", so *_n is always filled; *_first/*_last are the years
actually present (FAOSTAT series end in 2020, so their recent mean covers fewer years and the hover
must say so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.outputs import TABLES
from pipeline.periods import RECENT_MEAN, RECENT_MEAN_MIN_YEARS, TREND, TREND_MIN_YEARS

DECIMALS = 4

COLUMNS = TABLES["warming.csv"][0]


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


def build(series: pd.DataFrame) -> pd.DataFrame:
    """warming.csv: one row per country with a temperature series, all cells as text."""
    rows = [
        [iso3, *metrics(group["year"].to_numpy(), group["value"].to_numpy())]
        for iso3, group in series.groupby("iso3", sort=True)
    ]
    return pd.DataFrame(rows, columns=COLUMNS, dtype=str)
