"""The table of every country: map metric and chosen indicator for the chosen year."""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

import pandas as pd

from climate_atlas.data import Atlas
from climate_atlas.views.metrics import RECENT, metric_table, metric_title


def country_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    """One row per country with data; column names carry units so a CSV stands on its own."""
    return _country_table(atlas, metric, year, code).copy()


@lru_cache(maxsize=RECENT)
def _country_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    """Kept for the last RECENT keys: the table, its caption and a download ask for the same one."""
    meta = atlas.indicator_meta.loc[code]
    metric_values = metric_table(atlas, metric, year)["value"]
    rows = atlas.indicator_rows(code)
    indicator = rows[rows["year"] == year].set_index("iso3")["value"]
    countries = atlas.countries
    table = pd.DataFrame({
        "country": countries["name"],
        "iso3": countries.index,
        "region": countries["region"],
        metric_title(atlas, metric, year): metric_values.reindex(countries.index),
        f"{meta['short_name']} in {year} ({meta['unit']})": indicator.reindex(countries.index),
    })
    # the order the browser's own sort by name gives, so sorting by country changes nothing
    return table.sort_values("country", key=lambda names: names.map(_collation_key),
                             kind="mergesort").reset_index(drop=True)


def on_screen_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    """The same rows under fixed column names, so a new year or indicator only changes values.

    (Tabulator 6.4 throws when its columns are replaced while it redraws, as during play; the
    caption `table_caption` says what the two value columns hold.)
    """
    table = country_table(atlas, metric, year, code)
    return table.set_axis(list(table.columns[:3]) + ["map metric", "indicator"], axis=1)


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


def with_full_names(atlas: Atlas, metric: str, year: int, code: str,
                    shown: pd.DataFrame) -> pd.DataFrame:
    """Rows of `on_screen_table` (for example the widget's filtered, sorted view) under the full
    column names of `country_table`, which carry the metric, year and units a CSV needs."""
    return shown.set_axis(list(country_table(atlas, metric, year, code).columns), axis=1)


def table_caption(atlas: Atlas, metric: str, year: int, code: str) -> str:
    """What the table's two value columns are (the downloaded CSV names them in full)."""
    headers = country_table(atlas, metric, year, code).columns
    return f"**map metric**: {headers[3]}; **indicator**: {headers[4]}."
