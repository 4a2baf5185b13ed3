"""Which indicator value stands for a year: the one rule the table and the scatter share.

World Bank series end in different years (CO2 per capita in 2019, population three years later),
so a table of "the value in" the temperature series' last year would be empty for most indicators.
Our World in Data fills such a cell with the latest value from a few years before, labelled with
its own year; so do we, with the same window of 5 years, and never with a value from a later year.
"""

from __future__ import annotations

import pandas as pd

YEARS_BACK = 5  # how far back a value may come from: Our World in Data's usual tolerance


def latest_within(rows: pd.DataFrame, year: int, years_back: int = YEARS_BACK) -> pd.DataFrame:
    """Per country, the value of `year` if there is one, else the latest from the `years_back` years
    before it; countries with neither are left out.

    `rows` is long, one row per published value: columns iso3, year (int) and value (the indicator's
    unit, for example t per person), as `Atlas.indicator_rows` gives. Returns a frame indexed by
    iso3 with columns value (same unit) and year (int, the year that value is from, in
    [year - years_back, year]).
    """
    window = rows[rows["year"].between(year - years_back, year) & rows["value"].notna()]
    latest = window.sort_values("year", kind="mergesort").groupby("iso3").tail(1)
    return latest.set_index("iso3")[["value", "year"]].sort_index()


def window_words(year: int, years_back: int = YEARS_BACK) -> str:
    """The years `latest_within` looks back over, in words for captions: "2017-2021"."""
    return f"{year - years_back}-{year - 1}"

