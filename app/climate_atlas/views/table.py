"""The table of every country: map metric and chosen indicator for the chosen year."""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache
from typing import Any

import pandas as pd

from climate_atlas.anomalies import Scope, default_scope
from climate_atlas.data import ANNUAL, Atlas
from climate_atlas.latest import YEARS_BACK, latest_within, window_words
from climate_atlas.views.metrics import RECENT, metric_table, metric_title

# The on-screen table's fixed column names (see on_screen_table). The indicator column holds numbers,
# so it sorts and filters as numbers; what it shows is the label column, through a formatter.
INDICATOR = "indicator"
VALUE_YEAR = "indicator year"  # the year the indicator's value is from
LABEL = "indicator label"  # the value as text, with its year when that is not the chosen year
SIGMA = "σ"  # the map metric in FAOSTAT's standard deviations, where it is an anomaly


def _scope(atlas: Atlas, season: str, base: str) -> Scope:
    return Scope(season, base) if base else default_scope(atlas)


def country_table(atlas: Atlas, metric: str, year: int, code: str, season: str = ANNUAL,
                  base: str = "") -> pd.DataFrame:
    """One row per country with data; column names carry units so a CSV stands on its own.

    The indicator's value is the one `latest_within` picks for `year` (that year's, else the latest
    from the YEARS_BACK years before), and the next column is the year it is from (empty where
    there is no value). The map metric is of the season and base period (`base` '' for the
    publishers'), and beside it how unusual it is in FAOSTAT's standard deviations (σ)."""
    return _country_table(atlas, metric, year, code, _scope(atlas, season, base)).copy()


@lru_cache(maxsize=RECENT)
def _country_table(atlas: Atlas, metric: str, year: int, code: str, scope: Scope) -> pd.DataFrame:
    """Kept for the last RECENT keys: the table, its caption and a download ask for the same one."""
    meta = atlas.indicator_meta.loc[code]
    metrics = metric_table(atlas, metric, year, scope)
    metric_values = metrics["value"]
    countries = _by_name(atlas)
    latest = latest_within(atlas.indicator_rows(code), year).reindex(countries.index)
    table = pd.DataFrame({
        "country": countries["name"],
        "iso3": countries.index,
        "region": countries["region"],
        metric_title(atlas, metric, year, scope): metric_values.reindex(countries.index),
        f"{SIGMA}: multiple of FAOSTAT's standard deviation over {atlas.periods.base}":
            metrics["sigma"].reindex(countries.index),
        f"{meta['short_name']} ({meta['unit']}), latest of {year - YEARS_BACK}-{year}":
            latest["value"],
        f"{meta['short_name']}, year of value": latest["year"].astype("Int64"),
    })
    return table.reset_index(drop=True)


@lru_cache(maxsize=RECENT)
def _by_name(atlas: Atlas) -> pd.DataFrame:
    """The countries in the order the browser's own sort by name gives, so that sorting the table
    by country changes nothing; sorted once, not with each year or indicator."""
    return atlas.countries.sort_values("name", key=lambda names: names.map(_collation_key),
                                       kind="mergesort")


def on_screen_table(atlas: Atlas, metric: str, year: int, code: str, season: str = ANNUAL,
                    base: str = "") -> pd.DataFrame:
    """The same rows under fixed column names, so a new year or indicator only changes values;
    plus LABEL, the indicator's value as the screen shows it ("1.78 (2019)" for a value from before
    `year`, "1.78" for one from `year`).

    (Tabulator 6.4 throws when its columns are replaced while it redraws, as during play; the
    caption `table_caption` says what the value columns hold. Panel replaces them when a column's
    type changes too, so the value's year is always a float column.)
    """
    table = country_table(atlas, metric, year, code, season, base)
    shown = table.set_axis(list(table.columns[:3]) + ["map metric", SIGMA, INDICATOR, VALUE_YEAR],
                           axis=1)
    shown[VALUE_YEAR] = shown[VALUE_YEAR].astype("float64")
    shown[LABEL] = [value_label(value, of, year)
                    for value, of in zip(shown[INDICATOR], shown[VALUE_YEAR], strict=True)]
    return shown


def value_text(value: float) -> str:
    """A value at a precision that reads well whatever its size: three significant digits, and no
    digit of the integer part dropped ("0.115", "1.78", "24.4", "9,160", "1,417,173,173"). World Bank
    values carry up to 13 decimals of arithmetic, well past what their sources measure; the
    downloads keep every digit."""
    if math.isnan(value):
        return "-"
    decimals = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
    return f"{value:,.{decimals}f}"


def value_label(value: float, of: float, year: int) -> str:
    """The text of an indicator cell: the value, and the year it is from when that is not `year`."""
    if math.isnan(value):
        return value_text(value)
    return value_text(value) if of == year else f"{value_text(value)} ({int(of)})"


def screen_options() -> dict[str, Any]:
    """The Tabulator options that show on_screen_table's indicator column as its LABEL, keeping
    the numbers underneath for sorting and filtering: a Bokeh HTMLTemplateFormatter (its template
    is compiled with `new Function`, which the site's CSP allows as 'unsafe-eval'; `<%- %>` escapes
    the text), and the helper columns hidden."""
    from bokeh.models import HTMLTemplateFormatter, NumberFormatter

    # `obj` is the template's row: the column's name has a space, so it is read by key
    return {"formatters": {INDICATOR: HTMLTemplateFormatter(template=f'<%- obj["{LABEL}"] %>'),
                           SIGMA: NumberFormatter(format="0.0", nan_format="-")},
            "hidden_columns": [VALUE_YEAR, LABEL], "text_align": {INDICATOR: "right"}}


# ICU's root collation (what the browser's localeCompare uses) puts punctuation before digits and
# digits before letters, in this order; the rest of its order follows the code points closely enough
# for country names and region names.
_ICU_PUNCTUATION = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def _collation_key(text: str) -> tuple[tuple[int, ...], str]:
    """Orders text as Tabulator's string sorter does on screen, `a.toLowerCase().localeCompare(
    b.toLowerCase())`: letters first regardless of accents ("Côte d'Ivoire" before "Croatia"),
    then accents, with punctuation before digits before letters."""
    lower = text.lower()
    base = "".join(c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c))
    primary = tuple(_ICU_PUNCTUATION.index(c) if c in _ICU_PUNCTUATION
                    else 100 + ord(c) if c.isdigit() else 1000 + ord(c) for c in base)
    return primary, lower


def _screen_order(column: pd.Series) -> pd.Series:
    """A sort key per value, as Tabulator compares them: text by `_collation_key`, and an empty
    value as the smallest of all (first when ascending, last when descending)."""
    if column.dtype.kind in "OSU":
        return column.map(lambda v: _collation_key(v) if isinstance(v, str) and v else ((), ""))
    return column.map(lambda v: -math.inf if pd.isna(v) else v)


def as_shown(rows: pd.DataFrame, sorters: list[dict[str, str]]) -> pd.DataFrame:
    """`rows` (a table's filtered rows, in its data order) in the order the table shows them.

    `sorters` is the Tabulator widget's: [{"field": column, "dir": "asc" | "desc"}, ...], the first
    deciding; ties keep the data order, as on screen. Panel's own `current_view` sorts text by code
    point and empty values last, which differs from the browser for accented names and empty
    cells, so a download would not match the screen."""
    positions = list(range(len(rows)))
    for sorter in reversed(sorters):  # stable sorts, the least significant first
        keys = _screen_order(rows[sorter["field"]]).tolist()
        positions.sort(key=keys.__getitem__, reverse=sorter["dir"] == "desc")
    return rows.iloc[positions]


def with_full_names(atlas: Atlas, metric: str, year: int, code: str, shown: pd.DataFrame,
                    season: str = ANNUAL, base: str = "") -> pd.DataFrame:
    """Rows of `on_screen_table` (for example the widget's filtered, sorted view) under the full
    column names of `country_table`, which carry the metric, year and units a CSV needs: the
    screen's label dropped, the value's year an integer again."""
    full = shown.drop(columns=LABEL).set_axis(
        list(country_table(atlas, metric, year, code, season, base).columns), axis=1)
    full[full.columns[-1]] = full[full.columns[-1]].astype("Int64")
    return full


def table_caption(atlas: Atlas, metric: str, year: int, code: str, season: str = ANNUAL,
                  base: str = "") -> str:
    """What the table's value columns are (the downloaded CSV names them in full), and which
    year an indicator value is from."""
    headers = country_table(atlas, metric, year, code, season, base).columns
    meta = atlas.indicator_meta.loc[code]
    return (f"**map metric**: {headers[3]}; **{SIGMA}**: {headers[4][3:]} (anomalies only); "
            f"**indicator**: {meta['short_name']} in {year} "
            f"({meta['unit']}); where {year} has no value, the latest from the {YEARS_BACK} years "
            f"before ({window_words(year)}), with its year in brackets.")
