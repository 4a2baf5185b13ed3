"""The page-wide accessibility fixes reach every pane, table and tab set, however deeply nested
(tests/e2e/test_accessibility.py checks the result in the browser with axe-core)."""

from __future__ import annotations

import pandas as pd
import panel as pn

from climate_atlas.a11y import (
    CODE_CSS,
    HIDDEN_TAB_CSS,
    PAGER_CSS,
    WARNING_CSS,
    make_accessible,
    named_header_filters,
)

FRAME = pd.DataFrame({"country": ["France"], "count": [3], "anomaly": [1.25]})


def test_each_header_filter_is_named_after_its_column_and_keeps_its_editor() -> None:
    assert named_header_filters(FRAME) == {
        "country": {"type": "input", "elementAttributes": {"aria-label": "Filter country"}},
        "count": {"type": "number", "step": 1, "elementAttributes": {"aria-label": "Filter count"}},
        "anomaly": {"type": "number", "step": 0.01,
                    "elementAttributes": {"aria-label": "Filter anomaly"}},
    }


def test_fixes_reach_nested_panes_tables_and_tabs() -> None:
    text = pn.pane.Markdown("Run `make data`.")
    notice = pn.pane.Alert("Unknown country code QQQ was ignored.", alert_type="warning")
    table = pn.widgets.Tabulator(FRAME, header_filters=True)
    tabs = pn.Tabs(("Table", pn.Column(pn.Row(text), table)))
    page = make_accessible(pn.Column(notice, tabs))
    assert page.objects == [notice, tabs]
    assert CODE_CSS in text.stylesheets
    assert WARNING_CSS in notice.stylesheets
    assert PAGER_CSS in table.stylesheets
    assert HIDDEN_TAB_CSS in tabs.stylesheets
    assert table.header_filters == named_header_filters(FRAME)


def test_a_table_with_chosen_filters_keeps_them() -> None:
    table = pn.widgets.Tabulator(FRAME, header_filters={"country": "input"})
    make_accessible(pn.Column(table))
    assert table.header_filters == {"country": "input"}
