#!/usr/bin/env bash
# Regenerate requirements-server.lock from requirements-server.txt: exact pins, sha256 of every
# published file of each pin (so one lock serves every manylinux variant), setuptools included.
# Run it on CPython 3.11 / Linux x86_64, the image's interpreter and platform: environment
# markers are resolved for the interpreter that runs pip-compile.
# pip-tools lives in its own venv under the cache so the dev venv is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/climate-atlas"
TOOLS="$CACHE/piptools-venv"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "lock on Python 3.11, the image interpreter"'
if [ ! -x "$TOOLS/bin/pip-compile" ]; then
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q pip-tools==7.6.2
fi
# Resolve against the package index only: ignore this machine's pip.conf (local wheel folders,
# constraint files) so the lock does not depend on what happens to lie on the host.
CUSTOM_COMPILE_COMMAND=docker/lock.sh PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_CONSTRAINT= \
    "$TOOLS/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links \
    --output-file requirements-server.lock requirements-server.txt
echo "wrote requirements-server.lock ($(grep -c '==' requirements-server.lock) pins)"
