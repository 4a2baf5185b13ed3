"""`make screenshots`: the README's pictures of each main view, made with the e2e fixtures.

Not collected by `make test` (no `test_` file prefix); run explicitly by the Makefile.
"""

from __future__ import annotations

from pathlib import Path

from tools.atlas_page import AtlasPage
from tools.servers import ROOT

OUT = ROOT / "docs" / "screenshots"


def _shot(atlas: AtlasPage, name: str, **options: object) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    atlas.page.screenshot(path=path, **options)
    return path


def test_map_and_charts(atlas: AtlasPage) -> None:
    atlas.click_country("BRA")
    atlas.page.get_by_role("button", name="Click adds to comparison").click()
    atlas.page.get_by_text("a map click adds to this").wait_for()
    atlas.click_country("CAN")
    atlas.wait_for_title("Temperature anomaly: Brazil, Canada")
    atlas.page.mouse.move(0, 0)
    assert _shot(atlas, "map-and-charts").stat().st_size > 0


def test_temperature_chart_download(atlas: AtlasPage) -> None:
    """Not a screenshot: the PNG the chart's download button saves (of map-and-charts' state)."""
    _, data = atlas.download("Download the temperature chart (PNG)")
    (OUT / "temperature-chart-download.png").write_bytes(data)


def test_seasonal_map(atlas: AtlasPage) -> None:
    atlas.choose("Season or month", "Jun–Jul–Aug (FAOSTAT, 1961-2020)")
    atlas.choose("Base period", "1991-2020 (WMO's current climate normal)")
    atlas.wait_for_title("Mean anomaly 2018-2022, Jun–Jul–Aug, °C vs 1991-2020")
    atlas.page.mouse.move(0, 0)
    assert _shot(atlas, "seasonal-map", clip=_around(atlas, "Season or month", 720)).stat().st_size > 0


def test_stripes(atlas: AtlasPage) -> None:
    caption = atlas.page.get_by_text("Warming stripes: method by Ed Hawkins")
    caption.scroll_into_view_if_needed()
    box = caption.bounding_box()
    size = atlas.page.viewport_size
    clip = {"x": box["x"] - 10, "y": max(box["y"] - 230, 0), "width": size["width"] - box["x"] + 10,
            "height": 300}
    assert _shot(atlas, "stripes", clip=clip).stat().st_size > 0
    atlas.choose("Season or month", "Annual")
    atlas.choose("Base period", "1951-1980 (the publishers' base)")
    atlas.wait_for_title("Mean anomaly 2018-2022, °C vs 1951-1980")


def _around(atlas: AtlasPage, label: str, height: float) -> dict[str, float]:
    box = atlas.page.get_by_text(label, exact=True).first.bounding_box()
    atlas.page.evaluate(f"window.scrollTo(0, {max(box['y'] - 20, 0)})")
    box = atlas.page.get_by_text(label, exact=True).first.bounding_box()
    return {"x": 0, "y": max(box["y"] - 10, 0), "width": atlas.page.viewport_size["width"] * 0.55,
            "height": height}


def test_table(atlas: AtlasPage) -> None:
    atlas.open_tab("Table")
    table = atlas.page.locator(".tabulator")
    table.scroll_into_view_if_needed()
    assert _shot(atlas, "table", clip=_below(atlas, ".tabulator")).stat().st_size > 0


def test_warming_vs_indicator(atlas: AtlasPage) -> None:
    atlas.open_tab("Warming vs indicator")
    atlas.wait_for_title("Warming trend against")
    summary = atlas.page.get_by_text("Rank correlation (Spearman)")
    summary.scroll_into_view_if_needed()
    assert _shot(atlas, "warming-vs-indicator").stat().st_size > 0


def test_phone(atlas: AtlasPage) -> None:
    atlas.page.set_viewport_size({"width": 390, "height": 844})
    atlas.page.evaluate("window.scrollTo(0, 0)")
    atlas.page.mouse.move(0, 0)  # no tooltip of a control the pointer last rested on
    atlas.page.wait_for_timeout(1500)  # Bokeh re-lays out its canvases at the new width
    assert _shot(atlas, "phone").stat().st_size > 0


def _below(atlas: AtlasPage, selector: str) -> dict[str, float]:
    box = atlas.page.locator(selector).bounding_box()
    size = atlas.page.viewport_size
    return {"x": 0, "y": max(box["y"] - 80, 0), "width": size["width"],
            "height": min(size["height"], box["height"] + 120)}
