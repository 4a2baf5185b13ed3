"""The served map's own features (climate_atlas.server_extras): geometry, projections, tiles, controls.

Fast: 110m everywhere, one 50m projection. The browser build never imports this module
(tools/build_site checks it); here we check it does what the server needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from bokeh.models import TileRenderer

from climate_atlas import server_extras as sx
from climate_atlas.data import load_atlas
from climate_atlas.state import new_state
from climate_atlas.views.world_map import MAP_NAME, country_at
from pipeline.geometry import DROPPED
from tools.map_points import point_in

PACKAGE = Path(sx.__file__).parent
SAMPLE = ("JPN", "BRA", "FJI", "RUS", "USA", "NZL", "IND", "FRA", "ZAF")


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_only_this_module_imports_cartopy_or_geoviews() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+(cartopy|geoviews)\b", re.M)
    importers = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert importers == ["server_extras.py"]


def test_no_cartopy_feature_layers() -> None:
    """Feature layers download Natural Earth at run time; the map draws its own shapes."""
    source = Path(sx.__file__).read_text(encoding="utf-8")
    assert "cartopy.feature" not in source and "NaturalEarthFeature" not in source


def test_server_data_found_in_the_checkout_or_where_the_variable_says(monkeypatch, tmp_path):
    monkeypatch.delenv(sx.SERVER_DATA_ENV, raising=False)
    assert sx.server_data_dir() == Path(sx.__file__).resolve().parents[2] / "data/server"
    monkeypatch.setenv(sx.SERVER_DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=sx.SERVER_DATA_ENV):
        sx.server_data_dir()


@pytest.mark.parametrize("detail", ["110m", "50m"])
def test_lonlat_shapes_never_cross_the_antimeridian(detail: str) -> None:
    countries = dict(sx.lonlat_countries(detail))
    assert not DROPPED & countries.keys()
    for iso3, shape in countries.items():
        for polygon in shape.geoms:
            lon = np.asarray(polygon.exterior.coords)[:, 0]
            assert lon.min() >= -180 and lon.max() <= 180, iso3
            assert np.abs(np.diff(lon)).max() < 180, iso3
    # Russia and Fiji straddle 180°: after the cut they have land on both sides.
    for iso3 in ("RUS", "FJI"):
        bounds = [p.bounds for p in countries[iso3].geoms]
        assert min(b[0] for b in bounds) < -170 and max(b[2] for b in bounds) > 170, iso3


@pytest.mark.parametrize("projection", sx.PROJECTIONS)
def test_a_click_inside_a_country_selects_it(atlas, projection: str) -> None:
    center = sx.globe_center("IND") if projection == sx.ORTHOGRAPHIC else (0.0, 0.0)
    geo = sx.projected("110m", projection, center)
    visible = [iso3 for iso3 in SAMPLE if iso3 in geo.shapes]
    if projection == sx.ORTHOGRAPHIC:
        assert "IND" in visible and "BRA" not in visible  # the far side of the globe is cut
    else:
        assert visible == list(SAMPLE)
    for iso3 in visible:
        assert country_at(geo.geometry, *point_in(geo, iso3)) == iso3, (projection, iso3)


def test_50m_detail_has_more_countries_and_points() -> None:
    coarse, fine = sx.projected("110m", "Plate Carrée"), sx.projected("50m", "Plate Carrée")
    def points(geo):
        return sum(len(ring) for c in geo.geometry["countries"] for p in c["polygons"] for ring in p)
    assert len(fine.shapes) > len(coarse.shapes) and points(fine) > 5 * points(coarse)


def test_tiles_switch_to_web_mercator_and_back(atlas) -> None:
    options = sx.MapOptions(projection="Mollweide")
    assert options.key("IND") == ("110m", "Mollweide", (0.0, 0.0))
    options.tiles = True
    assert options.key("IND")[1] == sx.MERCATOR
    assert sx.make_crs(sx.MERCATOR).proj4_params["proj"] == "merc"
    options.tiles = False
    assert options.key("IND")[1] == "Mollweide"


def test_tile_url_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(sx.TILE_URL_ENV, "http://127.0.0.1:9/tiles/{Z}/{X}/{Y}.png")
    assert sx.tile_source().url == "http://127.0.0.1:9/tiles/{Z}/{X}/{Y}.png"
    monkeypatch.delenv(sx.TILE_URL_ENV)
    assert re.fullmatch(r"https://\S+/{Z}/{X}/{Y}\.png", sx.tile_source().url)


def _widgets(column):
    projection, tiles, detail = column.objects[:3]
    return projection, tiles, detail


def _figure(column):
    """The map figure on show now (each redraw brings a new pane)."""
    return column.objects[-1].object


def test_controls_redraw_the_map(atlas) -> None:
    state = new_state(atlas)
    column = sx.server_map(state)
    projection, tiles, detail = _widgets(column)
    assert (projection.name, projection.value, tiles.value, detail.value) == (
        "Map projection", "Equal Earth", [], "110m")  # tiles off by default
    first = _figure(column)
    assert first.name == MAP_NAME and first.tags == ["server-map|Equal Earth|110m|0,0"]
    assert not any(isinstance(r, TileRenderer) for r in first.renderers)

    projection.value = "Mollweide"
    assert _figure(column) is not first
    assert _figure(column).tags == ["server-map|Mollweide|110m|0,0"]

    tiles.value = [sx.TILES_LABEL]
    assert projection.disabled
    assert _figure(column).tags == [f"server-map|{sx.MERCATOR}|110m|0,0"]
    assert any(isinstance(r, TileRenderer) for r in _figure(column).renderers)
    tiles.value = []
    assert not projection.disabled
    assert _figure(column).tags == ["server-map|Mollweide|110m|0,0"]


def test_metric_and_selection_update_the_figure_in_place(atlas) -> None:
    state = new_state(atlas)
    column = sx.server_map(state)
    figure = _figure(column)
    title = figure.title.text
    state.metric = "trend"
    state.pick("BRA")
    assert _figure(column) is figure and figure.title.text != title


def test_the_globe_turns_to_the_selected_country(atlas) -> None:
    state = new_state(atlas)
    column = sx.server_map(state)
    projection, *_ = _widgets(column)
    projection.value = sx.ORTHOGRAPHIC
    lon, lat = sx.globe_center(state.country)
    assert _figure(column).tags == [f"server-map|{sx.ORTHOGRAPHIC}|110m|{lon:g},{lat:g}"]
    state.pick("BRA")
    lon, lat = sx.globe_center("BRA")
    assert _figure(column).tags == [f"server-map|{sx.ORTHOGRAPHIC}|110m|{lon:g},{lat:g}"]
    assert "BRA" in sx.projected("110m", sx.ORTHOGRAPHIC, (lon, lat)).shapes


def test_geoviews_still_needs_the_lonlat_workaround() -> None:
    """GeoViews 1.15.1 reads PlateCarree's lon_0, which cartopy 0.26 dropped (holoviz/geoviews#884).
    When this fails, GeoViews projects from cartopy's own PlateCarree: drop server_extras._LonLat
    and use ccrs.PlateCarree()."""
    import cartopy.crs as ccrs
    import geoviews as gv
    from geoviews.operation import project

    with pytest.raises(KeyError, match="lon_0"):
        project(gv.Path([[(-10, -10), (10, 10)]], crs=ccrs.PlateCarree()),
                projection=ccrs.Robinson())


def test_every_basemap_is_free_web_mercator_tiles_with_an_attribution(monkeypatch) -> None:
    monkeypatch.delenv(sx.TILE_URL_ENV, raising=False)
    assert sx.DEFAULT_BASEMAP in sx.BASEMAPS
    for name, provider in sx.BASEMAPS.items():
        assert not provider.requires_token(), name
        source = sx.tile_source(name)
        assert all(k in source.url for k in ("{X}", "{Y}", "{Z}")), name
        assert source.attribution == provider.html_attribution and "&copy;" in source.attribution, name


def test_a_configured_tile_url_wins_over_the_basemap_choice(monkeypatch, atlas) -> None:
    monkeypatch.setenv(sx.TILE_URL_ENV, "http://127.0.0.1:9/tiles/{Z}/{X}/{Y}.png")
    assert sx.tile_source("Esri World Imagery").url == "http://127.0.0.1:9/tiles/{Z}/{X}/{Y}.png"
    column = sx.server_map(new_state(atlas))
    assert not any(getattr(w, "name", None) == "Basemap tiles" for w in column.objects)


def test_the_basemap_choice_redraws_the_tiles(monkeypatch, atlas) -> None:
    monkeypatch.delenv(sx.TILE_URL_ENV, raising=False)
    column = sx.server_map(new_state(atlas))
    _, tiles, _, basemap = column.objects[:4]
    assert basemap.name == "Basemap tiles" and basemap.disabled  # tiles are off
    tiles.value = [sx.TILES_LABEL]
    assert not basemap.disabled
    basemap.value = "Esri World Imagery"
    urls = [r.tile_source.url for r in _figure(column).renderers if isinstance(r, TileRenderer)]
    assert urls == [sx.tile_source("Esri World Imagery").url]


def test_after_a_projection_change_the_new_figure_follows_the_state(atlas) -> None:
    state = new_state(atlas)
    column = sx.server_map(state)
    projection, *_ = _widgets(column)
    projection.value = "Robinson"
    figure = _figure(column)
    title = figure.title.text
    state.metric = "trend"
    state.pick("BRA")
    assert _figure(column) is figure and figure.title.text != title
    outlines = next(r for r in figure.renderers if getattr(r, "glyph", None) is not None
                    and r.data_source.data.get("iso3") == ["BRA"])
    assert outlines.glyph.fill_alpha == 0
