"""`make screenshots`: the README's pictures of each main view, made with the e2e fixtures.

Not collected by `make test` (no `test_` file prefix); run explicitly by the Makefile.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from playwright.sync_api import expect

from tools.atlas_page import AtlasPage
from tools.servers import ROOT

OUT = ROOT / "docs" / "screenshots"
# The upload's example: a real published file, the World Bank's urban population share, turned from
# its wide download (a column per year) into the long country,year,value shape, nothing else changed.
URBAN = ROOT.parent / "shared" / "data" / "raw" / "worldbank" / \
    "API_SP.URB.TOTL.IN.ZS_DS2_en_csv_v2_5996759.csv"


def _urban_csv() -> bytes:
    wide = pd.read_csv(URBAN, skiprows=4)
    years = [c for c in wide.columns if c.isdigit()]
    long = wide.melt(id_vars=["Country Code"], value_vars=years, var_name="year").dropna()
    long = long.rename(columns={"Country Code": "iso3"})
    long["name"], long["unit"] = "Urban population", "% of total"
    buffer = io.StringIO()
    long.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


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


def test_ranking(atlas: AtlasPage) -> None:
    atlas.open_tab("Warming vs indicator")
    caption = atlas.page.get_by_text("rank correlation (ρ) of each indicator")
    table = atlas.page.locator(".tabulator").filter(has_text="95% low")
    expect(table.locator(".tabulator-row")).to_have_count(12, timeout=60_000)
    caption.scroll_into_view_if_needed()
    top, bottom = caption.bounding_box(), table.bounding_box()
    clip = {"x": 0, "y": top["y"] - 10, "width": atlas.page.viewport_size["width"],
            "height": bottom["y"] + bottom["height"] - top["y"] + 20}
    assert _shot(atlas, "ranking", clip=clip).stat().st_size > 0


def test_your_data(atlas: AtlasPage) -> None:
    atlas.page.locator("input[type=file]").set_input_files(
        files=[{"name": "urban.csv", "mimeType": "text/csv", "buffer": _urban_csv()}])
    atlas.page.locator(".alert").filter(has_text="Read your file").wait_for(timeout=60_000)
    atlas.choose("Map shows", "Your data (chosen year, or the latest before)")
    atlas.wait_for_title("Your data: Urban population (% of total)")
    atlas.page.mouse.move(0, 0)
    box = atlas.page.locator(".alert").filter(has_text="Read your file").bounding_box()
    atlas.page.evaluate(f"window.scrollBy(0, {box['y'] + box['height'] + 20 - 1000})")
    top = atlas.page.get_by_text("Map shows", exact=True).first.bounding_box()
    box = atlas.page.locator(".alert").filter(has_text="Read your file").bounding_box()
    clip = {"x": 0, "y": max(top["y"] - 10, 0), "width": atlas.page.viewport_size["width"],
            "height": box["y"] + box["height"] + 10 - max(top["y"] - 10, 0)}
    assert _shot(atlas, "your-data", clip=clip).stat().st_size > 0


def test_embed(atlas: AtlasPage) -> None:
    """A third-party page with the map embedded (README's iframe snippet, static site)."""
    page = atlas.page.context.new_page()
    url = atlas.page.url.split("?")[0] + "?embed=map&countries=FRA,BRA&metric=trend"
    page.set_viewport_size({"width": 900, "height": 620})
    page.set_content('<body style="font-family:sans-serif;margin:16px"><h3>An article about '
                     'warming</h3><iframe src="' + url + '" title="Climate Atlas: warming trend '
                     'by country" width="840" height="500" style="border:1px solid #ccc"></iframe>'
                     '</body>')
    frame = page.frame_locator("iframe")
    frame.locator("body[data-atlas-ready='true']").wait_for(state="attached", timeout=90_000)
    frame.get_by_text("Open the full Climate Atlas at this view").wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=OUT / "embed.png")
    page.close()


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
