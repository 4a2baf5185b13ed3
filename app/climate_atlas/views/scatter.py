"""Warming against development: each country's warming trend beside one indicator.

The companion research asked this question in a notebook; here it is one chart, with the rank
correlation, its n, and the caveat that a correlation says nothing about cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from climate_atlas.data import Atlas
from climate_atlas.latest import YEARS_BACK, latest_within

if TYPE_CHECKING:
    import holoviews as hv

CAVEAT = "Correlation is not cause: both can follow a third factor such as latitude or income."


def reference_year(atlas: Atlas, code: str) -> int:
    """The year the scatter's values stand for: the indicator's last published year (any country's).

    The scatter has no year of its own (the trend covers a fixed window), and the World Bank's series
    end in different years: some in 2023, renewable electricity and electricity use mostly in 2014-
    2015 with one country later. Counting back from each indicator's own last year keeps every
    indicator's countries, while a value from long before it (energy use per capita's 2007 values)
    stays out, as in the table."""
    return int(atlas.indicator_rows(code)["year"].max())


def latest_values(atlas: Atlas, code: str) -> pd.DataFrame:
    """Per country, the indicator's value in `reference_year`, or the latest from the YEARS_BACK
    years before it (the table's rule, `latest_within`), and that value's year.

    The trend it is set against covers a fixed window, so the scatter does not follow the year slider:
    moving the slider (or playing the years) then costs no scatter redraw.
    """
    return latest_within(atlas.indicator_rows(code), reference_year(atlas, code))


def values_words(atlas: Atlas, code: str) -> str:
    """Which value of each country the scatter shows, for its caption."""
    year = reference_year(atlas, code)
    return (f"Each country's value is its latest from {year - YEARS_BACK}-{year}: the indicator's "
            f"last year, {year}, or up to {YEARS_BACK} years before (the hover gives its year).")


def scatter_table(atlas: Atlas, code: str) -> pd.DataFrame:
    """Countries with both a warming trend and an indicator value: the points of the scatter."""
    trend = atlas.warming["trend_per_decade"].dropna()
    table = latest_values(atlas, code).join(trend, how="inner")
    table["name"] = [atlas.country_name(c) for c in table.index]
    return table.rename_axis("iso3").reset_index()


def rank_correlation(table: pd.DataFrame) -> tuple[float, int]:
    """Spearman's rho between indicator and trend, and the number of countries behind it.

    Pearson on average ranks, which is Spearman's definition; pandas' own "spearman" needs scipy,
    which the browser build does not ship.
    """
    rho = table["value"].rank().corr(table["trend_per_decade"].rank())
    return float(rho), len(table)


def _log_fits(values: pd.Series) -> bool:
    """Log scale when every value is positive and they span more than two orders of magnitude."""
    return bool(len(values) and values.min() > 0 and values.max() / values.min() > 100)


def scatter_summary(atlas: Atlas, code: str) -> str:
    table = scatter_table(atlas, code)
    rho, n = rank_correlation(table)
    short = atlas.indicator_meta.at[code, "short_name"]
    strength = "no" if np.isnan(rho) else f"{rho:+.2f}"
    return (f"Rank correlation (Spearman) between {short} and the warming trend: "
            f"**{strength}**, n = {n} countries. {values_words(atlas, code)} {CAVEAT}")


def scatter_chart(atlas: Atlas, code: str) -> hv.Scatter:
    """One point per country; hover names it; the x axis is logarithmic where that fits.

    HoloViews is imported here, when the scatter's tab is first opened, not with the page: its
    imports cost about a second of a cold start in the browser.
    """
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  registers the backend whose options are set below

    meta = atlas.indicator_meta.loc[code]
    table = scatter_table(atlas, code)
    year = reference_year(atlas, code)
    xlabel = f"{meta['short_name']} ({meta['unit']}), latest of {year - YEARS_BACK}-{year}"
    return hv.Scatter(table, kdims=[("value", xlabel)],
                      vdims=[("trend_per_decade", f"Warming trend {atlas.periods.trend} (°C per decade)"),
                             "name", "iso3", "year"]).opts(
        logx=_log_fits(table["value"]), size=7, color="#0072B2", alpha=0.75,
        tools=["hover", "tap"], nonselection_alpha=0.3, selection_color="#D55E00",
        hover_tooltips=[("Country", "@name"), ("Value", "@value (@year)"),
                        ("Trend", "@trend_per_decade{+0.00} °C per decade")],
        title=f"Warming trend against {meta['short_name']}", responsive=True, height=320,
        show_grid=True, toolbar="above")
