"""Serve-only session hooks: one log line per session event, and memory given back when sessions end.

Behind a sticky router (Heroku's session affinity, or HAProxy in docker/scale.py) every request of a
Bokeh session must reach the process that holds the session. Neither Bokeh nor Panel logs a session
id, so with several instances nobody could tell from the logs where a session went. Each line says
the instance (the host name: the container id in Docker, the dyno's id on Heroku), a short digest of
the session id (the id itself lets anyone join an unsigned session, so it never goes to the log;
a client that knows its id computes the same digest), and what happened: the page was made, the
websocket connected (Panel's onload needs the websocket), the selection changed, the session was
discarded (Bokeh drops a session its websocket left, after --unused-session-lifetime).

Memory over time (README "Scaling"): when Bokeh discards a session, `release_on_discard` drops what
Panel would otherwise keep of it for good (panel_fixes.forget_views_of), and once per batch of
discards hands the freed heap back to the operating system with glibc's malloc_trim. The image runs
Python with PYTHONMALLOC=malloc (Dockerfile) so that its objects live in glibc's heap, where the trim
reaches them: pymalloc returns a 1 MiB arena only once every object in it is gone, and after a peak
of sessions a few survivors pin most of them (measured: 91 MB of live objects held 331 MB of arenas).
Each trim logs `instance=<host> memory rss_mb=<after> untrimmed_mb=<before> trim_ms=<time>
sessions=<open> documents=<alive>`: more documents alive than sessions open means that discarded
sessions leak again (docker/scale.py checks it). Only `panel serve` calls these hooks (layout.py).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import os
import socket
import time
import weakref
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

import panel as pn
from bokeh.document import Document

from climate_atlas.panel_fixes import forget_views_of
from climate_atlas.state import AtlasState

LOGGER = logging.getLogger("climate_atlas.sessions")
LOGGER.setLevel(logging.INFO)  # `panel serve` sets only Bokeh's logger to INFO; the root stays WARNING
# Bokeh discards unused sessions in batches (every --check-unused-sessions); their memory is handed
# back once a batch is done, not once per session (a trim walks the whole heap: tens of ms).
TRIM_DELAY_S = 1.0


def session_digest(session_id: str) -> str:
    """The 12 hex characters the log shows for a session id (docker/probe.py computes the same)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


def log_session(state: AtlasState) -> None:
    """Log this session's page now, its websocket on load and each change of selection."""
    context = pn.state.curdoc.session_context if pn.state.curdoc else None
    if context is None:  # no server session: the static site's pre-render or the Pyodide worker
        return
    prefix = f"instance={socket.gethostname()} session={session_digest(context.id)}"
    request = context.request
    # Path and arguments, not the raw URI: Bokeh strips a `bokeh-session-id` argument from these.
    query = urlencode([(k, v.decode(errors="replace")) for k, values in request.arguments.items()
                       for v in values]) if request is not None else ""
    LOGGER.info("%s page %s%s", prefix, getattr(request, "path", ""), "?" + query if query else "")
    pn.state.onload(lambda: LOGGER.info("%s websocket", prefix))
    pn.state.on_session_destroyed(lambda _context: LOGGER.info("%s discarded", prefix))
    state.param.watch(
        lambda event: LOGGER.info("%s change selection=%s", prefix, ",".join(event.new)),
        "selection")


def release_on_discard() -> None:
    """Under `panel serve`: when Bokeh discards this session, let go of what Panel keeps of it and,
    once the batch of discards is done, give the freed memory back (see the module's docstring)."""
    doc = pn.state.curdoc
    context = doc.session_context if doc is not None else None
    if context is None:  # no server session: the static site's pre-render, the Pyodide worker
        return
    session_id = context.id
    MEMORY.track(session_id, doc)
    pn.state.on_session_destroyed(lambda _context: MEMORY.discarded(session_id, doc))


class _Memory:
    """The process's sessions and their documents, and the trim that follows discards."""

    def __init__(self) -> None:
        self.open_sessions: set[str] = set()  # made by this process, not yet discarded
        self.documents: weakref.WeakSet[Document] = weakref.WeakSet()  # theirs, while still alive
        self.scheduled = False

    def track(self, session_id: str, doc: Document) -> None:
        self.open_sessions.add(session_id)
        self.documents.add(doc)

    def discarded(self, session_id: str, doc: Document) -> None:
        forget_views_of(doc)
        self.open_sessions.discard(session_id)
        if not self.scheduled:  # one release per batch of discards
            # Tornado only here: the browser has none, and imports this module (never calls this).
            from tornado.ioloop import IOLoop

            self.scheduled = True
            IOLoop.current().call_later(TRIM_DELAY_S, self.release)

    def release(self) -> dict[str, float]:
        """Collect the discarded sessions' cycles, trim the heap, log one `memory` line; return
        its figures."""
        self.scheduled = False
        gc.collect()  # cycles left from the discarded documents, before counting and trimming
        untrimmed, started = rss_mb(), time.perf_counter()
        trim = malloc_trim()
        if trim is not None:
            trim(0)
        figures = {"rss_mb": rss_mb(), "untrimmed_mb": untrimmed,
                   "trim_ms": (time.perf_counter() - started) * 1000,
                   "sessions": len(self.open_sessions), "documents": len(self.documents)}
        LOGGER.info("instance=%s memory rss_mb=%.0f untrimmed_mb=%.0f trim_ms=%.0f sessions=%d "
                    "documents=%d", socket.gethostname(), *figures.values())
        return figures


MEMORY = _Memory()


def rss_mb() -> float:
    """This process's resident memory in MB (Linux's /proc), NaN where there is none."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return math.nan
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim(pad), which returns the free pages of every malloc arena to the
    operating system; None where the C library has none (musl, macOS). ctypes is imported here,
    not at the top: the browser build imports this module but never calls the serve-only hooks."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
