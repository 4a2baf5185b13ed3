"""What the map shows per country for each warming metric: a number, and words for its hover."""

from __future__ import annotations

import math

import pandas as pd

from climate_atlas.data import Atlas

UNITS = {"mean": "°C vs 1951-1980", "year": "°C vs 1951-1980", "trend": "°C per decade",
         "seed": "°C, 1901-2012"}
NO_DATA = "no data"
SEED_SOURCE = "seed project's table (World Bank Climate Data API, CRU TS)"


def metric_title(metric: str, year: int) -> str:
    """What the map shows, over which years, in which unit: short enough for a phone's width."""
    return {
        "mean": "Mean anomaly 2018-2022, °C vs 1951-1980",
        "year": f"Anomaly in {year}, °C vs 1951-1980",
        "trend": "Trend 1993-2022, °C per decade",
        "seed": "Change 1901-2012, °C (seed project's data)",
    }[metric]


def _period(first: float, last: float) -> str:
    return f"{int(first)}-{int(last)}" if first != last else f"{int(first)}"


def describe(value: float, first: float, last: float, n: int, unit: str) -> str:
    """One hover line: the value with its unit and years, or why there is none."""
    if n == 0:
        return "insufficient data (0 years)"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"insufficient data ({n} years)"
    return f"{value:+.2f} {unit} ({_period(first, last)}, {n} years)"


def _warming_table(atlas: Atlas, metric: str) -> pd.DataFrame:
    column = {"mean": "recent_mean", "trend": "trend_per_decade"}[metric]
    w = atlas.warming
    sources = atlas.countries["temperature_source"].reindex(w.index)
    labels = [
        describe(row[column], row[f"{metric}_first"], row[f"{metric}_last"],
                 int(row[f"{metric}_n"]), UNITS[metric]) + f", {sources[iso3]}"
        for iso3, row in w.iterrows()
    ]
    return pd.DataFrame({"value": w[column], "label": labels}, index=w.index)


def _year_table(atlas: Atlas, year: int) -> pd.DataFrame:
    sources = atlas.countries["temperature_source"].reindex(atlas.warming.index)
    values = atlas.temperature[atlas.temperature["year"] == year].set_index("iso3")["anomaly"]
    values = values.reindex(atlas.warming.index)
    labels = [f"{v:+.2f} {UNITS['year']} in {year}, {sources[iso3]}" if not math.isnan(v)
              else f"no value for {year}, {sources[iso3]}" for iso3, v in values.items()]
    return pd.DataFrame({"value": values, "label": labels}, index=values.index)


def _seed_table(atlas: Atlas) -> pd.DataFrame:
    values = atlas.seed["tempchange"]
    labels = [f"{v:+.2f} {UNITS['seed']}, {SEED_SOURCE}" for v in values]
    return pd.DataFrame({"value": values, "label": labels}, index=values.index)


def metric_table(atlas: Atlas, metric: str, year: int = 2022) -> pd.DataFrame:
    """Per country: `value` (NaN when missing) and `label` (hover text: value, years, source).

    The source matters in the hover: FAOSTAT's series end in 2020, so their "2018-2022" is 2018-2020.
    """
    if metric == "year":
        return atlas.remember(("metric", metric, year), lambda: _year_table(atlas, year))
    if metric == "seed":
        return atlas.remember(("metric", metric), lambda: _seed_table(atlas))
    return atlas.remember(("metric", metric), lambda: _warming_table(atlas, metric))
