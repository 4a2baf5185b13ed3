"""Per-country charts: yearly temperature anomalies with trends, and one World Bank indicator.

Several countries overlay in one chart with a legend, with the world series as a dashed grey
reference, so comparing is a matter of selecting more countries.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd

from climate_atlas.data import Atlas

TREND_START, TREND_END = 1993, 2022
# Okabe-Ito: eight colours told apart with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
WORLD_COLOR = "#888888"
CHART_OPTS = {"responsive": True, "height": 300, "show_grid": True, "toolbar": "above",
              "legend_position": "top_left"}


def _xy(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return series.index.to_numpy(), series.to_numpy()


def _world(series: pd.Series, ydim: str) -> hv.Curve:
    return hv.Curve(_xy(series), "year", ydim, label="World").opts(
        color=WORLD_COLOR, line_dash="dashed", line_width=1.5)


def trend_line(series: pd.Series, per_decade: float) -> pd.Series:
    """The least-squares line of the trend window: slope from the pipeline, through the mean point."""
    window = series.loc[TREND_START:TREND_END].dropna()
    slope = per_decade / 10
    years = np.array([window.index.min(), window.index.max()], dtype=float)
    return pd.Series(window.mean() + slope * (years - window.index.to_numpy().mean()), index=years)


def _trend_text(atlas: Atlas, iso3: str) -> str:
    """The trend as a title says it; the years behind it are in the hover and the trend line."""
    row = atlas.warming.loc[iso3]
    if np.isnan(row["trend_per_decade"]):
        return f"insufficient data ({int(row['trend_n'])} years)"
    return f"{row['trend_per_decade']:+.2f} °C/decade"


def temperature_title(atlas: Atlas, selection: list[str]) -> str:
    """One country: its trend and source, or why there is none. Several: their names."""
    if len(selection) > 1:
        return "Temperature anomaly: " + ", ".join(atlas.country_name(c) for c in selection)
    iso3 = selection[0]
    name = atlas.country_name(iso3)
    if iso3 not in atlas.warming.index:
        return f"{name}: no temperature series in the IMF or FAOSTAT data"
    source = atlas.countries.at[iso3, "temperature_source"]
    return f"{name}: trend {_trend_text(atlas, iso3)} ({source})"


def _country_layers(atlas: Atlas, iso3: str, color: str) -> list[hv.Element]:
    series = atlas.series(iso3)
    name = atlas.country_name(iso3)
    layers = [
        hv.Curve(_xy(series), "year", "anomaly", label=name).opts(color=color, line_width=2),
        hv.Scatter(_xy(series), "year", "anomaly", label=name).opts(
            color=color, size=4, tools=["hover"]),
    ]
    if iso3 in atlas.warming.index and not np.isnan(atlas.warming.at[iso3, "trend_per_decade"]):
        line = trend_line(series, float(atlas.warming.at[iso3, "trend_per_decade"]))
        layers.append(hv.Curve(_xy(line), "year", "anomaly", label=f"{name} trend 1993-2022").opts(
            color=color, line_width=2, line_dash="dotdash"))
    return layers


def temperature_chart(atlas: Atlas, selection: list[str]) -> hv.Overlay:
    """Yearly anomalies against 1951-1980, each country's 1993-2022 trend, and the world."""
    layers = [_world(atlas.world_temperature, "anomaly")]
    for iso3, color in zip(selection, PALETTE, strict=False):
        layers += _country_layers(atlas, iso3, color)
    return hv.Overlay(layers).opts(
        title=temperature_title(atlas, selection), ylabel="Anomaly (°C vs 1951-1980)",
        xlabel="Year", **CHART_OPTS)


def indicator_title(atlas: Atlas, code: str, selection: list[str]) -> str:
    """Indicator and countries, naming those for which the World Bank published nothing."""
    short = atlas.indicator_meta.at[code, "short_name"]
    missing = [atlas.country_name(c) for c in selection if atlas.indicator_series(code, c).empty]
    names = ", ".join(atlas.country_name(c) for c in selection)
    if missing:
        return f"{short}: no World Bank data for {', '.join(missing)}"
    return f"{short}: {names}"


def indicator_chart(atlas: Atlas, code: str, selection: list[str]) -> hv.Overlay:
    """One World Bank indicator for the selected countries and the world, in its published unit."""
    world = atlas.world_indicators[atlas.world_indicators["code"] == code].set_index("year")["value"]
    layers = [_world(world, "value")]
    for iso3, color in zip(selection, PALETTE, strict=False):
        layers.append(hv.Curve(_xy(atlas.indicator_series(code, iso3)), "year", "value",
                               label=atlas.country_name(iso3)).opts(
            color=color, line_width=2, tools=["hover"]))
    return hv.Overlay(layers).opts(
        title=indicator_title(atlas, code, selection),
        ylabel=str(atlas.indicator_meta.at[code, "unit"]), xlabel="Year", **CHART_OPTS)


def indicator_source(atlas: Atlas, code: str) -> str:
    """The attribution line the World Bank asks for, with the original compiler."""
    meta = atlas.indicator_meta.loc[code]
    return (f"Source: World Bank, World Development Indicators ([{code}]({meta['source_url']}), "
            f"updated {meta['last_updated']}); original compiler: {meta['compiler']}; "
            f"licence {meta['licence']}.")
