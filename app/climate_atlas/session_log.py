"""One log line per session event under `panel serve`, naming the instance and the session.

Behind a sticky router (Heroku's session affinity, or HAProxy in docker/scale.py) every request of a
Bokeh session must reach the process that holds the session. Neither Bokeh nor Panel logs a session
id, so with several instances nobody could tell from the logs where a session went. Each line says
the instance (the host name: the container id in Docker, the dyno's id on Heroku), a short digest of
the session id (the id itself lets anyone join an unsigned session, so it never goes to the log;
a client that knows its id computes the same digest), and what happened: the page was made, the
websocket connected (Panel's onload needs the websocket), the selection changed, the session was
discarded (Bokeh drops a session its websocket left, after --unused-session-lifetime).
"""

from __future__ import annotations

import hashlib
import logging
import socket
from urllib.parse import urlencode

import panel as pn

from climate_atlas.state import AtlasState

LOGGER = logging.getLogger("climate_atlas.sessions")
LOGGER.setLevel(logging.INFO)  # `panel serve` sets only Bokeh's logger to INFO; the root stays WARNING


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
