"""The choropleth: pre-projected Natural Earth polygons coloured by a warming metric.

A plain Bokeh figure on the pipeline's Equal Earth coordinates, so the browser never needs
GeoViews, shapely or pyproj. The figure is built once per session; a new metric or year only
replaces the `value` and `label` columns, so the geometry crosses the wire once, and playing
through the years stays cheap. A click arrives as a point in map coordinates; `country_at` finds
the polygon under it, so every click counts, even on a country that is already selected.

The geometry is an argument, not read from the atlas: the browser draws the pipeline's Equal Earth
rings (`atlas.geometry`), the served map the same countries in another projection
(server_extras). Either way the figure keeps the geometry it draws, so a recolour, an outline or
a click reads the same rings. `LiveMap` is the one place where a map follows the state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from bokeh.events import DoubleTap, Tap
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
from bokeh.palettes import RdBu11, Viridis256
from bokeh.plotting import figure

from climate_atlas.anomalies import Scope
from climate_atlas.data import Atlas
from climate_atlas.views.metrics import METRICS, NO_DATA, metric_table, metric_title, metric_unit

if TYPE_CHECKING:
    from climate_atlas.state import AtlasState

NO_DATA_COLOR = "#d4d4d4"
# ColorBrewer RdBu, which Bokeh orders blue (cool, low) to red (warm, high): diverging, and
# readable with the common colour-vision deficiencies.
PALETTE = list(RdBu11)
# A visitor's own series has no natural zero: a sequential scale from its lowest to its highest
# value (Viridis: ordered in lightness, readable with the common colour-vision deficiencies).
SEQUENTIAL = list(Viridis256)
MAP_NAME = "world-map"  # how tests and benchmarks find the map among the page's plots
# {"countries": [{"iso3", "polygons": [[flat ring, ...], ...]}, ...]} in the map's coordinates:
# atlas.geometry (pipeline/geometry.py) or a projection of the server's lon/lat shapes.
Geometry = dict[str, Any]


def _ring(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def _parts(geometry: Geometry) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(iso3, [outer ring, holes...]) for every polygon part."""
    for country in geometry["countries"]:
        for rings in country["polygons"]:
            yield country["iso3"], [_ring(r) for r in rings]


def map_countries(geometry: Geometry) -> list[str]:
    """ISO3 code of each row of the map's data source, in drawing order."""
    return [country["iso3"] for country in geometry["countries"]]


def _shapes(geometry: Geometry, codes: list[str]) -> dict[str, list]:
    """MultiPolygons columns: per country, its parts; per part, its outer ring then holes."""
    xs, ys = [], []
    for country in geometry["countries"]:
        if country["iso3"] in codes:
            rings = [[_ring(r) for r in polygon] for polygon in country["polygons"]]
            xs.append([[ring[:, 0] for ring in polygon] for polygon in rings])
            ys.append([[ring[:, 1] for ring in polygon] for polygon in rings])
    return {"xs": xs, "ys": ys}


def color_limit(atlas: Atlas, metric: str, values: np.ndarray, scope: Scope) -> float:
    """Symmetric around 0, over the metric's `scale` where it has one (one scale for every year,
    so an animation compares like with like), else over the values shown."""
    scale = METRICS[metric].scale
    pool = scale(atlas, scope) if scale is not None else values
    pool = np.abs(pool[~np.isnan(pool)])
    return float(np.quantile(pool, 0.995)) if len(pool) else 1.0


@dataclass(frozen=True)
class Colouring:
    """Everything about the map that changes with the metric, the year, the season and the base."""

    value: np.ndarray  # float, NaN where there is no data (BokehJS's colour mapper reads None as 0)
    label: list[str]
    low: float
    high: float
    palette: list[str]
    unit: str
    title: str


def colouring(atlas: Atlas, codes: list[str], metric: str, year: int, scope: Scope) -> Colouring:
    """Per map row (`codes`), the value and hover text of `metric`; grey "no data" where there is
    none."""
    table = metric_table(atlas, metric, year, scope)
    values = table["value"].reindex(codes).astype(float)
    labels = table["label"].reindex(codes).fillna(NO_DATA)
    shown = table["value"].to_numpy(float)
    if METRICS[metric].own:
        low, high = _value_range(shown)
        palette = SEQUENTIAL
    else:
        high = color_limit(atlas, metric, shown, scope)
        low, palette = -high, PALETTE
    return Colouring(
        value=values.to_numpy(float), label=list(labels), low=low, high=high, palette=palette,
        unit=metric_unit(atlas, metric, scope), title=metric_title(atlas, metric, year, scope))


def _value_range(values: np.ndarray) -> tuple[float, float]:
    """The values' 0.5% to 99.5% quantiles (one outlier does not wash out the rest); a single
    value gets a range around it."""
    values = values[~np.isnan(values)]
    if not len(values):
        return 0.0, 1.0
    low, high = (float(q) for q in np.quantile(values, [0.005, 0.995]))
    return (low, high) if high > low else (low - 1, high + 1)


@dataclass(frozen=True)
class WorldMap:
    """The figure, the models a state change updates, and the geometry the figure draws."""

    figure: figure
    countries: ColumnDataSource
    outlines: ColumnDataSource
    mapper: LinearColorMapper
    colour_bar: ColorBar
    geometry: Geometry


def world_map(atlas: Atlas, geometry: Geometry, state: AtlasState) -> WorldMap:
    """The choropleth of `geometry`'s countries as `state` asks, with the selected ones outlined."""
    codes, selection = map_countries(geometry), state.selection
    colours = colouring(atlas, codes, state.metric, state.year, state.scope)
    countries = ColumnDataSource({**_shapes(geometry, codes), "iso3": codes,
                                  "name": [atlas.country_name(c) for c in codes],
                                  "value": colours.value, "label": colours.label})
    outlines = ColumnDataSource({**_shapes(geometry, selection),
                                 "iso3": _outlined(geometry, selection)})
    mapper = LinearColorMapper(palette=colours.palette, low=colours.low, high=colours.high,
                               nan_color=NO_DATA_COLOR)
    fig = figure(title=colours.title, name=MAP_NAME, match_aspect=True, sizing_mode="scale_width",
                 aspect_ratio=2.05, min_width=280, tools="pan,wheel_zoom,reset,save",
                 toolbar_location="above", x_axis_location=None, y_axis_location=None)
    fig.grid.visible = False
    fig.outline_line_color = None
    patches = fig.multi_polygons("xs", "ys", source=countries, line_color="white", line_width=0.4,
                                 fill_color={"field": "value", "transform": mapper})
    fig.multi_polygons("xs", "ys", source=outlines, fill_alpha=0, line_color="black",
                       line_width=2.2)
    fig.add_tools(HoverTool(renderers=[patches],
                            tooltips=[("Country", "@name"), ("Value", "@label")]))
    bar = ColorBar(color_mapper=mapper, title=colours.unit, width=12)
    fig.add_layout(bar, "right")
    return WorldMap(fig, countries, outlines, mapper, bar, geometry)


def _outlined(geometry: Geometry, selection: list[str]) -> list[str]:
    return [code for code in map_countries(geometry) if code in selection]


def recolour(world: WorldMap, atlas: Atlas, state: AtlasState) -> None:
    """Show another metric, year, season or base: only the value and label columns and the scale
    change."""
    colours = colouring(atlas, map_countries(world.geometry), state.metric, state.year, state.scope)
    world.countries.data.update(value=colours.value, label=colours.label)
    world.mapper.update(low=colours.low, high=colours.high, palette=colours.palette)
    world.colour_bar.title = colours.unit
    world.figure.title.text = colours.title


def outline(world: WorldMap, selection: list[str]) -> None:
    """Outline exactly the selected countries."""
    world.outlines.data = {**_shapes(world.geometry, selection),
                           "iso3": _outlined(world.geometry, selection)}


class LiveMap:
    """The map on show, kept in step with the state: a new metric, year, season or base recolours
    it in place, a
    new selection outlines it, a click inside a country picks that country.

    The browser's map shows one figure for the whole session; the served map swaps in a new
    figure when its projection changes (`show`), and the watchers, registered once, follow it.
    BokehJS reports a second click within its double-tap window as DoubleTap, not Tap; on a map
    of countries both mean "this one".
    """

    def __init__(self, state: AtlasState, world: WorldMap) -> None:
        self.state = state
        self.show(world)
        # the state's atlas: a visitor's own series (a map metric) arrives as a new one
        state.param.watch(lambda *_: recolour(self.world, state.atlas, state),
                          ["metric", "year", "season", "base", "atlas"])
        state.param.watch(lambda *_: outline(self.world, state.selection), "selection")

    def show(self, world: WorldMap) -> None:
        """Follow `world` from now on (it was drawn from the current state)."""
        self.world = world
        world.figure.on_event(Tap, self._clicked)
        world.figure.on_event(DoubleTap, self._clicked)

    def _clicked(self, event: Tap | DoubleTap) -> None:
        iso3 = country_at(self.world.geometry, event.x, event.y)
        if iso3 is not None:
            self.state.pick(iso3)


def _inside(ring: np.ndarray, x: float, y: float) -> bool:
    """Even-odd ray casting: is (x, y) inside this closed ring?"""
    xs, ys = ring[:, 0], ring[:, 1]
    xj, yj = np.roll(xs, 1), np.roll(ys, 1)
    straddles = (ys > y) != (yj > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing_x = (xj - xs) * (y - ys) / (yj - ys) + xs
    return bool(np.count_nonzero(straddles & (x < crossing_x)) % 2)


def country_at(geometry: Geometry, x: float, y: float) -> str | None:
    """The country whose polygon contains the map point (x, y), if any."""
    for iso3, rings in _parts(geometry):
        outer = rings[0]
        if not (outer[:, 0].min() <= x <= outer[:, 0].max()
                and outer[:, 1].min() <= y <= outer[:, 1].max()):
            continue
        if _inside(outer, x, y) and not any(_inside(hole, x, y) for hole in rings[1:]):
            return iso3
    return None
