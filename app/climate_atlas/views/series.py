"""Per-country charts: the yearly temperature anomaly with its trend, and one World Bank indicator."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd

from climate_atlas.data import Atlas
from climate_atlas.views.metrics import describe

TREND_START, TREND_END = 1993, 2022
COUNTRY_COLOR = "#b2182b"
WORLD_COLOR = "#777777"
CHART_OPTS = {"responsive": True, "height": 300, "show_grid": True, "toolbar": "above"}


def _xy(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return series.index.to_numpy(), series.to_numpy()


def trend_line(series: pd.Series, per_decade: float) -> pd.Series:
    """The least-squares line of the trend window: slope from the pipeline, through the mean point."""
    window = series.loc[TREND_START:TREND_END].dropna()
    slope = per_decade / 10
    years = np.array([window.index.min(), window.index.max()], dtype=float)
    return pd.Series(window.mean() + slope * (years - window.index.to_numpy().mean()), index=years)


def temperature_title(atlas: Atlas, iso3: str) -> str:
    """Country, trend and source; or the reason there is no trend."""
    name = atlas.country_name(iso3)
    if iso3 not in atlas.warming.index:
        return f"{name}: no temperature series in the IMF or FAOSTAT data"
    row = atlas.warming.loc[iso3]
    trend = describe(row["trend_per_decade"], row["trend_first"], row["trend_last"],
                     int(row["trend_n"]), "°C per decade")
    source = atlas.countries.at[iso3, "temperature_source"]
    return f"{name}: trend {trend}, source {source}"


def temperature_chart(atlas: Atlas, iso3: str) -> hv.Overlay:
    """Yearly anomaly against 1951-1980, the world for reference, and the 1993-2022 trend."""
    series = atlas.series(iso3)
    name = atlas.country_name(iso3)
    world = hv.Curve(_xy(atlas.world_temperature), "year", "anomaly", label="World").opts(
        color=WORLD_COLOR, line_dash="dashed", line_width=1.5)
    own = hv.Curve(_xy(series), "year", "anomaly", label=name).opts(color=COUNTRY_COLOR, line_width=2)
    dots = hv.Scatter(_xy(series), "year", "anomaly").opts(color=COUNTRY_COLOR, size=4, tools=["hover"])
    layers = [world, own, dots]
    if iso3 in atlas.warming.index and not np.isnan(atlas.warming.at[iso3, "trend_per_decade"]):
        line = trend_line(series, float(atlas.warming.at[iso3, "trend_per_decade"]))
        layers.append(hv.Curve(_xy(line), "year", "anomaly", label="Trend 1993-2022").opts(
            color="black", line_width=2))
    return hv.Overlay(layers).opts(
        title=temperature_title(atlas, iso3), ylabel="Anomaly (°C vs 1951-1980)", xlabel="Year",
        legend_position="top_left", **CHART_OPTS)


def indicator_title(atlas: Atlas, code: str, iso3: str) -> str:
    """Indicator and country, or a plain statement that the World Bank published nothing."""
    short = atlas.indicator_meta.at[code, "short_name"]
    name = atlas.country_name(iso3)
    if atlas.indicator_series(code, iso3).empty:
        return f"{short}: no World Bank data for {name}"
    return f"{short}: {name}"


def indicator_chart(atlas: Atlas, code: str, iso3: str) -> hv.Curve:
    """One World Bank indicator for one country, in its published unit."""
    meta = atlas.indicator_meta.loc[code]
    series = atlas.indicator_series(code, iso3)
    return hv.Curve(_xy(series), "year", "value", label=atlas.country_name(iso3)).opts(
        title=indicator_title(atlas, code, iso3), ylabel=str(meta["unit"]), xlabel="Year",
        color="#2166ac", line_width=2, tools=["hover"], **CHART_OPTS)


def indicator_source(atlas: Atlas, code: str) -> str:
    """The attribution line the World Bank asks for, with the original compiler."""
    meta = atlas.indicator_meta.loc[code]
    return (f"Source: World Bank, World Development Indicators ([{code}]({meta['source_url']}), "
            f"updated {meta['last_updated']}); original compiler: {meta['compiler']}; "
            f"licence {meta['licence']}.")
