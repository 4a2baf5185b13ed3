"""Anomalies as a reader asks for them: of a season (or the year) and against a base period.

Every series is published against the publishers' base. Another base re-bases a series by subtracting the
series' own mean over that base, which the pipeline computed (baselines.csv.gz); a series with fewer
than 80% of the base's years has no such mean and reads "insufficient data" for that base. A trend
is a slope, so no base changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from climate_atlas.data import ANNUAL, Atlas, Base, Season

WORLD = "WLD"  # the world line's key in baselines.csv.gz


@dataclass(frozen=True)
class Scope:
    """Which anomalies: a season (a key of `Atlas.seasons`) against a base period ("first-last",
    one of `Atlas.periods.bases`). Hashable, so derived tables are cached per scope."""

    season: str
    base: str


def default_scope(atlas: Atlas) -> Scope:
    """The year as a whole, against the publishers' base: the numbers exactly as published."""
    return Scope(ANNUAL, str(atlas.periods.base))


def is_published(atlas: Atlas, scope: Scope) -> bool:
    """Whether `scope`'s base is the publishers' own, so values are shown as published."""
    return scope.base == str(atlas.periods.base)


def base_of(atlas: Atlas, scope: Scope) -> Base:
    """The chosen base period and its note."""
    return next(b for b in atlas.periods.bases if str(b.period) == scope.base)


def season_of(atlas: Atlas, scope: Scope) -> Season:
    return atlas.seasons[scope.season]


def offsets(atlas: Atlas, scope: Scope) -> pd.DataFrame:
    """What re-basing subtracts, per ISO3 (WLD included): `offset` (°C; 0 for the publishers'
    base, NaN where the series has too few of the base's years) and `n` (those years present)."""
    if is_published(atlas, scope):
        return pd.DataFrame({"offset": 0.0, "n": len(base_of(atlas, scope).period)},
                            index=pd.Index([], name="iso3"))
    table = atlas.baselines.loc[(scope.season, scope.base)]
    return table.rename(columns={"mean": "offset"})


def offset(atlas: Atlas, iso3: str, scope: Scope) -> float:
    """The amount subtracted from one series (0 for the publishers' base; NaN when too few years)."""
    if is_published(atlas, scope):
        return 0.0
    table = offsets(atlas, scope)
    return float(table.at[iso3, "offset"]) if iso3 in table.index else np.nan


def anomalies(atlas: Atlas, iso3: str, scope: Scope) -> pd.Series:
    """One country's anomaly by year for `scope`, °C against its base; empty when it has no such
    series or too few of the base's years."""
    series = atlas.series(iso3, scope.season)
    shift = offset(atlas, iso3, scope)
    if np.isnan(shift):
        return series.iloc[:0]
    return series - shift if shift else series


def shortfall(atlas: Atlas, iso3: str, scope: Scope) -> str | None:
    """Why a country has no anomalies against the chosen base ("insufficient data for base
    <first-last> (18 of 30 years)"), or None when it has them or has no series at all."""
    if is_published(atlas, scope) or atlas.series(iso3, scope.season).empty:
        return None
    table = offsets(atlas, scope)
    if iso3 in table.index and not np.isnan(table.at[iso3, "offset"]):
        return None
    n = int(table.at[iso3, "n"]) if iso3 in table.index else 0
    return f"insufficient data for base {scope.base} ({n} of {len(base_of(atlas, scope).period)} years)"


def world_anomalies(atlas: Atlas, scope: Scope) -> pd.Series:
    """The world line for `scope`: the IMF's World series, which is annual only (FAOSTAT's
    regional rows are not kept), so empty for a season or month."""
    if scope.season != ANNUAL:
        return atlas.world_temperature.iloc[:0]
    return atlas.world_temperature - offset(atlas, WORLD, scope)
