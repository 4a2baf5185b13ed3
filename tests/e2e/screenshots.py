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
    atlas.page.wait_for_timeout(1500)  # Bokeh re-lays out its canvases at the new width
    assert _shot(atlas, "phone").stat().st_size > 0


def _below(atlas: AtlasPage, selector: str) -> dict[str, float]:
    box = atlas.page.locator(selector).bounding_box()
    size = atlas.page.viewport_size
    return {"x": 0, "y": max(box["y"] - 80, 0), "width": size["width"],
            "height": min(size["height"], box["height"] + 120)}
