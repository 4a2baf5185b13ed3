"""The serve-only session hooks: a discarded session is let go, then the heap is trimmed and one
`memory` line says how much is resident and how many sessions and documents are alive."""

from __future__ import annotations

import ast
import asyncio
import gc
import logging
import weakref
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.server.contexts import BokehSessionContext
from panel.io.document import _destroy_document
from panel.io.state import set_curdoc, state

from bench.load import MEMORY_LINE
from climate_atlas import session_log
from climate_atlas.session_log import TRIM_DELAY_S, _Memory, malloc_trim, release_on_discard


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> _Memory:
    fresh = _Memory()
    monkeypatch.setattr(session_log, "MEMORY", fresh)
    return fresh


def _served_page(session_id: str) -> tuple[Document, BokehSessionContext]:
    """A session's document as `panel serve` makes it (Panel's destroy, notifications on), with the
    hook registered as build_dashboard registers it."""
    doc = Document()
    context = BokehSessionContext(session_id, None, doc)
    context._request = SimpleNamespace(arguments={}, cookies={}, headers={})
    doc._session_context = weakref.ref(context)
    doc.destroy = partial(_destroy_document, doc)
    with pn.config.set(notifications=True), set_curdoc(doc):
        pn.pane.Markdown("the page").server_doc(doc)
        release_on_discard()
    return doc, context


def _discard(doc: Document, context: BokehSessionContext) -> None:
    """As Bokeh discards a session: the document destroyed, then the destroyed callbacks."""
    doc.destroy(None)
    callbacks, doc.session_destroyed_callbacks = doc.session_destroyed_callbacks, set()
    for callback in callbacks:
        callback(context)
    state.cancel_task("gc.collect")  # the collection Panel's destroy schedules


def test_a_discarded_session_is_let_go_then_the_heap_trimmed(
        memory: _Memory, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[str]:
        kept, _ = _served_page("kept")
        doc, context = _served_page("discarded")
        assert memory.open_sessions == {"kept", "discarded"} and len(memory.documents) == 2
        alive = weakref.ref(doc)
        _discard(doc, context)
        del doc, context
        await asyncio.sleep(TRIM_DELAY_S + 0.5)  # the release follows the batch of discards
        assert alive() is None, "the discarded session's document is still referenced"
        return [r.getMessage() for r in caplog.records if " memory " in r.getMessage()]

    with caplog.at_level(logging.INFO, logger="climate_atlas.sessions"):
        lines = asyncio.run(scenario())
    assert len(lines) == 1, lines
    rss_mb, untrimmed_mb, _trim_ms, sessions, documents = map(int, MEMORY_LINE.search(
        lines[0]).groups())
    assert (sessions, documents) == (1, 1)
    assert 0 < rss_mb <= untrimmed_mb + 1


def test_no_server_session_no_hook(memory: _Memory) -> None:
    """The static site's pre-render and the Pyodide worker have no session: nothing to track."""
    with set_curdoc(Document()):
        release_on_discard()
    assert not memory.open_sessions and not memory.documents


def test_release_logs_its_figures(memory: _Memory) -> None:
    figures = memory.release()
    assert set(figures) == {"rss_mb", "untrimmed_mb", "trim_ms", "sessions", "documents"}
    assert figures["rss_mb"] > 0 and figures["sessions"] == figures["documents"] == 0


def test_glibc_has_malloc_trim() -> None:
    # The image and this machine run glibc; elsewhere (musl, macOS) the hook only logs.
    trim = malloc_trim()
    assert trim is not None
    gc.collect()
    assert trim(0) in (0, 1)


def test_the_browser_can_import_it() -> None:
    """layout.py imports this module in the browser too (it calls the hooks only under `panel
    serve`): Tornado (not in the browser's wheels) and ctypes are imported inside the functions
    that use them, never at the top."""
    tree = ast.parse(Path(session_log.__file__).read_text())
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import)
           for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module}
    assert not top & {"tornado", "ctypes"}, top
