"""Server-only map features: map projections, an optional tile basemap and 50m detail geometry.

The only module of the app that imports cartopy and GeoViews. `layout.py` imports it only when
`climate_atlas.target.target() == "server"` (`panel serve`, the container); the static site never
does (cartopy and GeoViews do not run in Pyodide), so there these controls are absent rather than
broken.

Geometry: the pipeline's lon/lat rings in data/server/ (world-atlas 110m, and 50m for "detail"),
already cut at the antimeridian and without Antarctica (pipeline/worldatlas.py), never the
browser's pre-projected Equal Earth rings, which cartopy cannot reproject. The folder is not
package data: the image copies it next to the app and names it in CLIMATE_ATLAS_SERVER_DATA; a
source checkout (the editable install) finds it at <repo>/data/server.

Projection: each (detail, projection) is projected once per process with GeoViews' `project`
operation (cartopy's `project_geometry` underneath, which cuts rings at the map's edge: the far
side of the globe, Mercator's latitude limit; GeoViews adds the repair of shapes that come out
invalid). Drawing then uses the browser map's Bokeh code on the projected coordinates
(views/world_map.py), so a new metric or year still swaps colours only. Not GeoViews elements in
the plot: GeoViews 1.15 re-projects every path on every render, even when the element is already in
the plot's projection, which measured 8 s per redraw at 110m and 24-50 s at 50m here.

Tiles: a tile basemap needs Web Mercator, so turning tiles on switches the map to it and disables
the projection choice; the chosen projection comes back when tiles go off. Tiles are off by
default; the browser fetches them from CLIMATE_ATLAS_TILE_URL (an {X}/{Y}/{Z} template, for an
air-gapped deployment's own tile server or a test fixture) when set, else from the basemap chosen
among BASEMAPS, each shown with its provider's attribution. When they cannot load, the polygons are
drawn all the same. No cartopy feature layers (coastlines, borders): they download Natural Earth at
run time. The map's outline and graticule are drawn from the CRS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cartopy.crs as ccrs
import geoviews as gv
import numpy as np
import panel as pn
import param
import shapely
import xyzservices.providers as xyz
from bokeh.models import WMTSTileSource
from geoviews.operation import project
from shapely.geometry import LineString, MultiPolygon, Polygon
from xyzservices import TileProvider

from climate_atlas.data import Atlas
from climate_atlas.state import AtlasState
from climate_atlas.views.world_map import Geometry, LiveMap, WorldMap, world_map

SERVER_DATA_ENV = "CLIMATE_ATLAS_SERVER_DATA"
TILE_URL_ENV = "CLIMATE_ATLAS_TILE_URL"
DETAIL_FILES = {"110m": "countries-110m-lonlat.json", "50m": "countries-50m-lonlat.json"}

ORTHOGRAPHIC = "Orthographic (globe)"
MERCATOR = "Web Mercator (tiles)"
TILES_LABEL = "Tile basemap (switches the map to Web Mercator)"
PROJECTIONS = ("Equal Earth", "Robinson", "Mollweide", ORTHOGRAPHIC, "Plate Carrée")
# Basemaps from xyzservices' catalogue, the providers GeoViews' WMTS element takes with their
# attribution: world-wide Web Mercator tiles that need no API key (CARTO's now do).
DEFAULT_BASEMAP = "OpenStreetMap"
BASEMAPS: dict[str, TileProvider] = {
    "OpenStreetMap": xyz.OpenStreetMap.Mapnik,
    "OpenTopoMap": xyz.OpenTopoMap,
    "Esri World Imagery": xyz.Esri.WorldImagery,
    "Esri World Topographic": xyz.Esri.WorldTopoMap,
    "Esri Light Gray": xyz.Esri.WorldGrayCanvas,
}
GRATICULE_STEP = 30  # degrees
MIN_ASPECT = 1.6  # width / height of the map at least, so the globe view stays on screen
CENTER_STEP = 5  # the globe's centre is rounded to this many degrees, so nearby picks share a cache


# --- data ------------------------------------------------------------------------------------

def server_data_dir() -> Path:
    """data/server/: CLIMATE_ATLAS_SERVER_DATA when set (the image sets it), else the checkout's."""
    configured = os.environ.get(SERVER_DATA_ENV)
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "data/server"
    if not (folder / DETAIL_FILES["110m"]).is_file():
        raise FileNotFoundError(
            f"server-only geometry {DETAIL_FILES['110m']} is not in {folder}: set {SERVER_DATA_ENV}"
            " to the folder the pipeline writes (data/server/ in the repository; `make data`)")
    return folder


@lru_cache(maxsize=2)
def lonlat_countries(detail: str) -> tuple[tuple[str, MultiPolygon], ...]:
    """(iso3, lon/lat shape) per country of the 110m or 50m file."""
    path = server_data_dir() / DETAIL_FILES[detail]
    content = json.loads(path.read_text(encoding="utf-8"))
    if content.get("units") != "degrees":
        raise ValueError(f"{path}: expected lon/lat degrees, found units {content.get('units')!r}")
    return tuple(
        (country["iso3"], MultiPolygon([Polygon(_points(rings[0]), [_points(r) for r in rings[1:]])
                                        for rings in country["polygons"]]))
        for country in content["countries"])


def _points(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


# --- projections -----------------------------------------------------------------------------

class _LonLat(ccrs.PlateCarree):
    """PlateCarree for GeoViews 1.15.1's `project`, which reads `proj4_params["lon_0"]`: cartopy
    0.26 writes PlateCarree as proj=latlong with `pm` and no `lon_0`, so the lookup raises
    KeyError (holoviz/geoviews#884, fixed after 1.15.1; 1.16 needs Python 3.12, the image has
    3.11). Only the missing key is added: lon_0 = 0 is where these rings are centred.
    tests/unit/test_server_extras.py fails when GeoViews no longer needs this."""

    @property
    def proj4_params(self) -> dict[str, Any]:
        return {"lon_0": 0.0, **super().proj4_params}


LONLAT = _LonLat()


def make_crs(projection: str, center: tuple[float, float] = (0.0, 0.0)) -> ccrs.Projection:
    """The cartopy CRS for a projection name; the globe looks down on `center` (lon, lat)."""
    if projection == ORTHOGRAPHIC:
        return ccrs.Orthographic(central_longitude=center[0], central_latitude=center[1])
    return {
        "Equal Earth": ccrs.EqualEarth,
        "Robinson": ccrs.Robinson,
        "Mollweide": ccrs.Mollweide,
        "Plate Carrée": ccrs.PlateCarree,
        MERCATOR: lambda: ccrs.GOOGLE_MERCATOR,
    }[projection]()


@dataclass(frozen=True)
class ProjectedMap:
    """Every country in one projection, in the browser geometry's format, plus the map's frame."""

    geometry: Geometry  # {"countries": [{"iso3", "polygons": [[flat ring, ...]]}]}
    shapes: dict[str, shapely.Geometry]  # iso3 -> projected shape
    frame: tuple[np.ndarray, ...]  # the outline and graticule, as (n, 2) paths
    aspect: float  # width / height of everything drawn


@lru_cache(maxsize=2)
def _countries(detail: str) -> gv.Polygons:
    """The detail level's countries as one GeoViews element in lon/lat, to project."""
    return gv.Polygons([{"geometry": shape, "iso3": iso3} for iso3, shape in lonlat_countries(detail)],
                       vdims=["iso3"], crs=LONLAT)


@lru_cache(maxsize=16)
def projected(detail: str, projection: str, center: tuple[float, float] = (0.0, 0.0)) -> ProjectedMap:
    """Project one detail level into one projection, once per process (50m takes seconds)."""
    crs = make_crs(projection, center)
    countries, shapes = [], {}
    # A country wholly on the far side of the globe comes out of `project` left off.
    for row in project(_countries(detail), projection=crs).data:
        out = row["geometry"]
        polygons = [p for p in getattr(out, "geoms", [out]) if not p.is_empty and p.area]
        if not polygons:
            continue
        shapes[row["iso3"]] = MultiPolygon(polygons)
        countries.append({"iso3": row["iso3"], "polygons": [
            [np.asarray(ring.coords)[:-1, :2].ravel() for ring in (p.exterior, *p.interiors)]
            for p in polygons]})
    frame = _frame(crs, graticule=projection != MERCATOR)
    points = np.concatenate([np.asarray(s.bounds).reshape(2, 2) for s in shapes.values()]
                            + list(frame))
    width, height = np.nanmax(points, axis=0) - np.nanmin(points, axis=0)
    return ProjectedMap({"countries": countries}, shapes, frame, float(width / height))


def _frame(crs: ccrs.Projection, graticule: bool) -> tuple[np.ndarray, ...]:
    """The projection's outline (its boundary) and lines every GRATICULE_STEP degrees."""
    paths = [] if isinstance(crs, ccrs.Mercator) else [np.asarray(crs.boundary.coords)[:, :2]]
    if graticule:
        fine = np.linspace(-180, 180, 181)
        lines = [LineString(np.column_stack([np.full_like(fine, lon), fine / 2]))
                 for lon in range(-180, 181, GRATICULE_STEP)]
        lines += [LineString(np.column_stack([fine, np.full_like(fine, lat)]))
                  for lat in range(-60, 61, GRATICULE_STEP)]
        grid = project(gv.Path([{"geometry": line} for line in lines], crs=LONLAT), projection=crs)
        for row in grid.data:
            out = row["geometry"]
            paths += [np.asarray(g.coords)[:, :2] for g in getattr(out, "geoms", [out])
                      if not g.is_empty]
    return tuple(paths)


def globe_center(iso3: str) -> tuple[float, float]:
    """Where the globe looks: the country's largest part, rounded to CENTER_STEP degrees."""
    shape = dict(lonlat_countries("110m")).get(iso3)
    if shape is None:
        return (0.0, 0.0)
    point = max(shape.geoms, key=lambda p: p.area).representative_point()
    return (float(round(point.x / CENTER_STEP) * CENTER_STEP),
            float(round(point.y / CENTER_STEP) * CENTER_STEP))


# --- the map ---------------------------------------------------------------------------------

def tile_source(basemap: str = DEFAULT_BASEMAP) -> WMTSTileSource:
    """The tiles under the map: CLIMATE_ATLAS_TILE_URL ({X}/{Y}/{Z} template) when set, else the
    BASEMAPS provider named `basemap`, with its attribution."""
    url = os.environ.get(TILE_URL_ENV)
    if url:
        return WMTSTileSource(url=url, attribution="Basemap tiles: " + url.split("/{")[0])
    provider = BASEMAPS[basemap]
    return WMTSTileSource(url=provider.build_url(x="{X}", y="{Y}", z="{Z}"),
                          attribution=provider.html_attribution,
                          max_zoom=provider.get("max_zoom", 19))


def map_tag(key: tuple[str, str, tuple[float, float]]) -> str:
    """The served map's tag for (detail, projection, centre), see `server_world_map`."""
    detail, name, center = key
    return f"server-map|{name}|{detail}|{center[0]:g},{center[1]:g}"


def server_world_map(atlas: Atlas, state: AtlasState, key: tuple[str, str, tuple[float, float]],
                     tiles: str | None) -> WorldMap:
    """The browser's choropleth (same colours, hover, outlines) in projection `key`, with the
    map's frame, and the basemap `tiles` under it unless None. The figure keeps the browser map's
    name (world_map.MAP_NAME); its one tag says what it shows, for tests to wait on:
    "server-map|<projection>|<detail>|<centre lon>,<centre lat>", for example
    "server-map|Mollweide|110m|0,0" or "server-map|Orthographic (globe)|50m|80,20"."""
    geo = projected(*key)
    world = world_map(atlas, geo.geometry, state)
    fig = world.figure
    fig.tags = [map_tag(key)]
    # The globe is round: give it empty sides rather than a page-high map (match_aspect keeps
    # its shape).
    fig.aspect_ratio = max(geo.aspect, MIN_ASPECT)
    lines = fig.multi_line([p[:, 0] for p in geo.frame], [p[:, 1] for p in geo.frame],
                           line_color="#9a9a9a", line_width=0.6)
    fig.renderers = [lines, *fig.renderers[:-1]]  # under the countries
    if tiles is not None:
        fig.add_tile(tile_source(tiles))
        for renderer in fig.renderers:
            if getattr(renderer, "data_source", None) is world.countries:
                renderer.glyph.fill_alpha = 0.75
    return world


class MapOptions(param.Parameterized):
    """The served map's own choices (not part of the shared state or the link)."""

    projection = param.Selector(default=PROJECTIONS[0], objects=list(PROJECTIONS))
    tiles = param.Boolean(default=False, doc="tile basemap; switches the map to Web Mercator")
    basemap = param.Selector(default=DEFAULT_BASEMAP, objects=list(BASEMAPS),
                             doc="whose tiles, when CLIMATE_ATLAS_TILE_URL does not name them")
    detail = param.Selector(default="110m", objects=list(DETAIL_FILES))

    def key(self, country: str) -> tuple[str, str, tuple[float, float]]:
        """(detail, projection, centre) of the map to draw; tiles mean Web Mercator, and the
        globe looks down on `country`."""
        name = MERCATOR if self.tiles else self.projection
        return self.detail, name, globe_center(country) if name == ORTHOGRAPHIC else (0.0, 0.0)


def _tiles_checkbox(options: MapOptions) -> pn.widgets.CheckBoxGroup:
    """The tiles on/off box, kept in step with `options.tiles` both ways.

    A one-box CheckBoxGroup, not pn.widgets.Checkbox: Bokeh 3.9's Checkbox draws its text in a div
    beside the input, so the box has no accessible name (axe: label); the group wraps each box and
    its text in a <label>."""
    box = pn.widgets.CheckBoxGroup(options=[TILES_LABEL], value=[TILES_LABEL] if options.tiles else [])
    box.param.watch(lambda event: setattr(options, "tiles", bool(event.new)), "value")
    options.param.watch(lambda event: setattr(box, "value", [TILES_LABEL] if event.new else []),
                        "tiles")
    return box


def server_map(state: AtlasState) -> pn.Column:
    """Projection, tiles and detail controls over the projected map (replaces the plain map).

    The figure is rebuilt when the projection, tiles, basemap or detail change, or when the globe
    turns to a newly selected country; a new metric, year or selection otherwise updates the
    current figure in place, as in the browser map (LiveMap). The basemap choice is offered only
    when CLIMATE_ATLAS_TILE_URL does not fix the tiles.
    """
    options = MapOptions()
    shown: dict[str, tuple[str, str, tuple[float, float]]] = {}

    def figure() -> WorldMap:
        shown["key"] = options.key(state.country)
        return server_world_map(state.atlas, state, shown["key"],
                                options.basemap if options.tiles else None)

    def pane(world: WorldMap) -> pn.pane.Bokeh:
        # A new pane per figure: a pane whose object is swapped keeps the first one's height.
        return pn.pane.Bokeh(world.figure, sizing_mode="stretch_width",
                             styles={"overflow": "hidden"})

    def redraw(*_: object) -> None:
        world = figure()
        live.show(world)
        view[-1] = pane(world)

    def turn_globe(*_: object) -> None:
        if options.key(state.country) != shown["key"]:
            redraw()  # the globe turns to the new country (LiveMap outlines the new figure too)

    first = figure()
    live = LiveMap(state, first)
    state.param.watch(turn_globe, "selection")
    options.param.watch(redraw, ["projection", "tiles", "basemap", "detail"])

    projection = pn.widgets.Select.from_param(
        options.param.projection, name="Map projection", disabled=options.param.tiles,
        description="The globe view turns to the selected country.")
    tiles = _tiles_checkbox(options)
    detail = pn.widgets.RadioButtonGroup.from_param(
        options.param.detail, name="Map detail",
        options={"Outline 110m": "110m", "Detail 50m": "50m"})
    basemap = ([] if os.environ.get(TILE_URL_ENV) else
               [pn.widgets.Select.from_param(options.param.basemap, name="Basemap tiles",
                                             disabled=pn.bind(lambda on: not on, options.param.tiles))])
    view = pn.Column(projection, tiles, detail, *basemap, pane(first), sizing_mode="stretch_width")
    return view
