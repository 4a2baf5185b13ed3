"""Fixes to Panel's own runtime that the app cannot avoid, each with the Panel version it was
written for and why; applied once per session by `build_dashboard`, in both modes.

Panel 1.9.4's `panel.util.parse_query` turns a query value that passes `str.isdigit()` into an
int with `int()`, so a link such as `?year=%C2%B2` ('²'), `?ref=%E2%91%A0` ('①') or a value of
5,000 digits raises ValueError inside `pn.state.location`: under `panel serve` the session is never
built (a blank page), and in the browser the worker logs a traceback on every change of the
address. (holoviz/panel#5781 guarded the same function's JSON branch, not this one.) The app reads
links with its own total parser (links.parse_query) and never uses Panel's parsed `query_params`,
so Panel's parser is made total: a value it cannot convert stays the string it was.

Panel 1.9.4 also keeps every discarded session's document alive under `panel serve` when
notifications are on (the app turns them on there, for its "connection lost" notice). Bokeh discards
a session by first destroying its document, which Panel replaces with `_destroy_document`: that
empties every WeakKeyDictionary of `pn.state` keyed by the document, `_notifications` among them.
Only then do the session-destroyed callbacks run, and `state._destroy_session` finds no
notification area left to clean up, so its entry in `pn.state._views` (a plain dict) stays, holding
the NotificationArea, its model and the emptied Document: 503 documents were alive after 500
sessions had been discarded (holoviz/panel#8189 reports servers that grow until they die).
`forget_views_of` drops whatever `_views` still files under a discarded document;
session_log.release_on_discard calls it when Bokeh discards a session.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import panel
from bokeh.document import Document
from panel.io import location
from panel.io.state import state
from panel.util import parse_query as panel_parse_query

PANEL_VERSION = "1.9.4"  # the release these fixes are written for; revisit on any other


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


def forget_views_of(doc: Document) -> int:
    """Drop every view `pn.state` still files under `doc`, a discarded session's document (see
    above); return how many there were. Panel's own clean-up has run or runs independently: it
    removes its entries with `if ref in state._views`, and none of its `_cleanup` methods reads
    `_views`, so the order of the session-destroyed callbacks (a set in Bokeh) does not matter."""
    stale = [ref for ref, (_view, _root, view_doc, _comm) in state._views.items()
             if view_doc is doc]
    for ref in stale:
        del state._views[ref]
    return len(stale)
