"""The map's metrics, each defined once: its key, words, unit, title and how it is computed.

Everything that lists or names metrics derives from METRICS: the state's choices and the selector,
the link check, the map's colours, the table's column and the download's sources. A new metric is
one entry in METRICS and the function that computes it. Years come from the data (`Atlas.periods`),
never from here. Each metric follows the reader's `Scope`: its season, and for an anomaly its base
period (re-based) and how unusual it is in FAOSTAT's standard deviations over the publishers' base (σ).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from climate_atlas.anomalies import Scope, default_scope, is_published, offsets, shortfall
from climate_atlas.data import ANNUAL, YOUR_DATA, Atlas, Periods, seasonal_table
from climate_atlas.latest import YEARS_BACK, latest_within

NO_DATA = "no data"
SEED_SOURCE = "seed project's table (World Bank Climate Data API, CRU TS)"
RECENT = 32  # derived tables each cache keeps per process (a few per metric, year and indicator)
# the series a metric comes from (`Metric.source`): ours, the seed's, or the visitor's own file
TEMPERATURE, SEED, OWN = "temperature", "seed", "own"


@dataclass(frozen=True)
class Words:
    """What a metric's unit and title say besides the metric: the data's periods, the season's
    words (", Jun–Jul–Aug"; "" for the year as a whole) and the base period ("first-last")."""

    periods: Periods
    season: str
    base: str
    own: str = ""  # the visitor's series, "name (unit)" ('' when none was uploaded)


def words(atlas: Atlas, scope: Scope) -> Words:
    season = "" if scope.season == ANNUAL else f", {atlas.seasons[scope.season].label}"
    own = "" if atlas.user is None else own_words(atlas)
    return Words(atlas.periods, season, scope.base, own)


def own_words(atlas: Atlas) -> str:
    """The visitor's series as every label names it: "name (unit)"."""
    meta = atlas.indicator_meta.loc[YOUR_DATA]
    return f"{meta['short_name']} ({meta['unit']})"


@dataclass(frozen=True)
class Metric:
    """One map metric. `compute(atlas, metric, year, scope)` gives per country `value` (NaN when
    missing), `label` (its hover text) and `sigma` (value in standard deviations, NaN unless an
    anomaly); `year` is None unless `by_year`."""

    key: str  # the state's value and the link's `metric=`
    label: Callable[[Periods], str]  # the selector's words
    unit: Callable[[Words], str]  # the colour bar's title and the hover's unit
    title: Callable[[int, Words], str]  # map title and table column: what, which years, unit
    column: str  # the precomputed column its values come from (data.COLUMNS)
    compute: Callable[[Atlas, Metric, int | None, Scope], pd.DataFrame]
    source: str  # TEMPERATURE, SEED or OWN: the provenance a download of it carries
    by_year: bool = False  # its values change with the chosen year
    anomaly: bool = False  # against a base period: re-based with it, and given in σ
    own: bool = False  # the visitor's series: offered only once a file is read (Atlas.user)
    # The values the colour scale spans, when wider than those shown: one scale for every year
    # lets an animation compare like with like.
    scale: Callable[[Atlas, Scope], np.ndarray] | None = None


def _period(first: float, last: float) -> str:
    return f"{int(first)}-{int(last)}" if first != last else f"{int(first)}"


def describe(value: float, first: float, last: float, n: int, unit: str) -> str:
    """One hover line: the value with its unit and years, or why there is none."""
    if n == 0:
        return "insufficient data (0 years)"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"insufficient data ({n} years)"
    return f"{value:+.2f} {unit} ({_period(first, last)}, {n} years)"


def spread(sigma: float) -> str:
    """How unusual an anomaly is, as the hover appends it: ", 2.3 σ" ('' when unknown)."""
    return "" if math.isnan(sigma) else f", {sigma:.1f} σ"


def _sources(atlas: Atlas, scope: Scope, index: pd.Index) -> pd.Series:
    """Where each country's series for the season comes from."""
    if scope.season == ANNUAL:
        return atlas.countries["temperature_source"].reindex(index)
    return pd.Series(atlas.seasons[scope.season].source, index=index)


def _rebased(atlas: Atlas, metric: Metric, scope: Scope, values: pd.Series) -> pd.Series:
    """An anomaly against the chosen base (NaN where the series has too few of its years)."""
    if not metric.anomaly or is_published(atlas, scope):
        return values
    return values - offsets(atlas, scope)["offset"].reindex(values.index)


def _sigma(atlas: Atlas, metric: Metric, scope: Scope, values: pd.Series) -> pd.Series:
    if not metric.anomaly:
        return pd.Series(np.nan, index=values.index)
    return values / atlas.warming_for(scope.season)["sd"].reindex(values.index)


def _table(atlas: Atlas, metric: Metric, scope: Scope, published: pd.Series,
           describe_one: Callable[[str, float], str]) -> pd.DataFrame:
    """value, label and sigma per country from the published values: re-based, and labelled by
    `describe_one(iso3, value)` unless the base lacks years, each label ending with its source."""
    values = _rebased(atlas, metric, scope, published)
    sigma = _sigma(atlas, metric, scope, values)
    sources = _sources(atlas, scope, values.index)

    def label(iso3: str, value: float, as_published: float) -> str:
        missing = (shortfall(atlas, iso3, scope) if metric.anomaly and not math.isnan(as_published)
                   else None)
        return (missing or describe_one(iso3, value) + spread(sigma[iso3])) + f", {sources[iso3]}"

    labels = [label(iso3, v, p) for (iso3, v), p in zip(values.items(), published, strict=True)]
    return pd.DataFrame({"value": values, "label": labels, "sigma": sigma}, index=values.index)


def _warming_table(atlas: Atlas, metric: Metric, year: int | None, scope: Scope) -> pd.DataFrame:
    """A pipeline-computed value per country, with the years actually behind it (the pipeline's
    `<key>_first`, `_last`, `_n` columns): FAOSTAT's series end early, and the hover says so."""
    w, unit = atlas.warming_for(scope.season), metric.unit(words(atlas, scope))

    def describe_one(iso3: str, value: float) -> str:
        row = w.loc[iso3]
        return describe(value, row[f"{metric.key}_first"], row[f"{metric.key}_last"],
                        int(row[f"{metric.key}_n"]), unit)

    return _table(atlas, metric, scope, w[metric.column], describe_one)


@lru_cache(maxsize=RECENT)
def values_in(atlas: Atlas, season: str, year: int) -> pd.Series:
    """Every country's published anomaly of `season` in `year` (°C), index iso3, NaN where none."""
    index = atlas.warming_for(season).index
    if season == ANNUAL:
        rows = atlas.temperature[atlas.temperature["year"] == year]
        return rows.set_index("iso3")["anomaly"].reindex(index)
    table = seasonal_table().xs(season, level="season")
    values = table[year] if year in table.columns else pd.Series(dtype=float)
    return values.reindex(index).astype(float)


def _year_table(atlas: Atlas, metric: Metric, year: int | None, scope: Scope) -> pd.DataFrame:
    unit = metric.unit(words(atlas, scope))

    def describe_one(iso3: str, value: float) -> str:
        return f"{value:+.2f} {unit} in {year}" if not math.isnan(value) else f"no value for {year}"

    return _table(atlas, metric, scope, values_in(atlas, scope.season, year), describe_one)


def _seed_table(atlas: Atlas, metric: Metric, year: int | None, scope: Scope) -> pd.DataFrame:
    values, unit = atlas.seed[metric.column], metric.unit(words(atlas, scope))
    labels = [f"{v:+.2f} {unit}, {SEED_SOURCE}" for v in values]
    return pd.DataFrame({"value": values, "label": labels, "sigma": np.nan}, index=values.index)


def _own_table(atlas: Atlas, metric: Metric, year: int | None, scope: Scope) -> pd.DataFrame:
    """The visitor's value in the chosen year, else the latest of the YEARS_BACK years before (the
    table's rule, `latest_within`), with its year in the hover."""
    unit = atlas.indicator_meta.at[YOUR_DATA, "unit"]
    latest = latest_within(atlas.indicator_rows(YOUR_DATA), year)
    labels = [f"{value:,.6g} {unit} in {int(of)}, your data"
              for value, of in zip(latest["value"], latest["year"], strict=True)]
    return pd.DataFrame({"value": latest["value"], "label": labels, "sigma": np.nan},
                        index=latest.index)


@lru_cache(maxsize=RECENT)
def _season_pool(atlas: Atlas, season: str) -> np.ndarray:
    """Every published anomaly of one season, any country and year: the by-year colour scale."""
    if season == ANNUAL:
        return atlas.temperature["anomaly"].to_numpy()
    values = seasonal_table().xs(season, level="season").to_numpy().ravel()
    return values[~np.isnan(values)]


def _anomaly_unit(w: Words) -> str:
    return f"°C vs {w.base}"


# In the selector's order; the first is the default.
METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("mean", label=lambda p: f"Mean anomaly {p.recent_mean}", unit=_anomaly_unit,
           title=lambda year, w: f"Mean anomaly {w.periods.recent_mean}{w.season}, "
                                 f"{_anomaly_unit(w)}",
           column="recent_mean", compute=_warming_table, source=TEMPERATURE, anomaly=True),
    Metric("year", label=lambda p: "Anomaly in the chosen year", unit=_anomaly_unit,
           title=lambda year, w: f"Anomaly in {year}{w.season}, {_anomaly_unit(w)}",
           column="anomaly", compute=_year_table, source=TEMPERATURE, by_year=True, anomaly=True,
           scale=lambda atlas, scope: _season_pool(atlas, scope.season)),
    Metric("trend", label=lambda p: f"Trend {p.trend} (°C per decade)",
           unit=lambda w: "°C per decade",
           title=lambda year, w: f"Trend {w.periods.trend}{w.season}, °C per decade",
           column="trend_per_decade", compute=_warming_table, source=TEMPERATURE),
    Metric("seed", label=lambda p: f"Seed project's {p.seed} change",
           unit=lambda w: f"°C, {w.periods.seed}",
           title=lambda year, w: f"Change {w.periods.seed}, °C (seed project's data)",
           column="tempchange", compute=_seed_table, source=SEED),
    Metric("own", label=lambda p: "Your data (chosen year, or the latest before)",
           unit=lambda w: w.own, title=lambda year, w: f"Your data: {w.own}, {year} or the latest "
                                                         f"of {year - YEARS_BACK}-{year}",
           column="value", compute=_own_table, source=OWN, by_year=True, own=True),
)}


def available(atlas: Atlas, metric: str) -> bool:
    """Whether `metric` can be shown: the visitor's series only once a file is read."""
    return metric in METRICS and (not METRICS[metric].own or atlas.user is not None)


def metric_options(atlas: Atlas) -> dict[str, str]:
    """The selector's options: words -> metric key, of the metrics `available`."""
    return {metric.label(atlas.periods): key for key, metric in METRICS.items()
            if available(atlas, key)}


def metric_title(atlas: Atlas, metric: str, year: int, scope: Scope | None = None) -> str:
    """What the map shows, over which years, in which unit: short enough for a phone's width."""
    return METRICS[metric].title(year, words(atlas, scope or default_scope(atlas)))


def metric_unit(atlas: Atlas, metric: str, scope: Scope | None = None) -> str:
    """The colour bar's title and the hover's unit."""
    return METRICS[metric].unit(words(atlas, scope or default_scope(atlas)))


def metric_table(atlas: Atlas, metric: str, year: int | None = None,
                 scope: Scope | None = None) -> pd.DataFrame:
    """Per country: `value` (NaN when missing), `label` (hover text: value, years, σ, source) and
    `sigma` (an anomaly in FAOSTAT's standard deviations over the base it publishes; NaN for a
    trend or the seed).

    `year` matters only to a by-year metric (default: the last year of the data), `scope` (the
    season and base; default: the year against the publishers' base) to all but the seed's. The
    source matters in the hover: FAOSTAT's series end earlier than the IMF's, so their recent mean
    covers fewer years.
    """
    scope = scope or default_scope(atlas)
    if not METRICS[metric].by_year:
        return _metric_table(atlas, metric, None, scope)
    return _metric_table(atlas, metric, atlas.periods.years.last if year is None else year, scope)


@lru_cache(maxsize=RECENT)
def _metric_table(atlas: Atlas, metric: str, year: int | None, scope: Scope) -> pd.DataFrame:
    """Kept for the last RECENT keys: one change asks for the same table from several views (the
    map, the table and its caption), so each change computes it once; a year step leaves a metric
    that does not follow the year alone (its key has no year)."""
    return METRICS[metric].compute(atlas, METRICS[metric], year, scope)
