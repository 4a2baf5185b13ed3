"""The rule for which value stands for a year: that year's, else the latest of the 5 years before."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from climate_atlas.data import load_atlas
from climate_atlas.latest import YEARS_BACK, latest_within, window_words


def _rows(*values: tuple[str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(values, columns=["iso3", "year", "value"])


def test_the_years_own_value_comes_first() -> None:
    rows = _rows(("AAA", 2019, 1.0), ("AAA", 2020, 2.0), ("AAA", 2021, 3.0))
    assert latest_within(rows, 2020).loc["AAA"].to_dict() == {"value": 2.0, "year": 2020}


@pytest.mark.parametrize("back", range(1, YEARS_BACK + 1))
def test_else_the_latest_value_from_up_to_five_years_before(back: int) -> None:
    rows = _rows(("AAA", 2010 - back, 7.5), ("AAA", 2010 - back - 1, 9.0))
    assert latest_within(rows, 2010).loc["AAA"].to_dict() == {"value": 7.5, "year": 2010 - back}


def test_nothing_older_than_five_years() -> None:
    rows = _rows(("AAA", 2010 - YEARS_BACK - 1, 1.0), ("BBB", 2010 - YEARS_BACK, 2.0))
    assert list(latest_within(rows, 2010).index) == ["BBB"]


def test_never_a_value_from_a_later_year() -> None:
    rows = _rows(("AAA", 2011, 1.0), ("AAA", 2016, 1.0), ("BBB", 2008, 2.0), ("BBB", 2011, 3.0))
    latest = latest_within(rows, 2010)
    assert list(latest.index) == ["BBB"]
    assert latest.loc["BBB"].to_dict() == {"value": 2.0, "year": 2008}


def test_an_empty_value_does_not_count_and_the_window_can_be_set() -> None:
    rows = _rows(("AAA", 2010, math.nan), ("AAA", 2008, 4.0), ("BBB", 2007, 5.0))
    assert latest_within(rows, 2010).loc["AAA", "year"] == 2008
    assert list(latest_within(rows, 2010, years_back=2).index) == ["AAA"]


def test_the_default_view_finds_indias_co2_per_capita() -> None:
    """The default view (2022, CO2 per capita, whose series ends earlier) is not empty."""
    rows = load_atlas().indicator_rows("EN.ATM.CO2E.PC")
    latest = latest_within(rows, 2022)
    india = rows[rows["iso3"] == "IND"]
    last = india["year"].max()
    assert rows["year"].max() < 2022 and last >= 2022 - YEARS_BACK
    assert latest.loc["IND"].to_dict() == {"value": india.loc[india["year"] == last, "value"].item(),
                                           "year": last}
    assert latest["year"].dtype.kind == "i"


def test_window_words() -> None:
    assert window_words(2022) == "2017-2021"
