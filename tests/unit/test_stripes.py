"""Warming stripes: the fixed colour scale, the figure updated in place, the PNG."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from climate_atlas.data import load_atlas
from climate_atlas.views.stripes import (
    LIMIT,
    MISSING_COLOR,
    PALETTE,
    PNG_BAND_PX,
    PNG_FOOT_PX,
    PNG_TEXT_PX,
    ROW_PX,
    hex_to_rgb,
    png_credit,
    png_stripe_px,
    show_stripes,
    stripe_colors,
    stripes_caption,
    stripes_chart,
    stripes_png,
)

DARKEST_BLUE, DARKEST_RED = "#053061", "#67001f"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _rows(atlas, codes: list[str]) -> list[tuple[str, pd.Series]]:
    return [(atlas.country_name(c), atlas.series(c)) for c in codes]


def test_the_scale_runs_from_blue_to_red_in_half_degree_classes() -> None:
    assert PALETTE[0] == DARKEST_BLUE and PALETTE[-1] == DARKEST_RED
    assert stripe_colors([-2.49, -2.0, -0.01, 0.0, 0.49, 0.5, 2.49]) == [
        PALETTE[0], PALETTE[1], PALETTE[4], PALETTE[5], PALETTE[5], PALETTE[6], PALETTE[9]]


def test_anomalies_beyond_the_limits_take_the_end_colours() -> None:
    assert stripe_colors([-LIMIT, -3.25, -100.0]) == [DARKEST_BLUE] * 3
    assert stripe_colors([LIMIT, 5.33, 100.0]) == [DARKEST_RED] * 3


def test_a_missing_year_is_grey() -> None:
    assert stripe_colors([np.nan, 1.0, float("nan")]) == [MISSING_COLOR, PALETTE[7], MISSING_COLOR]
    assert MISSING_COLOR not in PALETTE


def test_years_missing_inside_a_strip_are_grey_and_outside_are_not_drawn() -> None:
    stripes = stripes_chart()
    series = pd.Series([0.1, np.nan, -0.7, 1.2], index=[1990, 1991, 1993, 1994])
    show_stripes(stripes, [("Somewhere", series)])
    data = stripes.bands.data
    assert data["year"] == [1990, 1991, 1992, 1993, 1994]
    assert data["color"] == [PALETTE[5], MISSING_COLOR, MISSING_COLOR, PALETTE[3], PALETTE[7]]
    assert data["label"][1] == data["label"][2] == "no data"
    assert data["label"][4] == "+1.20 °C"
    assert (stripes.x_range.start, stripes.x_range.end) == (1989.5, 1994.5)


def test_each_row_is_named_and_its_first_and_last_year_written_at_its_ends(atlas) -> None:
    stripes = stripes_chart()
    show_stripes(stripes, _rows(atlas, ["NOR", "ERI"]))
    text = stripes.text.data
    nor, eri = atlas.series("NOR"), atlas.series("ERI")
    assert text["text"] == [str(nor.index.min()), "Norway", str(nor.index.max()),
                            str(eri.index.min()), "Eritrea", str(eri.index.max())]
    assert text["x"][0] == nor.index.min() - 0.5 and text["x"][5] == eri.index.max() + 0.5
    assert text["align"][:3] == ["left", "center", "right"]
    assert stripes.figure.height == 2 * ROW_PX + 8
    label = stripes.figure.html_attributes["aria-label"]
    assert label.startswith("Warming stripes") and "Norway, 1961 to 2022" in label
    assert stripes.figure.html_attributes["role"] == "img"
    assert stripes.figure.toolbar_location is None and not stripes.figure.axis


def test_a_country_without_a_series_gets_a_row_that_says_so(atlas) -> None:
    stripes = stripes_chart()
    show_stripes(stripes, _rows(atlas, ["FRA", "CYN"]))
    assert "Northern Cyprus: no temperature data" in stripes.text.data["text"]
    assert set(stripes.bands.data["name"]) == {"France"}


def test_a_new_selection_updates_the_same_models(atlas) -> None:
    """In place, as in views/series.py: a second selection changes data, never the models."""
    stripes = stripes_chart()
    show_stripes(stripes, _rows(atlas, ["FRA"]))
    before = {m.id for m in stripes.figure.references()}
    show_stripes(stripes, _rows(atlas, ["FRA", "DEU", "CIV"]))
    show_stripes(stripes, _rows(atlas, ["TUR"]))
    assert {m.id for m in stripes.figure.references()} == before
    assert set(stripes.bands.data["name"]) == {"Türkiye"}
    assert stripes.y_range.start == -1 and stripes.figure.height == ROW_PX + 8


def test_the_caption_credits_hawkins_and_names_the_base_period(atlas) -> None:
    caption = stripes_caption(atlas.periods.base)
    assert "method by Ed Hawkins (University of Reading)" in caption
    assert str(atlas.periods.base) in caption and "2.5 °C" in caption
    assert "Ed Hawkins" in png_credit(atlas.periods.base)


def test_the_png_draws_one_band_per_country_in_the_scales_colours(atlas) -> None:
    rows = _rows(atlas, ["NOR", "CRI"])
    image = Image.open(io.BytesIO(stripes_png(rows, png_credit(atlas.periods.base))))
    nor, cri = atlas.series("NOR"), atlas.series("CRI")
    first, last = int(min(nor.index.min(), cri.index.min())), int(max(nor.index.max(),
                                                                      cri.index.max()))
    w = png_stripe_px(first, last)
    assert image.size == ((last - first + 1) * w, 2 * (PNG_TEXT_PX + PNG_BAND_PX) + PNG_FOOT_PX)
    assert w * (last - first + 1) >= 600 and math.isclose(w, 12)
    for row, series in enumerate([nor, cri]):
        y = row * (PNG_TEXT_PX + PNG_BAND_PX) + PNG_TEXT_PX + PNG_BAND_PX // 2
        for year in (int(series.index.min()), int(series.index.max())):
            x = (year - first) * w + w // 2
            assert image.getpixel((x, y)) == hex_to_rgb(stripe_colors([series.loc[year]])[0])
    y = PNG_TEXT_PX + (PNG_TEXT_PX + PNG_BAND_PX) + PNG_BAND_PX // 2  # Costa Rica starts in 1971
    assert image.getpixel((w // 2, y)) == (255, 255, 255)
