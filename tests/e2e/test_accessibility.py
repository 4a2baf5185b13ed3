"""axe-core audits the live dashboard in both modes, as it opens and with each tab open, and fails on
any serious or critical violation (tests/e2e/axe_audit.py says which script and which rules).

The page opens on a link with an unknown country code, so the notice (an Alert) is on screen and two
countries are selected, with their remove buttons enabled: those are audited too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e.axe_audit import audit, checked_nodes, in_shadow_dom
from tools.atlas_page import SCATTER_TITLE_MARKER, AtlasPage

SCATTER_TIMEOUT_MS = 120_000  # the static site loads HoloViews' wheel when the tab first opens


@pytest.fixture(scope="module")
def atlas_query() -> str:
    return "?countries=FRA,DEU,QQQ"


def _assert_no_serious_violations(atlas: AtlasPage, where: str) -> None:
    report = audit(atlas.page)
    assert report.failing == [], report.describe(f"{where} ({atlas.mode})")


def test_the_live_page_as_it_opens(atlas: AtlasPage) -> None:
    # the notice is announced to a screen reader (a11y.ANNOUNCE_ALERTS_JS), not only shown
    expect(atlas.page.get_by_role("alert")).to_contain_text("Unknown country code 'QQQ'")
    expect(atlas.page.get_by_role("button", name="✕ Germany")).to_be_enabled()
    _assert_no_serious_violations(atlas, "the page as it opens")


def _table_shown(atlas: AtlasPage) -> None:
    expect(atlas.page.get_by_label("Filter country", exact=True)).to_be_visible()


def _scatter_shown(atlas: AtlasPage) -> None:
    atlas.wait_for_title(SCATTER_TITLE_MARKER, timeout_ms=SCATTER_TIMEOUT_MS)


def _sources_shown(atlas: AtlasPage) -> None:
    expect(atlas.page.get_by_text("Every number on this page comes from")).to_be_visible()


TABS: dict[str, Callable[[AtlasPage], None]] = {
    "Table": _table_shown,
    "Warming vs indicator": _scatter_shown,
    "Sources": _sources_shown,
}


@pytest.mark.parametrize("tab", list(TABS))
def test_each_tab(atlas: AtlasPage, tab: str) -> None:
    atlas.open_tab(tab)
    TABS[tab](atlas)
    _assert_no_serious_violations(atlas, f"the {tab} tab")


def test_every_exclusion_is_still_needed(atlas: AtlasPage) -> None:
    """An exclusion that no longer matches anything (upstream fixed it) must go."""
    atlas.open_tab("Table")
    _table_shown(atlas)
    unused = audit(atlas.page).unused()
    assert unused == [], f"remove these exclusions from tests/e2e/axe_audit.py: {unused}"


def test_the_audit_reaches_into_bokeh_shadow_roots(atlas: AtlasPage) -> None:
    """Bokeh draws every widget inside a shadow root; an audit that skipped them would pass
    anything. The search box and the year slider's handle are both examined, by their paths."""
    checked = checked_nodes(atlas.page, ["label", "aria-input-field-name"])
    search = [n for n in checked["label"] if 'placeholder="Name, ISO3' in n["html"]]
    handles = [n for n in checked["aria-input-field-name"] if 'role="slider"' in n["html"]]
    assert len(search) == 1 and in_shadow_dom(search[0]), checked["label"]
    assert len(handles) == 1 and in_shadow_dom(handles[0]), checked["aria-input-field-name"]


def test_inputs_have_names_a_screen_reader_reads(atlas: AtlasPage) -> None:
    """What axe's label rules check, as a user's tools see it: each control found by its name."""
    page = atlas.page
    expect(page.get_by_role("slider", name="Year")).to_have_count(1)
    expect(page.get_by_role("combobox", name="World Bank indicator")).to_have_count(1)
    atlas.open_tab("Table")
    for column in ("country", "iso3", "region", "map metric", "indicator"):
        expect(page.get_by_label(f"Filter {column}", exact=True)).to_have_count(1)


def test_headings_go_down_one_level_at_a_time(atlas: AtlasPage) -> None:
    """The page's h1, then the selected country's h2 (axe's heading-order is only 'moderate', so
    the audit above would let a skipped level through)."""
    page = atlas.page
    expect(page.get_by_role("heading", level=1, name="Climate Atlas")).to_have_count(1)
    expect(page.get_by_role("heading", level=2, name="Selected: Germany (DEU)")).to_have_count(1)
    assert [v["id"] for v in audit(page).violations if v["id"] == "heading-order"] == []


def test_the_keyboard_alone_opens_each_tab(atlas: AtlasPage) -> None:
    """Tab headers are tabs to assistive technology, and Enter, Space and the arrow keys work."""
    page = atlas.page
    tablist = page.get_by_role("tablist")
    expect(tablist).to_have_count(1)
    sources = tablist.get_by_role("tab", name="Sources")
    sources.focus()
    page.keyboard.press("Enter")
    expect(sources).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("Every number on this page comes from")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    scatter = tablist.get_by_role("tab", name="Warming vs indicator")
    expect(scatter).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press(" ")
    table = tablist.get_by_role("tab", name="Table")
    expect(table).to_have_attribute("aria-selected", "true")
    expect(sources).to_have_attribute("aria-selected", "false")
