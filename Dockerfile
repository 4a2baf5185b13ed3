# Climate Atlas under `panel serve`, for Heroku's container stack or any Docker host.
# Run:   docker run -e PORT=8080 -e BOKEH_ALLOW_WS_ORIGIN=127.0.0.1:8080 -p 127.0.0.1:8080:8080 IMAGE
# Heroku sets $PORT; BOKEH_ALLOW_WS_ORIGIN (host[:port] users open, comma-separated) is required.
# Tests pass their own base (--build-arg BASE_IMAGE=...): no image registry is reachable there.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Memory over time (README "Scaling"; checked by docker/scale.py):
# PYTHONMALLOC=malloc: Python's objects go to glibc's malloc instead of pymalloc. pymalloc hands a
#   1 MiB arena back only when every object in it is gone, so after a peak of sessions RSS stayed
#   near the peak (+23% to +54% over the first wave's); in glibc's heap the app's malloc_trim after
#   discarded sessions (climate_atlas/session_log.py) returns the freed pages: RSS comes back to
#   within 2% of where it was after the first 50 sessions. Costs about 14% on building a session's
#   page (0.49 -> 0.56 s), nothing measurable on a change.
# MALLOC_ARENA_MAX=2: glibc gives threads that allocate at once arenas of their own, up to 8 per
#   core, each fragmenting and holding free memory apart. panel serve runs 2 threads today; the cap
#   keeps it at two arenas if more come (Panel's --num-threads pool, executors). No cost measured.
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PORT=5006 \
    CLIMATE_ATLAS_TARGET=server \
    CLIMATE_ATLAS_SERVER_DATA=/srv/climate-atlas/data/server \
    PYTHONMALLOC=malloc \
    MALLOC_ARENA_MAX=2

# Dependencies first, so that editing the app reuses this layer. Every file is pinned by sha256
# (the lock covers setuptools, the build backend used below); wheels only, nothing is compiled.
COPY requirements-server.lock /tmp/requirements-server.lock
RUN python3 -m venv /opt/venv \
    && pip install --no-cache-dir --require-hashes --only-binary=:all: \
        -r /tmp/requirements-server.lock \
    && rm /tmp/requirements-server.lock

# The app package, built from the same pyproject mapping as the editable install and the browser
# wheel (data/precomputed -> climate_atlas/precomputed). No build isolation: the backend is the
# hashed setuptools above, not a fresh unpinned download.
WORKDIR /srv/climate-atlas
COPY pyproject.toml /tmp/src/pyproject.toml
COPY app /tmp/src/app
COPY data/precomputed /tmp/src/data/precomputed
# Only main.py stays beside the server: Bokeh puts the script's folder first on sys.path, and a
# copy of the package sources there would shadow the installed package (which has the data).
RUN pip install --no-cache-dir --no-deps --no-build-isolation /tmp/src \
    && mkdir app \
    && cp /tmp/src/app/main.py app/main.py \
    && rm -rf /tmp/src

# Server-only lon/lat geometry (110m, 50m) that only climate_atlas.server_extras reads, found
# through CLIMATE_ATLAS_SERVER_DATA above. It is in the image only, never in the wheel.
COPY data/server data/server
COPY docker/check-env.sh /usr/local/bin/climate-atlas-check-env

RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin atlas
USER 10001:10001

EXPOSE 5006
# Panel's liveness endpoint builds one session of the app: a real health check.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s \
    CMD ["sh", "-c", "python -c \"import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/liveness?endpoint=/main' % os.environ['PORT'], timeout=9)\""]
# exec: panel serve becomes PID 1 and gets docker stop's SIGTERM. The check refuses to start
# without an explicit websocket origin allow-list (Bokeh reads BOKEH_ALLOW_WS_ORIGIN itself).
# --warm runs the app once before the port opens, so the first visitor does not pay the imports
# and data loading (about 1 s later first 200, about 3 s faster first page).
# --use-xheaders: behind Heroku's router, the client's scheme and address come from X-Forwarded-*.
# Scaling (README "Scaling"; tested through HAProxy by docker/scale.py):
# --keep-alive 30000: a websocket ping every 30 s, below the 55 s after which Heroku's router (and
#   docker/haproxy.cfg's `timeout tunnel`) closes a connection that carried nothing.
# --unused-session-lifetime 30000 --check-unused-sessions 10000: a session with no websocket (its
#   tab closed, or the page never connected) is discarded 30-40 s later, so memory stays flat
#   (UNUSED_SESSION_LIFETIME_MS and CHECK_UNUSED_SESSIONS_MS set others: docker/scale.py's
#   instances discard within seconds, so its waits for discarded sessions are short).
# --websocket-max-message-size 8388608: a browser sends widget changes of a few kB, and an upload
#   of "Your data" (at most 5 MB, base64 in one message: 6.7 MB); 8 MiB (Bokeh allows 20 MB) cuts
#   a client that sends more (close code 1009, logged) before it is buffered.
CMD ["sh", "-c", "climate-atlas-check-env && exec panel serve app/main.py --address 0.0.0.0 --port \"$PORT\" --liveness --warm --use-xheaders --keep-alive 30000 --unused-session-lifetime ${UNUSED_SESSION_LIFETIME_MS:-30000} --check-unused-sessions ${CHECK_UNUSED_SESSIONS_MS:-10000} --websocket-max-message-size 8388608"]
