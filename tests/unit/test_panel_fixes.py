"""Panel's own reading of the address never fails on a link our parser accepts."""

from __future__ import annotations

import pytest
from panel.io.location import Location

from climate_atlas.panel_fixes import apply_panel_fixes


@pytest.mark.parametrize("search", ["?countries=FRA&year=%C2%B2", "?ref=%E2%91%A0",
                                    "?utm_id=" + "1" * 5000, "?year=1999&year=%C2%B2"])
def test_panel_reads_any_address(search: str) -> None:
    apply_panel_fixes()
    params = Location(search=search).query_params
    assert all(isinstance(key, str) for key in params)


def test_panel_still_converts_what_it_can() -> None:
    apply_panel_fixes()
    assert Location(search="?year=1999&metric=trend").query_params == {"year": 1999,
                                                                       "metric": "trend"}
