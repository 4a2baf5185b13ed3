"""The country table, and its rows in the order the browser's table shows them."""

from __future__ import annotations

import math

import pandas as pd

from climate_atlas.data import load_atlas
from climate_atlas.views.table import as_shown, country_table

ROWS = pd.DataFrame({
    "country": ["Rwanda", "Réunion", "Croatia", "Côte d'Ivoire", "Guinea-Bissau", "Guinea"],
    "value": [1.0, math.nan, 0.5, 1.0, math.nan, 2.0],
})


def test_no_sorter_keeps_the_data_order() -> None:
    assert as_shown(ROWS, []).equals(ROWS)


def test_names_sort_by_letters_before_accents() -> None:
    """As the browser's localeCompare does (checked against Node's ICU): "Côte d'Ivoire" comes
    before "Croatia", "Réunion" before "Rwanda", a shorter name before its longer forms."""
    shown = as_shown(ROWS, [{"field": "country", "dir": "asc"}])
    assert list(shown["country"]) == ["Côte d'Ivoire", "Croatia", "Guinea", "Guinea-Bissau",
                                      "Réunion", "Rwanda"]
    shown = as_shown(ROWS, [{"field": "country", "dir": "desc"}])
    assert list(shown["country"])[:2] == ["Rwanda", "Réunion"]


def test_an_empty_value_is_the_smallest_and_ties_keep_the_data_order() -> None:
    ascending = as_shown(ROWS, [{"field": "value", "dir": "asc"}])
    assert list(ascending["country"]) == ["Réunion", "Guinea-Bissau", "Croatia", "Rwanda",
                                          "Côte d'Ivoire", "Guinea"]
    descending = as_shown(ROWS, [{"field": "value", "dir": "desc"}])
    assert list(descending["country"]) == ["Guinea", "Rwanda", "Côte d'Ivoire", "Croatia",
                                           "Réunion", "Guinea-Bissau"]


def test_the_first_sorter_decides_and_the_next_breaks_ties() -> None:
    shown = as_shown(ROWS, [{"field": "value", "dir": "desc"}, {"field": "country", "dir": "asc"}])
    assert list(shown["country"])[:3] == ["Guinea", "Côte d'Ivoire", "Rwanda"]


def test_the_table_lists_countries_in_the_order_a_sort_by_name_gives() -> None:
    atlas = load_atlas()
    table = country_table(atlas, "mean", 2022, "SP.POP.TOTL")
    assert table.equals(as_shown(table, [{"field": "country", "dir": "asc"}]).reset_index(drop=True))
    assert list(table["country"]).index("Réunion") < list(table["country"]).index("Rwanda")
