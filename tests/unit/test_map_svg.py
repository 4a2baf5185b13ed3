"""The map as an SVG (views/map_svg.py) draws what BokehJS draws: every country in the colour its
mapper gives, the selection's outline, and the figure's data ranges. Where it lies on the page and
how it compares with BokehJS's pixels: tests/e2e/test_first_paint.py."""

from __future__ import annotations

import re

import pytest
from bokeh.models import LinearColorMapper
from bokeh.palettes import RdBu11
from bokeh.plotting import figure

from climate_atlas.data import load_atlas
from climate_atlas.state import new_state
from climate_atlas.views.map_svg import map_svg, mapped_colour
from climate_atlas.views.world_map import map_countries, world_map


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_colours_follow_bokehjs_linear_mapping():
    mapper = LinearColorMapper(palette=list(RdBu11), low=-2, high=2, nan_color="#d4d4d4")
    assert mapped_colour(mapper, -2) == RdBu11[0] and mapped_colour(mapper, 2) == RdBu11[10]
    assert mapped_colour(mapper, -9) == RdBu11[0] and mapped_colour(mapper, 9) == RdBu11[10]
    assert mapped_colour(mapper, -2 + 4 / 11 - 1e-9) == RdBu11[0]
    assert mapped_colour(mapper, -2 + 4 / 11 + 1e-9) == RdBu11[1]
    assert mapped_colour(mapper, float("nan")) == "#d4d4d4"
    # A None column value reaches BokehJS as null, which its mapping takes for 0, not for NaN
    assert mapped_colour(mapper, None) == mapped_colour(mapper, 0.0) == RdBu11[5]


def test_the_picture_draws_every_country_in_its_colour_and_outlines_the_selection(atlas):
    state = new_state(atlas)
    world = world_map(atlas, atlas.geometry, state)
    svg = map_svg(world.figure)
    countries, outline = re.findall(r"<g (.*?)>(.*?)</g>", svg)
    fills = re.findall(r'<path fill="([^"]+)"', countries[1])
    codes = map_countries(atlas.geometry)
    assert fills == [mapped_colour(world.mapper, v) for v in world.countries.data["value"]]
    assert len(fills) == len(codes) and 'stroke="white" stroke-width="0.4"' in countries[0]
    assert 'stroke="black" stroke-width="2.2"' in outline[0]
    assert re.findall(r'<path fill="([^"]+)"', outline[1]) == ["none"] * len(state.selection)
    # x is the padded width of the data (DataRange1d's 10%), centred: y follows the frame's aspect
    x, _, width, _ = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    xs = [v for c in atlas.geometry["countries"] for p in c["polygons"] for r in p for v in r[0::2]]
    assert width == pytest.approx((max(xs) - min(xs)) * 1.1, abs=0.1)
    assert x == pytest.approx((max(xs) + min(xs)) / 2 - width / 2, abs=0.1)


def test_a_figure_with_other_glyphs_is_refused():
    fig = figure(match_aspect=True)
    fig.line([0, 1], [0, 1])
    with pytest.raises(ValueError, match="multi-polygons only"):
        map_svg(fig)
