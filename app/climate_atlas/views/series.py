"""Per-country charts: yearly temperature anomalies with trends, and one World Bank indicator.

Several countries overlay in one chart with a legend, with the world series as a dashed grey
reference, so comparing is a matter of selecting more countries. Like the map, each chart is a
plain Bokeh figure built once per session: a new selection or indicator replaces only the data of
the colour slots that changed, the legend's item list and the title, so a click costs a few small
model changes instead of a new figure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, GlyphRenderer, HoverTool, Legend, LegendItem
from bokeh.plotting import figure

from climate_atlas.anomalies import Scope, anomalies, default_scope, shortfall, world_anomalies
from climate_atlas.data import ANNUAL, YOUR_DATA, Atlas, Period

# Okabe-Ito: eight colours told apart with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
WORLD_COLOR = "#888888"
CHART_HEIGHT = 300
# The charts' names: how their PNG buttons (pictures.py) and tests find them among the page's plots.
TEMPERATURE_NAME, INDICATOR_NAME = "temperature-chart", "indicator-chart"
EMPTY: dict[str, list] = {"year": [], "value": [], "name": []}


def _columns(series: pd.Series, name: str) -> dict[str, object]:
    return {"year": series.index.to_numpy(), "value": series.to_numpy(),
            "name": [name] * len(series)}


def trend_line(series: pd.Series, per_decade: float, trend: Period) -> pd.Series:
    """The least-squares line over the trend window: slope from the pipeline, through the mean point."""
    window = series.loc[trend.first:trend.last].dropna()
    slope = per_decade / 10
    years = np.array([window.index.min(), window.index.max()], dtype=float)
    return pd.Series(window.mean() + slope * (years - window.index.to_numpy().mean()), index=years)


def _trend_text(atlas: Atlas, iso3: str, season: str) -> str:
    """The trend as a title says it; the years behind it are in the hover and the trend line."""
    row = atlas.warming_for(season).loc[iso3]
    if np.isnan(row["trend_per_decade"]):
        return f"insufficient data ({int(row['trend_n'])} years)"
    return f"{row['trend_per_decade']:+.2f} °C/decade"


def temperature_title(atlas: Atlas, selection: list[str], scope: Scope | None = None) -> str:
    """One country: its trend and source, or why there is none. Several: their names. A season
    or month is named after the countries."""
    scope = scope or default_scope(atlas)
    season = "" if scope.season == ANNUAL else f", {atlas.seasons[scope.season].label}"
    if len(selection) > 1:
        return (f"Temperature anomaly{season}: "
                + ", ".join(atlas.country_name(c) for c in selection))
    iso3 = selection[0]
    name = atlas.country_name(iso3) + season
    if iso3 not in atlas.warming_for(scope.season).index:
        return f"{name}: no temperature series in the IMF or FAOSTAT data"
    source = (atlas.countries.at[iso3, "temperature_source"] if scope.season == ANNUAL
              else atlas.seasons[scope.season].source)
    missing = shortfall(atlas, iso3, scope)
    trend = f"trend {_trend_text(atlas, iso3, scope.season)}"
    return f"{name}: {trend}, {missing} ({source})" if missing else f"{name}: {trend} ({source})"


def indicator_title(atlas: Atlas, code: str, selection: list[str]) -> str:
    """Indicator and countries, naming those for which the World Bank published nothing."""
    short = atlas.indicator_meta.at[code, "short_name"]
    missing = [atlas.country_name(c) for c in selection if atlas.indicator_series(code, c).empty]
    names = ", ".join(atlas.country_name(c) for c in selection)
    if missing:
        publisher = "your file" if code == YOUR_DATA else "World Bank data"
        return f"{short}: no {publisher} for {', '.join(missing)}"
    return f"{short}: {names}"


def indicator_source(atlas: Atlas, code: str) -> str:
    """The attribution line the World Bank asks for, with the original compiler; for the
    visitor's own series, that it is theirs."""
    if code == YOUR_DATA and atlas.user is not None:
        user = atlas.user
        return (f"Source: your data, from your file ({len(user.rows)} values, {user.countries} "
                "countries); not checked by us.")
    meta = atlas.indicator_meta.loc[code]
    return (f"Source: World Bank, World Development Indicators ([{code}]({meta['source_url']}), "
            f"updated {meta['last_updated']}); original compiler: {meta['compiler']}; "
            f"licence {meta['licence']}.")


@dataclass(frozen=True)
class Slot:
    """One palette colour: the renderers a selected country draws with, and its legend entries."""

    series: ColumnDataSource
    trend: ColumnDataSource
    series_item: LegendItem
    trend_item: LegendItem


@dataclass
class SeriesChart:
    """A chart and the models an update touches. Slots are added as a selection first needs them
    (most sessions use one or two of the eight colours); `shown` is what each slot holds now and
    `world_shown` what the world line holds, so an update sends only what changed."""

    figure: figure
    world: ColumnDataSource
    legend: Legend
    hover: HoverTool
    points: bool
    slots: list[Slot] = field(default_factory=list)
    shown: list[Any] = field(default_factory=list)
    world_shown: Any = None


def _series_chart(name: str, points: bool, tooltips: list[tuple[str, str]]) -> SeriesChart:
    """The chart with the world's dashed line; countries get their slots from `_slot`."""
    fig = figure(name=name, height=CHART_HEIGHT, sizing_mode="stretch_width", width=None,
                 toolbar_location="above",
                 tools="pan,wheel_zoom,box_zoom,reset,save", x_axis_label="Year")
    world = ColumnDataSource(dict(EMPTY))
    world_line = fig.line("year", "value", source=world, color=WORLD_COLOR, line_dash="dashed",
                          line_width=1.5)
    hover = HoverTool(renderers=[], tooltips=tooltips)
    fig.add_tools(hover)
    legend = Legend(items=[LegendItem(label=value("World"), renderers=[world_line])],
                    location="top_left", click_policy="mute")
    fig.add_layout(legend)
    return SeriesChart(fig, world, legend, hover, points)


def _slot(chart: SeriesChart, i: int) -> Slot:
    """The i-th palette colour's renderers, made the first time a selection reaches it."""
    if i < len(chart.slots):
        return chart.slots[i]
    document = chart.figure.document
    # One walk over the page's models for all the new ones, not one per renderer, tool and legend
    with document.models.freeze() if document is not None else contextlib.nullcontext():
        while len(chart.slots) <= i:
            chart.slots.append(_new_slot(chart, PALETTE[len(chart.slots)]))
            chart.shown.append(None)
    return chart.slots[i]


def reserve_slots(chart: SeriesChart, count: int) -> None:
    """Make the first `count` colour slots now, hidden until filled: the static site's pre-render,
    whose BokehJS callback fills them without Python (views/prerender.py), has no way to add
    renderers."""
    if count:
        _slot(chart, count - 1)
    for slot, key in zip(chart.slots, chart.shown, strict=True):
        if key is None:
            slot.series_item.visible = slot.trend_item.visible = False


def _new_slot(chart: SeriesChart, color: str) -> Slot:
    series, trend = ColumnDataSource(dict(EMPTY)), ColumnDataSource(dict(EMPTY))
    drawn: list[GlyphRenderer] = [chart.figure.line("year", "value", source=series, color=color,
                                                    line_width=2)]
    if chart.points:
        drawn.append(chart.figure.scatter("year", "value", source=series, color=color, size=4))
    trend_line_ = chart.figure.line("year", "value", source=trend, color=color, line_width=2,
                                    line_dash="dotdash")
    chart.hover.renderers = [*chart.hover.renderers, drawn[-1]]
    slot = Slot(series, trend, LegendItem(renderers=drawn), LegendItem(renderers=[trend_line_]))
    chart.legend.items = [*chart.legend.items, slot.series_item, slot.trend_item]
    return slot


def _fill(chart: SeriesChart, wanted: list[Any], fill_slot: Callable[[Slot, Any], None]) -> None:
    """Refill only the slots whose content changed, and show only the legend entries in use.

    Entries are hidden, never removed: a new list of legend items would make Bokeh walk every model
    of the page (about half of a click's time)."""
    if wanted:
        _slot(chart, len(wanted) - 1)
    wanted = wanted + [None] * (len(chart.slots) - len(wanted))
    for i, (slot, key) in enumerate(zip(chart.slots, wanted, strict=True)):
        if chart.shown[i] != key:
            if key is None:
                slot.series.data, slot.trend.data = dict(EMPTY), dict(EMPTY)
            else:
                fill_slot(slot, key)
            chart.shown[i] = key
        slot.series_item.visible = key is not None
        slot.trend_item.visible = key is not None and len(slot.trend.data["year"]) > 0


def temperature_chart(atlas: Atlas, selection: list[str], scope: Scope | None = None) -> SeriesChart:
    """Yearly anomalies of a season (or the year) against a base period, each country's trend over
    the trend window, and the world (annual only)."""
    chart = _series_chart(TEMPERATURE_NAME, points=True, tooltips=[
        ("Country", "@name"), ("Year", "@year"), ("Anomaly", "@value{+0.00} °C")])
    show_temperature(chart, atlas, selection, scope or default_scope(atlas))
    return chart


def show_temperature(chart: SeriesChart, atlas: Atlas, selection: list[str], scope: Scope) -> None:
    """Point the temperature chart at another selection, season or base."""
    def fill(slot: Slot, key: tuple[str, Scope]) -> None:
        iso3 = key[0]
        series, name = anomalies(atlas, iso3, scope), atlas.country_name(iso3)
        slot.series.data = _columns(series, name)
        slot.series_item.label = value(name)
        warming = atlas.warming_for(scope.season)
        per_decade = (warming.at[iso3, "trend_per_decade"] if iso3 in warming.index else np.nan)
        if np.isnan(per_decade) or series.empty:
            slot.trend.data = dict(EMPTY)
        else:
            trend = atlas.periods.trend
            slot.trend.data = _columns(trend_line(series, float(per_decade), trend), name)
            slot.trend_item.label = value(f"{name} trend {trend}")

    if chart.world_shown != scope:
        chart.world.data = _columns(world_anomalies(atlas, scope), "World")
        chart.legend.items[0].visible = scope.season == ANNUAL
        chart.figure.yaxis.axis_label = f"Anomaly (°C vs {scope.base})"
        chart.world_shown = scope
    _fill(chart, [(iso3, scope) for iso3 in selection], fill)
    chart.figure.title.text = temperature_title(atlas, selection, scope)


def indicator_chart(atlas: Atlas, code: str, selection: list[str]) -> SeriesChart:
    """One World Bank indicator for the selected countries and the world, in its published unit."""
    chart = _series_chart(INDICATOR_NAME, points=False, tooltips=[
        ("Country", "@name"), ("Year", "@year"), ("Value", "@value{0,0.[00]}")])
    show_indicator(chart, atlas, code, selection)
    return chart


def show_indicator(chart: SeriesChart, atlas: Atlas, code: str, selection: list[str]) -> None:
    """Point the indicator chart at another indicator or selection."""
    def fill(slot: Slot, key: tuple[str, str, object]) -> None:
        name = atlas.country_name(key[1])
        slot.series.data = _columns(atlas.indicator_series(key[0], key[1]), name)
        slot.series_item.label = value(name)

    # A visitor's series keeps its code from one file to the next: the file (its UserData) is part
    # of what a slot and the axis show.
    shown = (code, atlas.user if code == YOUR_DATA else None)
    if chart.world_shown != shown:
        world = atlas.world_indicators[atlas.world_indicators["code"] == code]
        chart.world.data = _columns(world.set_index("year")["value"], "World")
        chart.legend.items[0].visible = not world.empty  # a visitor's own series has no world line
        chart.world_shown = shown
        chart.figure.yaxis.axis_label = str(atlas.indicator_meta.at[code, "unit"])
    _fill(chart, [(code, iso3, shown[1]) for iso3 in selection], fill)
    chart.figure.title.text = indicator_title(atlas, code, selection)
