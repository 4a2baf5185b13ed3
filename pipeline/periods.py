"""The year windows and thresholds every output is computed with: the one place they are written.

The manifest carries them (`manifest()`), and the app reads them from there, so a title, a hover,
an axis label or the year slider can never name other years than the numbers behind it.
"""

from __future__ import annotations

from typing import NamedTuple


class Period(NamedTuple):
    """First and last year, both included."""

    first: int
    last: int

    def range(self) -> range:
        return range(self.first, self.last + 1)


YEARS = Period(1961, 2022)  # the temperature series kept: the IMF file's years
BASE = Period(1951, 1980)  # both sources' anomalies are against the mean of these years
RECENT_MEAN = Period(2018, 2022)  # the map's default metric: mean anomaly over these years
TREND = Period(1993, 2022)  # the trend's window, also where the source rule counts years
SEED = Period(1901, 2012)  # the seed project's table: change between these years (its own number)
# The base periods a reader can choose: the publishers' own first (every anomaly as published), then
# the WMO's earlier climate normal and its current one (1991-2020). Another base re-bases a series
# by subtracting the series' own mean over that base (baselines.csv).
BASES = (BASE, Period(1961, 1990), Period(1991, 2020))
BASE_NOTES = ("the publishers' base", "WMO's climate normal until 2020",
              "WMO's current climate normal")

RECENT_MEAN_MIN_YEARS = 3  # fewer years in RECENT_MEAN: "insufficient data", no mean
TREND_MIN_YEARS = 20  # fewer years in TREND: "insufficient data", no trend
SOURCE_MIN_YEARS = 20  # a source needs this many years in TREND to be chosen (DESIGN.md section 3)
BASE_MIN_PERCENT = 80  # fewer than this share of a base's years: "insufficient data" for that base


def base_min_years(base: Period) -> int:
    """Years a series needs inside `base` to be re-based to it: BASE_MIN_PERCENT of them, rounded
    up (24 of 30)."""
    return -(-len(base.range()) * BASE_MIN_PERCENT // 100)


def manifest() -> dict[str, dict[str, list[int] | int] | list[dict]]:
    """The manifest's "periods" (name -> [first, last]), "bases" (the choosable base periods, the
    publishers' first) and "min_years" (name -> count)."""
    periods = {"years": YEARS, "base": BASE, "recent_mean": RECENT_MEAN, "trend": TREND,
               "seed": SEED}
    return {
        "periods": {name: list(period) for name, period in periods.items()},
        "bases": [{"years": list(base), "note": note}
                  for base, note in zip(BASES, BASE_NOTES, strict=True)],
        "min_years": {"recent_mean": RECENT_MEAN_MIN_YEARS, "trend": TREND_MIN_YEARS,
                      "source": SOURCE_MIN_YEARS, "base_percent": BASE_MIN_PERCENT},
    }
