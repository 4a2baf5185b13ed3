"""PNG pictures of the map and the charts (app/climate_atlas/pictures.py), in both modes: one plain
click on a named button downloads a picture named after what it shows, as large as the figure on
screen at the screen's pixel ratio, with the screen's colours at the same spots.

The module's page is on a screen of pixel ratio 2 (a phone's or a laptop's), so the PNG has twice
the figure's CSS size."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from PIL import Image

from climate_atlas.state import DEFAULT_INDICATOR
from climate_atlas.views.series import INDICATOR_NAME, PALETTE, TEMPERATURE_NAME
from climate_atlas.views.stripes import hex_to_rgb
from climate_atlas.views.world_map import MAP_NAME
from climate_atlas.views.world_map import PALETTE as MAP_PALETTE
from tools.atlas_page import AtlasPage

RGB = tuple[int, int, int]
MAP_COUNTRIES = ["BRA", "RUS", "AUS", "CAN"]  # large, so a point inside is far from any border
PIXEL_RATIO = 2


@pytest.fixture(scope="module")
def atlas_screen() -> dict[str, object]:
    return {"device_scale_factor": PIXEL_RATIO}


def _select(atlas: AtlasPage, codes: list[str]) -> None:
    """Select exactly `codes`, in order, by clicks on the map."""
    atlas.page.get_by_role("button", name="Click replaces selection").click()
    for i, iso3 in enumerate(codes):
        if i == 1:
            atlas.page.get_by_role("button", name="Click adds to comparison").click()
            atlas.page.get_by_text("a map click adds to this").wait_for()
        atlas.click_country(iso3)
    atlas.page.get_by_role("button", name="Click replaces selection").click()
    atlas.page.get_by_text("a map click replaces this").wait_for()
    atlas.wait_for_highlight(codes)


def _picture_and_screen(atlas: AtlasPage, button: str, plot: str,
                        points: Sequence[tuple[float, float]]) -> tuple[str, list[tuple[RGB, RGB]]]:
    """Download the PNG of the plot named `plot` with the button named `button`; return its file
    name and, at each data point of `points`, (the PNG's colour, the screen's colour there).

    Also checks that the PNG is the size of the plot's canvas on screen, at the screen's pixel
    ratio (Bokeh draws whole CSS pixels of it)."""
    name, data = atlas.download(button)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG"
    spots = [atlas.plot_point(x, y, plot) for x, y in points]  # the viewport's CSS pixels
    left, top, width, height, ratio = atlas.canvas_box(plot)  # scrolled as plot_point left it
    assert ratio == PIXEL_RATIO
    assert abs(picture.width - width * ratio) < ratio and abs(picture.height - height * ratio) < ratio
    atlas.page.mouse.move(0, 0)  # no hover tooltip over the plot
    screen = Image.open(io.BytesIO(atlas.page.screenshot())).convert("RGB")
    picture = picture.convert("RGB")
    # The canvas sits on whole device pixels of the screen: its pixel (0, 0) is at the box's
    # rounded corner.
    x0, y0 = round(left * ratio), round(top * ratio)
    pairs = []
    for x, y in spots:
        px, py = int((x - left) * ratio), int((y - top) * ratio)
        pairs.append((picture.getpixel((px, py)), screen.getpixel((x0 + px, y0 + py))))
    return name, pairs


def test_the_map_downloads_as_a_png_of_what_it_shows(atlas: AtlasPage) -> None:
    atlas.choose("Map shows", "Anomaly in the chosen year")
    year = atlas.year()
    atlas.wait_for_title(f"Anomaly in {year}")
    name, pairs = _picture_and_screen(atlas, "Download the map (PNG)", MAP_NAME,
                                      [atlas.country_point(c) for c in MAP_COUNTRIES])
    assert name == f"climate-atlas-map-anomaly-in-{year}-c-vs-1951-1980.png"
    fills = {hex_to_rgb(c) for c in MAP_PALETTE}
    for iso3, (pictured, shown) in zip(MAP_COUNTRIES, pairs, strict=True):
        assert pictured == shown, f"{iso3}: the PNG has {pictured}, the screen {shown}"
        assert pictured in fills, f"{iso3}: {pictured} is not a colour of the map's scale"
    atlas.choose("Map shows", "Mean anomaly 2018-2022")
    atlas.wait_for_title("Mean anomaly 2018-2022")


def test_the_charts_download_as_pngs_of_the_countries_shown(atlas: AtlasPage) -> None:
    _select(atlas, ["FRA", "DEU"])
    atlas.wait_for_title("Temperature anomaly: France, Germany")
    # Germany's points are drawn last, over France's lines and the world's; after 2000 they are
    # clear of the legend in the top left corner.
    drawn = atlas.series("Temperature anomaly", "Germany")
    years = [y for y in sorted(drawn) if y >= 2000 and drawn[y] is not None][:3]
    name, pairs = _picture_and_screen(atlas, "Download the temperature chart (PNG)",
                                      TEMPERATURE_NAME, [(y, drawn[y]) for y in years])
    assert name == "climate-atlas-temperature-FRA-DEU.png"
    for year, (pictured, shown) in zip(years, pairs, strict=True):
        assert pictured == shown == hex_to_rgb(PALETTE[1]), f"Germany, {year}: {pictured}, {shown}"

    indicator = atlas.atlas.indicator_meta.at[DEFAULT_INDICATOR, "short_name"]
    drawn = atlas.series(indicator, "Germany")
    years = sorted(drawn)[-3:]
    name, pairs = _picture_and_screen(atlas, "Download the indicator chart (PNG)", INDICATOR_NAME,
                                      [(y, drawn[y]) for y in years])
    assert name == f"climate-atlas-{DEFAULT_INDICATOR}-FRA-DEU.png"
    for year, (pictured, shown) in zip(years, pairs, strict=True):  # Germany's line, on top
        assert pictured == shown == hex_to_rgb(PALETTE[1]), f"Germany, {year}: {pictured}, {shown}"
