"""The choropleth as a picture: an SVG of what BokehJS draws in the map figure's frame.

The static site paints it with the page's HTML, before BokehJS has been loaded and run (about a
second sooner), where the figure's frame will be; BokehJS then draws the same map over it
(tools/build_site/poster.py). So it must draw what BokehJS draws, read from the figure itself:
each multi-polygon renderer in order, filled as its colour mapper maps the value (the same
arithmetic as BokehJS's LinearColorMapper) or with its constant colour and alpha, stroked with its
line colour and width in screen pixels; and the same data ranges (DataRange1d: the data's bounds
fitted to the frame's aspect, then padded), which for an SVG is its viewBox fitted with "meet".
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape

import numpy as np
from bokeh.models import DataRange1d, GlyphRenderer, LinearColorMapper, MultiPolygons
from bokeh.plotting import figure as Figure


def mapped_colour(mapper: LinearColorMapper, value: float | None) -> str:
    """The colour BokehJS gives `value`: nan_color for NaN, else LinearColorMapper.value_to_index,
    with the palette's ends (or low_color/high_color) below `low` and above `high`. A None column
    value arrives as JS null, which BokehJS's `isNaN` lets through and its arithmetic takes for 0."""
    value = 0.0 if value is None else value
    if math.isnan(value):
        return mapper.nan_color
    palette, low, high = mapper.palette, mapper.low, mapper.high
    n = len(palette)
    if value == high:
        return palette[n - 1]
    index = math.floor((value - low) * (1 / (high - low)) / (1 / n))
    if index < 0:
        return mapper.low_color or palette[0]
    if index >= n:
        return mapper.high_color or palette[n - 1]
    return palette[index]


def _path(polygons: Sequence[Sequence[np.ndarray]], ys: Sequence[Sequence[np.ndarray]]) -> str:
    """One path for a country: a closed subpath per ring (outer rings and holes), in whole data
    units (a data unit is under a tenth of a screen pixel at any size the page draws the map),
    y pointing down as in SVG, each point after the first relative to the one before."""
    parts = []
    for polygon_x, polygon_y in zip(polygons, ys, strict=True):
        for ring_x, ring_y in zip(polygon_x, polygon_y, strict=True):
            points = np.column_stack([np.rint(ring_x), np.rint(-np.asarray(ring_y))]).astype(int)
            steps = np.diff(points, axis=0)
            moves = " ".join(f"{dx} {dy}" for dx, dy in steps if dx or dy)
            if moves:  # else an islet under a data unit across, which draws nothing at all
                parts.append(f"M{points[0][0]} {points[0][1]}l{moves}z")
    return "".join(parts)


def _renderers(fig: Figure) -> Iterator[GlyphRenderer]:
    for renderer in fig.renderers:
        if not isinstance(renderer, GlyphRenderer) or not isinstance(renderer.glyph, MultiPolygons):
            raise ValueError(f"map_svg draws multi-polygons only, not {renderer}")
        if renderer.visible:
            yield renderer


def _fills(renderer: GlyphRenderer) -> list[str] | None:
    """Each row's fill colour; None: not filled."""
    glyph, data = renderer.glyph, renderer.data_source.data
    rows = len(data[glyph.xs])
    if glyph.fill_alpha == 0 or glyph.fill_color is None:
        return None
    spec = glyph.fill_color
    if isinstance(spec, str):
        return [spec] * rows
    field, mapper = spec["field"], spec["transform"]
    return [mapped_colour(mapper, v) for v in data[field]]


def _view_box(fig: Figure) -> tuple[float, float, float, float]:
    """The data ranges BokehJS gives the figure, as an SVG viewBox (x, -y top, width, height).
    DataRange1d with match_aspect fits the bounds to the frame's aspect around their centre and
    then pads both by range_padding; the viewBox holds the padded bounds, and "meet" fits them to
    the frame the same way."""
    for axis_range in (fig.x_range, fig.y_range):
        if not (isinstance(axis_range, DataRange1d) and axis_range.range_padding_units == "percent"
                and fig.match_aspect):
            raise ValueError("map_svg follows DataRange1d with match_aspect and percent padding")
    xs, ys = [], []
    for renderer in _renderers(fig):
        data = renderer.data_source.data
        for country_x, country_y in zip(data[renderer.glyph.xs], data[renderer.glyph.ys], strict=True):
            xs += [ring for polygon in country_x for ring in polygon]
            ys += [ring for polygon in country_y for ring in polygon]
    x0, x1 = min(r.min() for r in xs), max(r.max() for r in xs)
    y0, y1 = min(r.min() for r in ys), max(r.max() for r in ys)
    pad_x, pad_y = fig.x_range.range_padding, fig.y_range.range_padding
    width, height = (x1 - x0) * (1 + pad_x), (y1 - y0) * (1 + pad_y)
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    return centre_x - width / 2, -(centre_y + height / 2), width, height


def map_svg(fig: Figure) -> str:
    """The figure's frame as an SVG element (no size: it takes its container's), drawing every
    multi-polygon renderer of `fig` as BokehJS does. Where a renderer's data has an `iso3` column,
    each shape names its country (`data-iso3`): a click on the picture knows what it hit."""
    shapes = []
    for renderer in _renderers(fig):
        glyph, data = renderer.glyph, renderer.data_source.data
        fills = _fills(renderer)
        stroke = (f' stroke="{escape(glyph.line_color)}" stroke-width="{glyph.line_width}" '
                  f'stroke-opacity="{glyph.line_alpha}" stroke-linejoin="{glyph.line_join}"'
                  if glyph.line_color is not None and glyph.line_alpha else ' stroke="none"')
        codes = data.get("iso3")
        group = []
        for i, (xs, ys) in enumerate(zip(data[glyph.xs], data[glyph.ys], strict=True)):
            fill = escape(fills[i]) if fills else "none"
            code = f' data-iso3="{escape(codes[i])}"' if codes is not None else ""
            group.append(f'<path fill="{fill}"{code} d="{_path(xs, ys)}"/>')
        shapes.append(f"<g{stroke}>" + "".join(group) + "</g>")
    box = " ".join(f"{v:.1f}" for v in _view_box(fig))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}" fill-rule="evenodd" '
            # line widths are screen pixels, as in BokehJS (vector-effect is not inherited)
            f'aria-hidden="true" focusable="false"><style>path{{vector-effect:non-scaling-stroke}}'
            f'</style>{"".join(shapes)}</svg>')
