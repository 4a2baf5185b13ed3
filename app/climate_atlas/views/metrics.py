"""What the map shows per country for each warming metric: a number, and words for its hover."""

from __future__ import annotations

import math

import pandas as pd

from climate_atlas.data import Atlas

UNITS = {"mean": "°C vs 1951-1980", "trend": "°C per decade"}
TITLES = {
    "mean": "Mean temperature anomaly 2018-2022",
    "trend": "Warming trend 1993-2022",
}
NO_DATA = "no data"


def _period(first: float, last: float) -> str:
    return f"{int(first)}-{int(last)}" if first != last else f"{int(first)}"


def describe(value: float, first: float, last: float, n: int, unit: str) -> str:
    """One hover line: the value with its unit and years, or why there is none."""
    if n == 0:
        return "insufficient data (0 years)"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"insufficient data ({n} years)"
    return f"{value:+.2f} {unit} ({_period(first, last)}, {n} years)"


def metric_table(atlas: Atlas, metric: str) -> pd.DataFrame:
    """Per country: `value` (NaN when missing) and `label` (hover text: value, years, source).

    The source matters in the hover: FAOSTAT's series end in 2020, so their "2018-2022" is 2018-2020.
    """
    column = {"mean": "mean_2018_2022", "trend": "trend_per_decade"}[metric]
    w = atlas.warming
    sources = atlas.countries["temperature_source"].reindex(w.index)
    labels = [
        describe(row[column], row[f"{metric}_first"], row[f"{metric}_last"],
                 int(row[f"{metric}_n"]), UNITS[metric]) + f", {sources[iso3]}"
        for iso3, row in w.iterrows()
    ]
    return pd.DataFrame({"value": w[column], "label": labels}, index=w.index)
