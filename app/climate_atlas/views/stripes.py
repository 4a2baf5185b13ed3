"""Warming stripes (Ed Hawkins' method): one coloured stripe per year, one strip per country.

The strips read as a picture, not a chart: no axes, no numbers but the first and last year at
each strip's ends, and the colour alone tells a cool year from a warm one. Each selected country
gets one row, all rows on one shared year axis, so the same column is the same year in every row.

Like views/series.py, the figure is built once per session and updated in place: a new selection
replaces the data of two sources (the stripes and the text), the ranges, the height and the
accessible name, and makes no new model. New models would make Bokeh walk every model of the page
(series.py's `_fill` says what that costs). The view takes its rows as data, `(name, anomaly by
year)`, so whoever wires it decides which series it shows (layout.py: `_stripes_rows`).

The same colours go into the PNG download (`stripes_png`), so the picture a visitor keeps is the
picture they saw.
"""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.palettes import RdBu10
from bokeh.plotting import figure

from climate_atlas.views.world_map import NO_DATA_COLOR

if TYPE_CHECKING:
    from climate_atlas.data import Period

# One fixed scale for every country, year and selection, so that the same colour means the same
# anomaly in every row and every session (a scale fitted to each country, as Hawkins' own site
# does, would make a mild country look as red as a hot one, and rows could not be compared).
# Symmetric, so white-ish sits at the base period's mean; ±2.5 °C holds 99.5 % of the country-years
# in the data (0.5 % lie beyond and take the end colours): wide enough that the recent warm years
# still differ from one another, narrow enough that an ordinary year is not washed out.
LIMIT = 2.5  # °C
STEP = 0.5  # °C per colour: ten classes, with 0 °C on a class boundary
# ColorBrewer RdBu (10 classes), which Bokeh lists blue (cool) to red (warm): "RdBu reversed", the
# diverging blues and reds Hawkins uses, as on the map, and readable with the common colour-vision
# deficiencies.
PALETTE: list[str] = list(RdBu10)
assert len(PALETTE) == round(2 * LIMIT / STEP)
# A year missing inside a strip: the page's one "no data" grey (the map's). Years before a
# country's first and after its last year are not drawn at all.
MISSING_COLOR = NO_DATA_COLOR

STRIPES_NAME = "warming-stripes"  # how tests find the figure among the page's plots
ROW_PX = 52  # one row on screen: a line of text over a band of stripes
BAND = 0.56  # the band's share of a row's height (about 29 px)
TEXT_COLOR = "#333333"  # 12.6:1 on white
BORDER_PX = 4

# The PNG: one band per country under a line of text, and the credit at the foot.
PNG_STRIPE_PX = 12  # each year's width, widened so the picture is at least PNG_MIN_WIDTH
PNG_MIN_WIDTH = 600
PNG_TEXT_PX = 20
PNG_BAND_PX = 80
PNG_FOOT_PX = 22
PNG_FONT_PX = 13


def stripe_colors(values: np.ndarray | pd.Series | list[float]) -> list[str]:
    """The colour of each anomaly (°C, NaN for a missing year) on the fixed scale, as "#rrggbb".

    Classes are half-open, [-2.5, -2.0) ... [2.0, 2.5]: 0 °C is the first red. Values beyond ±2.5 °C
    take the end colours (clipped); NaN is MISSING_COLOR."""
    anomaly = np.asarray(values, dtype=float)
    index = np.clip(np.floor((anomaly + LIMIT) / STEP), 0, len(PALETTE) - 1)
    return [MISSING_COLOR if np.isnan(v) else PALETTE[int(i)] for v, i in zip(anomaly, index,
                                                                               strict=True)]


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """Parse "#rrggbb" into (r, g, b), each 0-255."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _years(series: pd.Series) -> pd.Series:
    """Every year from the first to the last with a value, NaN where a year is missing or empty."""
    present = series.dropna()
    if present.empty:
        return pd.Series(dtype=float)
    first, last = int(present.index.min()), int(present.index.max())
    return series.reindex(range(first, last + 1)).astype(float)


def _span(rows: list[tuple[str, pd.Series]]) -> tuple[int, int] | None:
    """First and last year over every row's data; None when no row has any."""
    years = [_years(series) for _, series in rows]
    years = [y for y in years if not y.empty]
    if not years:
        return None
    return min(int(y.index[0]) for y in years), max(int(y.index[-1]) for y in years)


def stripes_description(rows: list[tuple[str, pd.Series]]) -> str:
    """The figure's accessible name: what it is and, per row, the country and its years."""
    parts = []
    for name, series in rows:
        years = _years(series)
        parts.append(f"{name}, no data" if years.empty
                     else f"{name}, {years.index[0]} to {years.index[-1]}")
    return ("Warming stripes, one stripe per year from blue (cooler) to red (warmer): "
            + "; ".join(parts) + ".")


def stripes_caption(base: Period | str) -> str:
    """The line under the stripes: whose method, which scale, against which years (`base`, the
    period the series' anomalies are measured from)."""
    return (f"Warming stripes: method by Ed Hawkins (University of Reading). Each stripe is one "
            f"year's temperature anomaly against {base}, on one scale for every country, from "
            f"−{LIMIT} °C (darkest blue) to +{LIMIT} °C (darkest red) in steps of {STEP} °C; "
            f"anomalies beyond it take the end colours. Grey: no data for that year.")


@dataclass(frozen=True)
class Stripes:
    """The figure and the models an update touches."""

    figure: figure
    bands: ColumnDataSource  # one row per stripe: x (year), y, color, name, year, label
    text: ColumnDataSource  # names and end years: x, y, text, align
    x_range: Range1d
    y_range: Range1d


def _band_bottom(row: int) -> float:
    """Rows run downwards from y = 0: row i takes [-(i+1), -i], its band the lower part."""
    return -(row + 1.0)


def _columns(rows: list[tuple[str, pd.Series]],
             span: tuple[int, int] | None) -> tuple[dict[str, list], dict[str, list]]:
    bands: dict[str, list] = {"x": [], "y": [], "color": [], "name": [], "year": [], "label": []}
    text: dict[str, list] = {"x": [], "y": [], "text": [], "align": []}
    middle = (span[0] + span[1]) / 2 if span else 0.0
    for i, (name, series) in enumerate(rows):
        years = _years(series)
        bottom = _band_bottom(i)
        above = bottom + BAND  # the text line sits on the band
        if years.empty:
            text["x"].append(middle)
            text["y"].append(above)
            text["text"].append(f"{name}: no temperature data")
            text["align"].append("center")
            continue
        n = len(years)
        bands["x"] += [float(y) for y in years.index]
        bands["y"] += [bottom + BAND / 2] * n
        bands["color"] += stripe_colors(years.to_numpy())
        bands["name"] += [name] * n
        bands["year"] += [int(y) for y in years.index]
        bands["label"] += ["no data" if np.isnan(v) else f"{v:+.2f} °C" for v in years]
        first, last = int(years.index[0]), int(years.index[-1])
        text["x"] += [first - 0.5, (first + last) / 2, last + 0.5]
        text["y"] += [above] * 3
        text["text"] += [str(first), name, str(last)]
        text["align"] += ["left", "center", "right"]
    return bands, text


def stripes_chart() -> Stripes:
    """An empty stripes figure, without axes, grid or toolbar; `show_stripes` fills it."""
    x_range, y_range = Range1d(0, 1), Range1d(-1, 0)
    # No min_width: Bokeh adds the minimum widths of the page's wrapping row, which would then
    # overflow a phone's screen.
    fig = figure(name=STRIPES_NAME, height=stripes_height(1), sizing_mode="stretch_width",
                 width=None, x_range=x_range, y_range=y_range, tools="",
                 toolbar_location=None, x_axis_type=None, y_axis_type=None,
                 min_border=BORDER_PX, outline_line_color=None)
    fig.grid.visible = False
    bands = ColumnDataSource({"x": [], "y": [], "color": [], "name": [], "year": [], "label": []})
    text = ColumnDataSource({"x": [], "y": [], "text": [], "align": []})
    # dilate: neighbouring stripes meet without the hairline gaps of anti-aliased edges
    stripes = fig.rect("x", "y", width=1, height=BAND, source=bands, fill_color="color",
                       line_color=None, dilate=True)
    fig.text("x", "y", text="text", source=text, text_align="align", text_baseline="bottom",
             y_offset=-3, text_font_size="12px", text_color=TEXT_COLOR)
    fig.add_tools(HoverTool(renderers=[stripes], tooltips=[
        ("Country", "@name"), ("Year", "@year"), ("Anomaly", "@label")]))
    return Stripes(fig, bands, text, x_range, y_range)


def stripes_height(rows: int) -> int:
    """The figure's height in px for `rows` countries (an empty figure keeps one row's)."""
    return max(rows, 1) * ROW_PX + 2 * BORDER_PX


def show_stripes(stripes: Stripes, rows: list[tuple[str, pd.Series]]) -> None:
    """Draw one strip per row, in order, in the existing models.

    `rows`: (display name, anomaly in °C by integer year) per country; a series may be empty,
    lack years or hold NaN (missing years are grey)."""
    span = _span(rows)
    bands, text = _columns(rows, span)
    stripes.bands.data, stripes.text.data = bands, text
    if span is not None:
        stripes.x_range.update(start=span[0] - 0.5, end=span[1] + 0.5)
    stripes.y_range.update(start=-max(len(rows), 1), end=0)
    stripes.figure.height = stripes_height(len(rows))
    # The canvas is a picture to assistive technology: its name says what is drawn (no toolbar,
    # so nothing focusable sits inside the image).
    stripes.figure.html_attributes = {"role": "img", "aria-label": stripes_description(rows)}


def _for_png(text: str) -> str:
    """The PNG's font (Pillow's built-in Aileron) has ASCII and a few signs such as ° but no
    accented letters: "Côte d'Ivoire" becomes "Cote d'Ivoire" rather than boxes."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() or c in "°±")


def png_credit(base: Period | str) -> str:
    """The credit line at the foot of the PNG: the caption's essentials, short enough for its
    narrowest width (PNG_MIN_WIDTH)."""
    return (f"Warming stripes: method by Ed Hawkins (University of Reading). "
            f"Anomaly vs {base}, -{LIMIT} to +{LIMIT} °C.")


def png_stripe_px(first: int, last: int) -> int:
    """Width in pixels of one year in the PNG of the years first..last."""
    return max(PNG_STRIPE_PX, math.ceil(PNG_MIN_WIDTH / (last - first + 1)))


def stripes_png(rows: list[tuple[str, pd.Series]], credit: str = "") -> bytes:
    """The stripes of `rows` (as for `show_stripes`) as a PNG.

    Layout, top to bottom, per row: a PNG_TEXT_PX line ("Name, first-last") over a PNG_BAND_PX
    band whose year y spans columns [(y - first) * w, (y - first + 1) * w) with
    w = png_stripe_px(first, last) over the years of every row; then a PNG_FOOT_PX line with
    `credit`. Years outside a row's data are white. Needs Pillow (the static site loads it on
    demand, see layout.py)."""
    from PIL import Image, ImageDraw, ImageFont

    span = _span(rows) or (0, 0)
    w = png_stripe_px(*span)
    width = (span[1] - span[0] + 1) * w
    height = len(rows) * (PNG_TEXT_PX + PNG_BAND_PX) + PNG_FOOT_PX
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=PNG_FONT_PX)
    for i, (name, series) in enumerate(rows):
        top = i * (PNG_TEXT_PX + PNG_BAND_PX)
        years = _years(series)
        label = (f"{name}: no temperature data" if years.empty
                 else f"{name}, {years.index[0]}-{years.index[-1]}")
        draw.text((4, top + 3), _for_png(label), fill=TEXT_COLOR, font=font)
        for year, color in zip(years.index, stripe_colors(years.to_numpy()), strict=True):
            left = (int(year) - span[0]) * w
            draw.rectangle((left, top + PNG_TEXT_PX, left + w - 1, top + PNG_TEXT_PX + PNG_BAND_PX - 1),
                           fill=hex_to_rgb(color))
    draw.text((4, height - PNG_FOOT_PX + 4), _for_png(credit), fill=TEXT_COLOR, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
