#!/bin/sh
# Start-up check of the Climate Atlas image (run by its CMD before `exec panel serve`).
# Refuses to start unless BOKEH_ALLOW_WS_ORIGIN names the origins users open the app from: with
# no allow-list Bokeh would accept only localhost, and '*' would let any web page drive a session.
fail() {
    echo "climate-atlas: $1" >&2
    echo "climate-atlas: set BOKEH_ALLOW_WS_ORIGIN to the host[:port] in the browser's address bar," >&2
    echo "climate-atlas:   comma-separated if several, e.g. -e BOKEH_ALLOW_WS_ORIGIN=127.0.0.1:8080" >&2
    echo "climate-atlas:   on Heroku: heroku config:set BOKEH_ALLOW_WS_ORIGIN=<domain from 'heroku domains'>" >&2
    exit 64
}

origins="${BOKEH_ALLOW_WS_ORIGIN:-}"
[ -n "$origins" ] || fail "BOKEH_ALLOW_WS_ORIGIN is not set; refusing to start."
case "$origins" in
    *'*'*) fail "BOKEH_ALLOW_WS_ORIGIN='$origins' contains '*', which would accept any origin." ;;
    *://*|*/*) fail "BOKEH_ALLOW_WS_ORIGIN='$origins' must be host[:port] only, no scheme or path." ;;
esac
case "${PORT:-}" in
    ''|*[!0-9]*) echo "climate-atlas: PORT='${PORT:-}' is not a port number." >&2; exit 64 ;;
esac
exit 0
