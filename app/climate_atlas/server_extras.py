"""Server-only map features: map projections, an optional tile basemap and 50m detail geometry.

The only module of the app that imports GeoViews and cartopy. `layout.py` imports it only when
`climate_atlas.target.target() == "server"` (`panel serve`, the container); the static site never
does (GeoViews does not run in Pyodide, and its models' JavaScript is not in the offline page), so
there these controls are absent rather than broken.

Geometry: the pipeline's lon/lat rings in data/server/ (world-atlas 110m, and 50m for "detail"),
never the browser's pre-projected Equal Earth rings, which cartopy cannot reproject. The folder is
not package data: the image copies it next to the app and names it in CLIMATE_ATLAS_SERVER_DATA; a
source checkout (the editable install) finds it at <repo>/data/server. Antarctica is left off, as on
the browser's map. Each (detail, projection) is projected once per process with cartopy's
`project_geometry`, which cuts rings at the map's edge (the far side of the globe, Mercator's
latitude limit); plots then get coordinates already in the plot's projection, so GeoViews has
nothing left to reproject on a redraw.

Tiles: a tile basemap needs Web Mercator, so turning tiles on switches the map to it and disables
the projection choice; the chosen projection comes back when tiles go off. Tiles are off by
default and fetched by the browser from CLIMATE_ATLAS_TILE_URL (an {X}/{Y}/{Z} template, for an
air-gapped deployment's own tile server or a test fixture), else from OpenStreetMap. When they
cannot load, the polygons are drawn all the same. No cartopy feature layers (coastlines, borders):
they download Natural Earth at run time. The map's outline and graticule are drawn from the CRS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cartopy.crs as ccrs
import geoviews as gv
import geoviews.plotting.bokeh  # noqa: F401  (registers GeoViews' Bokeh plots; no notebook output)
import holoviews as hv
import numpy as np
import panel as pn
import param
import shapely
import shapely.affinity
import xyzservices.providers as xyz
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from climate_atlas.data import Atlas
from climate_atlas.state import AtlasState
from climate_atlas.views.metrics import NO_DATA, UNITS, metric_table, metric_title
from climate_atlas.views.world_map import NO_DATA_COLOR, PALETTE, _color_limit

SERVER_DATA_ENV = "CLIMATE_ATLAS_SERVER_DATA"
TILE_URL_ENV = "CLIMATE_ATLAS_TILE_URL"
DETAIL_FILES = {"110m": "countries-110m-lonlat.json", "50m": "countries-50m-lonlat.json"}
LEFT_OFF = {"ATA"}  # Antarctica: off the map, as in the browser (and Mercator cannot show it)
MAP_MARKER = "Click a country"  # in the title, as on the browser map: tests find the plot by it

ORTHOGRAPHIC = "Orthographic (globe)"
MERCATOR = "Web Mercator (tiles)"
PROJECTIONS = ("Equal Earth", "Robinson", "Mollweide", ORTHOGRAPHIC, "Plate Carrée")
GRATICULE_STEP = 30  # degrees
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
    """(iso3, lon/lat shape) per country of the 110m or 50m file, Antarctica left off."""
    path = server_data_dir() / DETAIL_FILES[detail]
    content = json.loads(path.read_text(encoding="utf-8"))
    if content.get("units") != "degrees":
        raise ValueError(f"{path}: expected lon/lat degrees, found units {content.get('units')!r}")
    countries = []
    for country in content["countries"]:
        if country["iso3"] in LEFT_OFF:
            continue
        parts = [piece for rings in country["polygons"] for piece in _polygons(rings)]
        countries.append((country["iso3"], MultiPolygon(parts)))
    return tuple(countries)


def _ring(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def _polygons(rings: list[list[float]]) -> list[Polygon]:
    """One world-atlas polygon as shapely polygons that never cross the antimeridian.

    world-atlas is made for spherical rendering: a ring of Russia or Fiji steps from 179.9 to
    -180, which cartopy, working in the plane, would draw as a band around the whole world. Such
    rings are unwrapped to continuous longitudes, then cut at +-180 and shifted back.
    """
    arrays = [_ring(r) for r in rings]
    if len(np.unique(arrays[0], axis=0)) < 3:
        return []  # a degenerate ring (110m has one in North Korea): nothing to draw or click
    if not any(np.abs(np.diff(a[:, 0], append=a[0, 0])).max() > 180 for a in arrays):
        return [Polygon(arrays[0], arrays[1:])]
    unwrapped = []
    for ring in arrays:
        lon = np.degrees(np.unwrap(np.radians(np.append(ring[:, 0], ring[0, 0]))))
        if abs(lon[-1] - lon[0]) > 1e-6:
            raise ValueError("a ring circles a pole; only Antarctica does, and it is left off")
        unwrapped.append(np.column_stack([lon[:-1], ring[:, 1]]))
    whole = shapely.make_valid(Polygon(unwrapped[0], unwrapped[1:]))
    pieces = []
    for turn in (-360.0, 0.0, 360.0):
        window = shapely.box(-180.0 + turn, -90.0, 180.0 + turn, 90.0)
        part = shapely.affinity.translate(whole.intersection(window), xoff=-turn)
        pieces += [g for g in getattr(part, "geoms", [part]) if isinstance(g, Polygon) and g.area]
    return pieces


# --- projections -----------------------------------------------------------------------------

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
    """Every country's shape in one projection: drawing rows, a lookup for clicks, the frame."""

    crs: ccrs.Projection
    iso3: tuple[str, ...]  # per shape
    shapes: tuple[shapely.Geometry, ...]
    parts: tuple[dict, ...]  # one drawing row per polygon part: x, y, holes, iso3
    tree: shapely.STRtree
    frame: tuple[np.ndarray, ...]  # the map's outline and graticule, as paths
    bounds: tuple[float, float, float, float]

    def country_at(self, x: float, y: float) -> str | None:
        hits = self.tree.query(Point(x, y), predicate="intersects")
        return self.iso3[int(hits[0])] if len(hits) else None

    def point_in(self, iso3: str) -> tuple[float, float] | None:
        """A point inside the country's largest visible part (for tests that click it)."""
        shapes = [s for code, s in zip(self.iso3, self.shapes, strict=True) if code == iso3]
        parts = [p for s in shapes for p in getattr(s, "geoms", [s]) if not p.is_empty]
        if not parts:
            return None
        point = max(parts, key=lambda p: p.area).representative_point()
        return point.x, point.y


@lru_cache(maxsize=16)
def projected(detail: str, projection: str, center: tuple[float, float] = (0.0, 0.0)) -> ProjectedMap:
    """Project one detail level into one projection, once per process (50m takes seconds)."""
    crs = make_crs(projection, center)
    source = ccrs.PlateCarree()
    codes, shapes, parts = [], [], []
    for iso3, shape in lonlat_countries(detail):
        out = crs.project_geometry(shape, source)
        if out.is_empty:
            continue  # on the far side of the globe
        codes.append(iso3)
        shapes.append(out)
        for polygon in getattr(out, "geoms", [out]):
            if polygon.is_empty or not polygon.area:
                continue  # GeoViews would drop it and misalign the colours of every later row
            exterior = np.asarray(polygon.exterior.coords)[:, :2]
            holes = [np.asarray(ring.coords)[:, :2] for ring in polygon.interiors]
            parts.append({"x": exterior[:, 0], "y": exterior[:, 1], "holes": [holes], "iso3": iso3})
    frame = _frame(crs, source, graticule=projection != MERCATOR)
    all_points = np.concatenate([np.column_stack([p["x"], p["y"]]) for p in parts] + list(frame))
    lo, hi = np.nanmin(all_points, axis=0), np.nanmax(all_points, axis=0)
    return ProjectedMap(crs, tuple(codes), tuple(shapes), tuple(parts), shapely.STRtree(shapes),
                        frame, (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))


def _frame(crs: ccrs.Projection, source: ccrs.CRS, graticule: bool) -> tuple[np.ndarray, ...]:
    """The projection's outline (its boundary) and lines every GRATICULE_STEP degrees."""
    paths = [] if isinstance(crs, ccrs.Mercator) else [np.asarray(crs.boundary.coords)[:, :2]]
    if graticule:
        fine = np.linspace(-180, 180, 181)
        lines = [LineString(np.column_stack([np.full_like(fine, lon), fine / 2]))
                 for lon in range(-180, 181, GRATICULE_STEP)]
        lines += [LineString(np.column_stack([fine, np.full_like(fine, lat)]))
                  for lat in range(-60, 61, GRATICULE_STEP)]
        for line in lines:
            out = crs.project_geometry(line, source)
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


# --- elements --------------------------------------------------------------------------------

def tile_layer() -> gv.WMTS:
    """The basemap tiles: CLIMATE_ATLAS_TILE_URL when set, else OpenStreetMap's standard tiles."""
    url = os.environ.get(TILE_URL_ENV)
    if url:
        return gv.WMTS(url, name="Basemap")
    return gv.WMTS(xyz.OpenStreetMap.Mapnik, name="Basemap")


def choropleth(atlas: Atlas, metric: str, year: int, geo: ProjectedMap, name: str,
               tiles: bool) -> gv.Polygons:
    """The browser map's colours and hover, on shapes in `geo`'s projection."""
    table = metric_table(atlas, metric, year)
    rows = []
    for part in geo.parts:
        iso3 = part["iso3"]
        known = iso3 in table.index
        rows.append({**part,
                     "value": float(table.at[iso3, "value"]) if known else np.nan,
                     "label": str(table.at[iso3, "label"]) if known else NO_DATA,
                     "name": atlas.country_name(iso3)})
    limit = _color_limit(atlas, metric, table["value"].to_numpy(dtype=float))
    title = metric_title(metric, year)
    x0, y0, x1, y1 = geo.bounds
    return gv.Polygons(rows, kdims=["x", "y"], vdims=["value", "label", "iso3", "name"],
                       crs=geo.crs).opts(
        projection=geo.crs, color="value", cmap=PALETTE, clim=(-limit, limit), colorbar=True,
        clabel=UNITS[metric], clipping_colors={"NaN": NO_DATA_COLOR}, line_color="white",
        line_width=0.4, fill_alpha=0.75 if tiles else 1.0,
        tools=["hover"], hover_tooltips=[("Country", "@name"), (title, "@label")],
        title=f"{title} ({UNITS[metric]}); {name}; grey: no data. {MAP_MARKER}.",
        toolbar="above", xaxis=None, yaxis=None, responsive=True, min_height=200,
        aspect=(x1 - x0) / (y1 - y0), data_aspect=None, xlim=(x0, x1), ylim=(y0, y1))


def highlight(geo: ProjectedMap, selection: list[str]) -> gv.Polygons:
    """Thick outlines around the selected countries."""
    rows = [{k: part[k] for k in ("x", "y", "holes")} for part in geo.parts
            if part["iso3"] in selection]
    return gv.Polygons(rows, kdims=["x", "y"], crs=geo.crs).opts(
        projection=geo.crs, fill_alpha=0, line_color="black", line_width=2.2, tools=[])


def frame(geo: ProjectedMap) -> gv.Path:
    return gv.Path(list(geo.frame), kdims=["x", "y"], crs=geo.crs).opts(
        projection=geo.crs, color="#9a9a9a", line_width=0.6, tools=[])


# --- the control panel -----------------------------------------------------------------------

class MapOptions(param.Parameterized):
    """The served map's own choices (not part of the shared state or the link)."""

    projection = param.Selector(default=PROJECTIONS[0], objects=list(PROJECTIONS))
    tiles = param.Boolean(default=False, doc="tile basemap; switches the map to Web Mercator")
    detail = param.Selector(default="110m", objects=list(DETAIL_FILES))
    center = param.Tuple(default=(0.0, 0.0), length=2, doc="the globe's centre (lon, lat)")


def map_view(atlas: Atlas, state: AtlasState, options: MapOptions, projection: str, tiles: bool,
             detail: str, center: tuple[float, float]) -> hv.Overlay:
    """The whole map for one choice of projection, tiles and detail; clicks select countries."""
    name = MERCATOR if tiles else projection
    geo = projected(detail, name, tuple(center) if name == ORTHOGRAPHIC else (0.0, 0.0))
    colours = hv.DynamicMap(pn.bind(choropleth, atlas=atlas, metric=state.param.metric,
                                    year=state.param.year, geo=geo, name=name, tiles=tiles))
    outlines = hv.DynamicMap(pn.bind(highlight, geo=geo, selection=state.param.selection))
    tap = hv.streams.Tap(source=colours)

    def clicked(x: float | None, y: float | None) -> None:
        iso3 = None if x is None or y is None else geo.country_at(x, y)
        if iso3 is not None:
            state.pick(iso3)

    tap.add_subscriber(clicked)
    layers = colours * frame(geo) * outlines
    return tile_layer() * layers if tiles else layers


def server_map(atlas: Atlas, state: AtlasState) -> pn.Column:
    """Projection, tiles and detail controls over the GeoViews map (replaces the plain map)."""
    options = MapOptions()

    def follow_selection(*_: object) -> None:
        if options.projection == ORTHOGRAPHIC:
            options.center = globe_center(state.country)

    state.param.watch(follow_selection, "selection")
    options.param.watch(follow_selection, "projection")
    projection = pn.widgets.Select.from_param(
        options.param.projection, name="Map projection", disabled=options.param.tiles,
        description="Without tiles: the globe view centres on the selected country.")
    tiles = pn.widgets.Checkbox.from_param(
        options.param.tiles, name="Tile basemap (switches the map to Web Mercator)")
    detail = pn.widgets.RadioButtonGroup.from_param(
        options.param.detail, name="Map detail",
        options={"Outline 110m": "110m", "Detail 50m": "50m"}, button_type="default")
    plot = pn.panel(pn.bind(map_view, atlas, state, options, options.param.projection,
                            options.param.tiles, options.param.detail, options.param.center),
                    sizing_mode="stretch_width", min_height=240)
    return pn.Column(pn.Row(projection, pn.Column(tiles, detail)), plot,
                     sizing_mode="stretch_width")
