"""Fixes to Panel's own runtime that the app cannot avoid, each with the Panel version it was
written for and why; applied once per session by `build_dashboard`, in both modes.

Panel 1.9.4's `panel.util.parse_query` turns a query value that passes `str.isdigit()` into an
int with `int()`, so a link such as `?year=%C2%B2` ('²'), `?ref=%E2%91%A0` ('①') or a value of
5,000 digits raises ValueError inside `pn.state.location`: under `panel serve` the session is never
built (a blank page), and in the browser the worker logs a traceback on every change of the
address. (holoviz/panel#5781 guarded the same function's JSON branch, not this one.) The app reads
links with its own total parser (links.parse_query) and never uses Panel's parsed `query_params`,
so Panel's parser is made total: a value it cannot convert stays the string it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import panel
from panel.io import location
from panel.util import parse_query as panel_parse_query

PANEL_VERSION = "1.9.4"  # the release whose parse_query this wraps; revisit on any other


def total_parse_query(query: str) -> dict[str, Any]:
    """Panel's parse_query, or, where it raises on a value, every value as a plain string."""
    try:
        return panel_parse_query(query)
    except ValueError:
        return dict(parse_qsl(query[1:]))


def apply_panel_fixes() -> None:
    """Point Panel's Location at the total query parser (idempotent).

    Raises RuntimeError under another Panel release: the fix must be checked against it."""
    if panel.__version__ != PANEL_VERSION:
        raise RuntimeError(f"climate_atlas.panel_fixes is written for Panel {PANEL_VERSION}, "
                           f"not {panel.__version__}: check whether parse_query still needs it")
    location.parse_query = total_parse_query
