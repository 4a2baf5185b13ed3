"""Panel's own reading of the address never fails on a link our parser accepts, and a discarded
session's document is let go."""

from __future__ import annotations

import gc
import weakref
from functools import partial
from types import SimpleNamespace

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.server.contexts import BokehSessionContext
from panel.io.document import _destroy_document
from panel.io.location import Location
from panel.io.state import set_curdoc, state

from climate_atlas.panel_fixes import apply_panel_fixes, forget_views_of


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


def _served_document() -> tuple[Document, BokehSessionContext]:
    """A page as `panel serve` builds it, with notifications on as the app has them there: a
    document with a session context, whose destroy is Panel's (panel/io/application.py)."""
    doc = Document()
    context = BokehSessionContext("a-session-id", None, doc)
    context._request = SimpleNamespace(arguments={}, cookies={}, headers={})
    doc._session_context = weakref.ref(context)
    doc.destroy = partial(_destroy_document, doc)
    with pn.config.set(notifications=True), set_curdoc(doc):
        pn.pane.Markdown("the page").server_doc(doc)
    return doc, context


def _discard(doc: Document, context: BokehSessionContext) -> None:
    """What Bokeh does when it discards an unused session: destroy the document, then run the
    session-destroyed callbacks (bokeh/server/contexts.py, document_lifecycle.py)."""
    doc.destroy(None)
    callbacks, doc.session_destroyed_callbacks = doc.session_destroyed_callbacks, set()
    for callback in callbacks:
        callback(context)


def _views_of(doc: Document) -> list[str]:
    return [type(view).__name__ for view, _root, view_doc, _comm in state._views.values()
            if view_doc is doc]


def test_panel_still_keeps_a_discarded_sessions_notification_area() -> None:
    """Panel's leak, as the app meets it; when this fails, Panel cleans up after itself and
    forget_views_of (and its call in session_log) can go."""
    doc, context = _served_document()
    try:
        _discard(doc, context)
        assert _views_of(doc) == ["NotificationArea"]
    finally:
        forget_views_of(doc)
        state.cancel_task("gc.collect")  # the collection Panel's destroy schedules


def test_forget_views_of_lets_the_document_go() -> None:
    doc, context = _served_document()
    _discard(doc, context)
    state.cancel_task("gc.collect")
    assert forget_views_of(doc) == 1
    assert _views_of(doc) == []
    alive = weakref.ref(doc)
    del doc, context
    gc.collect()
    assert alive() is None, "the discarded session's document is still referenced"


def test_forget_views_of_leaves_other_documents_alone() -> None:
    kept, _ = _served_document()
    gone, context = _served_document()
    _discard(gone, context)
    state.cancel_task("gc.collect")
    forget_views_of(gone)
    assert sorted(_views_of(kept)) == ["Markdown", "NotificationArea"]
    forget_views_of(kept)
