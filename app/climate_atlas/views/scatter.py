"""Warming against development: each country's warming trend beside one indicator.

The companion research asked this question in a notebook; here it is one chart, with the rank
correlation, its n, and the caveat that a correlation says nothing about cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from climate_atlas.data import Atlas

if TYPE_CHECKING:
    import holoviews as hv

CAVEAT = "Correlation is not cause: both can follow a third factor such as latitude or income."


def latest_values(atlas: Atlas, code: str) -> pd.DataFrame:
    """Per country, the indicator's latest published value, and that value's year.

    The trend it is set against covers a fixed window, so the scatter does not follow the year slider:
    moving the slider (or playing the years) then costs no scatter redraw.
    """
    latest = atlas.indicator_rows(code).sort_values("year").groupby("iso3").tail(1).set_index("iso3")
    return latest[["value", "year"]]


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
            f"**{strength}**, n = {n} countries. {CAVEAT}")


def scatter_chart(atlas: Atlas, code: str) -> hv.Scatter:
    """One point per country; hover names it; the x axis is logarithmic where that fits.

    HoloViews is imported here, when the scatter's tab is first opened, not with the page: its
    imports cost about a second of a cold start in the browser.
    """
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  registers the backend whose options are set below

    meta = atlas.indicator_meta.loc[code]
    table = scatter_table(atlas, code)
    xlabel = f"{meta['short_name']} ({meta['unit']}), latest published value"
    return hv.Scatter(table, kdims=[("value", xlabel)],
                      vdims=[("trend_per_decade", f"Warming trend {atlas.periods.trend} (°C per decade)"),
                             "name", "iso3", "year"]).opts(
        logx=_log_fits(table["value"]), size=7, color="#0072B2", alpha=0.75,
        tools=["hover", "tap"], nonselection_alpha=0.3, selection_color="#D55E00",
        hover_tooltips=[("Country", "@name"), ("Value", "@value (@year)"),
                        ("Trend", "@trend_per_decade{+0.00} °C per decade")],
        title=f"Warming trend against {meta['short_name']}", responsive=True, height=320,
        show_grid=True, toolbar="above")
