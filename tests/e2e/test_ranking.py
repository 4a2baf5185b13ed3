"""Which indicators go with warming: the ranking table, in both modes, on a page of its own."""

from __future__ import annotations

from playwright.sync_api import expect

from climate_atlas.anomalies import default_scope
from climate_atlas.views.ranking import ranking
from tools.atlas_page import AtlasPage


def test_indicators_are_ranked_and_a_row_opens_its_scatter(atlas: AtlasPage) -> None:
    atlas.choose("Map shows", "Trend 1993-2022 (°C per decade)")
    atlas.open_tab("Warming vs indicator")
    expect(atlas.page.get_by_text("rank correlation (ρ) of each indicator")).to_be_visible(
        timeout=60_000)
    expected = ranking(atlas.atlas, "trend", atlas.year(), default_scope(atlas.atlas))
    table = atlas.page.locator(".tabulator").filter(has_text="95% low")
    rows = table.locator(".tabulator-row")
    expect(rows).to_have_count(len(atlas.atlas.indicator_meta), timeout=60_000)
    def cell(row: int, field: str):
        return rows.nth(row).locator(f'.tabulator-cell[tabulator-field="{field}"]')

    expect(cell(0, "Indicator")).to_have_text(expected["indicator"].iat[0])
    expect(cell(0, "ρ")).to_have_text(f"{expected['rho'].iat[0]:.2f}")
    expect(cell(0, "95% low")).to_have_text(f"{expected['low'].iat[0]:.2f}")
    last = len(expected) - 1
    cell(last, "Indicator").click()
    code = expected["code"].iat[last]
    short = atlas.atlas.indicator_meta.at[code, "short_name"]
    atlas.page.wait_for_function(f"() => location.search.includes('indicator={code}')")
    atlas.wait_for_title(f"{short}: ", timeout_ms=60_000)  # the indicator chart shows it
