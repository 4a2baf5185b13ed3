"""The map's metrics, each defined once: its key, words, unit, title and how it is computed.

Everything that lists or names metrics derives from METRICS: the state's choices and the selector,
the link check, the map's colours, the table's column and the download's sources. A new metric is
one entry in METRICS and the function that computes it. Years come from the data (`Atlas.periods`),
never from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from climate_atlas.data import Atlas, Periods

NO_DATA = "no data"
SEED_SOURCE = "seed project's table (World Bank Climate Data API, CRU TS)"
RECENT = 32  # derived tables each cache keeps per process (a few per metric, year and indicator)
TEMPERATURE, SEED = "temperature", "seed"  # the series a metric comes from (`Metric.source`)


@dataclass(frozen=True)
class Metric:
    """One map metric. `compute(atlas, metric, year)` gives per country `value` (NaN when missing)
    and `label` (its hover text); `year` is None unless `by_year`."""

    key: str  # the state's value and the link's `metric=`
    label: Callable[[Periods], str]  # the selector's words
    unit: Callable[[Periods], str]  # the colour bar's title and the hover's unit
    title: Callable[[int, Periods], str]  # map title and table column: what, which years, unit
    column: str  # the precomputed column its values come from (data.COLUMNS)
    compute: Callable[[Atlas, Metric, int | None], pd.DataFrame]
    source: str  # TEMPERATURE or SEED: the provenance a download of it carries
    by_year: bool = False  # its values change with the chosen year
    # The values the colour scale spans, when wider than those shown: one scale for every year
    # lets an animation compare like with like.
    scale: Callable[[Atlas], np.ndarray] | None = None


def _period(first: float, last: float) -> str:
    return f"{int(first)}-{int(last)}" if first != last else f"{int(first)}"


def describe(value: float, first: float, last: float, n: int, unit: str) -> str:
    """One hover line: the value with its unit and years, or why there is none."""
    if n == 0:
        return "insufficient data (0 years)"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"insufficient data ({n} years)"
    return f"{value:+.2f} {unit} ({_period(first, last)}, {n} years)"


def _sources(atlas: Atlas) -> pd.Series:
    return atlas.countries["temperature_source"].reindex(atlas.warming.index)


def _warming_table(atlas: Atlas, metric: Metric, year: int | None) -> pd.DataFrame:
    """A pipeline-computed value per country, with the years actually behind it (the pipeline's
    `<key>_first`, `_last`, `_n` columns): FAOSTAT's series end early, and the hover says so."""
    w, unit, sources = atlas.warming, metric.unit(atlas.periods), _sources(atlas)
    labels = [
        describe(row[metric.column], row[f"{metric.key}_first"], row[f"{metric.key}_last"],
                 int(row[f"{metric.key}_n"]), unit) + f", {sources[iso3]}"
        for iso3, row in w.iterrows()
    ]
    return pd.DataFrame({"value": w[metric.column], "label": labels}, index=w.index)


def _year_table(atlas: Atlas, metric: Metric, year: int | None) -> pd.DataFrame:
    sources, unit = _sources(atlas), metric.unit(atlas.periods)
    rows = atlas.temperature[atlas.temperature["year"] == year].set_index("iso3")
    values = rows[metric.column].reindex(atlas.warming.index)
    labels = [f"{v:+.2f} {unit} in {year}, {sources[iso3]}" if not math.isnan(v)
              else f"no value for {year}, {sources[iso3]}" for iso3, v in values.items()]
    return pd.DataFrame({"value": values, "label": labels}, index=values.index)


def _seed_table(atlas: Atlas, metric: Metric, year: int | None) -> pd.DataFrame:
    values, unit = atlas.seed[metric.column], metric.unit(atlas.periods)
    labels = [f"{v:+.2f} {unit}, {SEED_SOURCE}" for v in values]
    return pd.DataFrame({"value": values, "label": labels}, index=values.index)


def _anomaly_unit(p: Periods) -> str:
    return f"°C vs {p.base}"


# In the selector's order; the first is the default.
METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("mean", label=lambda p: f"Mean anomaly {p.recent_mean}", unit=_anomaly_unit,
           title=lambda year, p: f"Mean anomaly {p.recent_mean}, {_anomaly_unit(p)}",
           column="recent_mean", compute=_warming_table, source=TEMPERATURE),
    Metric("year", label=lambda p: "Anomaly in the chosen year", unit=_anomaly_unit,
           title=lambda year, p: f"Anomaly in {year}, {_anomaly_unit(p)}",
           column="anomaly", compute=_year_table, source=TEMPERATURE, by_year=True,
           scale=lambda atlas: atlas.temperature["anomaly"].to_numpy()),
    Metric("trend", label=lambda p: f"Trend {p.trend} (°C per decade)",
           unit=lambda p: "°C per decade", title=lambda year, p: f"Trend {p.trend}, °C per decade",
           column="trend_per_decade", compute=_warming_table, source=TEMPERATURE),
    Metric("seed", label=lambda p: f"Seed project's {p.seed} change", unit=lambda p: f"°C, {p.seed}",
           title=lambda year, p: f"Change {p.seed}, °C (seed project's data)",
           column="tempchange", compute=_seed_table, source=SEED),
)}


def metric_options(periods: Periods) -> dict[str, str]:
    """The selector's options: words -> metric key."""
    return {metric.label(periods): key for key, metric in METRICS.items()}


def metric_title(atlas: Atlas, metric: str, year: int) -> str:
    """What the map shows, over which years, in which unit: short enough for a phone's width."""
    return METRICS[metric].title(year, atlas.periods)


def metric_table(atlas: Atlas, metric: str, year: int | None = None) -> pd.DataFrame:
    """Per country: `value` (NaN when missing) and `label` (hover text: value, years, source).

    `year` matters only to a by-year metric (default: the last year of the data). The source
    matters in the hover: FAOSTAT's series end in 2020, so their recent mean covers fewer years.
    """
    if not METRICS[metric].by_year:
        return _metric_table(atlas, metric, None)
    return _metric_table(atlas, metric, atlas.periods.years.last if year is None else year)


@lru_cache(maxsize=RECENT)
def _metric_table(atlas: Atlas, metric: str, year: int | None) -> pd.DataFrame:
    """Kept for the last RECENT keys: one change asks for the same table from several views (the
    map, the table and its caption), so each change computes it once; a year step leaves a metric
    that does not follow the year alone (its key has no year)."""
    return METRICS[metric].compute(atlas, METRICS[metric], year)
