"""The data layer's lookups (app/climate_atlas/data.py) return what the precomputed tables hold."""

from __future__ import annotations

import dataclasses

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from climate_atlas.data import load_atlas

ROWS = st.lists(st.tuples(st.sampled_from(["FRA", "IND", "NOR"]), st.integers(1960, 2024),
                          st.floats(-1e6, 1e6, allow_nan=False)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_a_countrys_series_are_its_rows_in_the_tables_order(rows: list) -> None:
    """Each country's values indexed by year, in the order the table has them (a visitor's own
    file may come unsorted), and an empty series for a country without any: an indicator's
    (indicator_series) and the yearly temperature anomalies (series)."""
    table = pd.DataFrame(rows, columns=["iso3", "year", "value"]).astype({"year": "int64"})
    atlas = dataclasses.replace(load_atlas(), indicators=table.assign(code="X"),
                                temperature=table.rename(columns={"value": "anomaly"}))
    for iso3 in ("FRA", "IND", "NOR", "QQQ"):
        mine = table[table["iso3"] == iso3]
        expected = pd.Series(mine["value"].to_numpy(), index=pd.Index(
            mine["year"].to_numpy(dtype="int64"), name="year"), name="value", dtype=float)
        pd.testing.assert_series_equal(atlas.indicator_series("X", iso3), expected)
        pd.testing.assert_series_equal(atlas.series(iso3), expected.rename("anomaly"))


def test_the_published_series_match_the_indicator_table() -> None:
    atlas = load_atlas()
    rows = atlas.indicator_rows("EN.ATM.CO2E.PC")
    india = rows[rows["iso3"] == "IND"]
    assert atlas.indicator_series("EN.ATM.CO2E.PC", "IND").to_dict() == dict(
        zip(india["year"], india["value"], strict=True))


def test_a_series_handed_out_can_be_changed_without_changing_the_next() -> None:
    atlas = load_atlas()
    first = atlas.series("FRA")
    first.iloc[:] = 99.0
    assert (atlas.series("FRA") != 99.0).all()
    first = atlas.indicator_series("EN.ATM.CO2E.PC", "FRA")
    first.iloc[:] = 99.0
    assert (atlas.indicator_series("EN.ATM.CO2E.PC", "FRA") != 99.0).all()


def test_an_indicators_rows_are_exactly_its_rows_of_the_table() -> None:
    atlas = load_atlas()
    for code in [*atlas.indicator_meta.index, "NOPE"]:
        pd.testing.assert_frame_equal(atlas.indicator_rows(code),
                                      atlas.indicators[atlas.indicators["code"] == code])
