"""The table of every country: map metric and chosen indicator for the chosen year."""

from __future__ import annotations

import pandas as pd

from climate_atlas.data import Atlas
from climate_atlas.views.metrics import metric_table, metric_title


def country_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    """One row per country with data; column names carry units so a CSV stands on its own."""
    return atlas.remember(("table", metric, year, code),
                          lambda: _country_table(atlas, metric, year, code)).copy()


def _country_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    meta = atlas.indicator_meta.loc[code]
    metric_values = metric_table(atlas, metric, year)["value"]
    rows = atlas.indicator_rows(code)
    indicator = rows[rows["year"] == year].set_index("iso3")["value"]
    countries = atlas.countries
    table = pd.DataFrame({
        "country": countries["name"],
        "iso3": countries.index,
        "region": countries["region"],
        metric_title(metric, year): metric_values.reindex(countries.index),
        f"{meta['short_name']} in {year} ({meta['unit']})": indicator.reindex(countries.index),
    })
    return table.sort_values("country").reset_index(drop=True)


def on_screen_table(atlas: Atlas, metric: str, year: int, code: str) -> pd.DataFrame:
    """The same rows under fixed column names, so a new year or indicator only changes values.

    (Tabulator 6.4 throws when its columns are replaced while it redraws, as during play; the
    caption `table_caption` says what the two value columns hold.)
    """
    table = country_table(atlas, metric, year, code)
    return table.set_axis(list(table.columns[:3]) + ["map metric", "indicator"], axis=1)


def with_full_names(atlas: Atlas, metric: str, year: int, code: str,
                    shown: pd.DataFrame) -> pd.DataFrame:
    """Rows of `on_screen_table` (for example the widget's filtered, sorted view) under the full
    column names of `country_table`, which carry the metric, year and units a CSV needs."""
    return shown.set_axis(list(country_table(atlas, metric, year, code).columns), axis=1)


def table_caption(atlas: Atlas, metric: str, year: int, code: str) -> str:
    """What the table's two value columns are (the downloaded CSV names them in full)."""
    headers = country_table(atlas, metric, year, code).columns
    return f"**map metric**: {headers[3]}; **indicator**: {headers[4]}."
