# The verbs README.md shows. Everything a fresh machine lacks is installed by `setup`, idempotently;
# downloads are cached under ~/.cache/climate-atlas so a fresh clone on the same machine reuses them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CACHE := $(HOME)/.cache/climate-atlas
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 5006
export PIP_CACHE_DIR := $(CACHE)/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: FORCE setup run serve build test lint unit e2e data docker-test docker-build docker-stop \
	screenshots bench bench-smoke

setup: $(VENV)/.installed $(CHROMIUM)

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

data: $(VENV)/.installed
	$(PY) -m pipeline

# build/ is remade only when something it is made from changed (or a build option is set), so a
# second `make run` on an unchanged tree serves at once. Its inputs: the app, its data, the build
# code and the pins; tools/build_site replaces build/ atomically, so index.html is its last-made file.
BUILD_INPUTS := $(shell find app data/precomputed tools -type f -not -path '*/__pycache__/*' \
	-not -name '*.pyc') requirements.txt requirements-dev.txt pyproject.toml
BUILD_OPTIONS := $(CLIMATE_ATLAS_BYTECODE)$(CLIMATE_ATLAS_PY312)

build: build/index.html

build/index.html: $(VENV)/.installed $(BUILD_INPUTS) $(if $(BUILD_OPTIONS),FORCE)
	$(PY) -m tools.build_site

FORCE:

run: build
	$(PY) -m tools.servers --port $(PORT)

serve: $(VENV)/.installed
	@echo "Climate Atlas (panel serve): http://127.0.0.1:$(PORT)/main"
	$(VENV)/bin/panel serve app/main.py --address 127.0.0.1 --port $(PORT) \
		--allow-websocket-origin 127.0.0.1:$(PORT)

# On a fresh machine the venv's packages and Debian's chromium download at once (-j2): neither
# needs the other, and pip and apt take their own locks.
test:  # every stage, timed; the container image is built beside the others (scripts/test.sh)
	@$(MAKE) --no-print-directory -j2 setup
	@MAKE="$(MAKE)" scripts/test.sh

lint:
	$(VENV)/bin/ruff check .

# Both test stages on TEST_WORKERS processes (pytest-xdist); e2e a module per process, so each
# module still boots its page once per mode; unit by xdist_group (the pipeline's tests share one
# process and its one run of the pipeline), the rest test by test.
TEST_WORKERS ?= 2

unit:
	$(PY) -m pytest tests/unit -q -n $(TEST_WORKERS) --dist loadgroup

e2e:
	$(PY) -m pytest tests/e2e -q -n $(TEST_WORKERS) --dist loadfile

docker-test:  # the image on a debootstrap base, checked from outside (needs root: apt-get, dockerd)
	$(SUDO) $(PYTHON) docker/test.py

# make test's halves of docker-test: the image built beside the other stages, the daemon kept for
# the checks after them (docker-test then reuses both), then that daemon stopped.
docker-build:
	$(SUDO) $(PYTHON) docker/test.py --build-only --keep-daemon

docker-stop:
	$(SUDO) $(PYTHON) docker/test.py --stop-daemon

screenshots: setup build  # the README's pictures, from the static site, with the e2e fixtures
	$(PY) -m pytest tests/e2e/screenshots.py -q -k static

bench-smoke: setup build  # each bench variant becomes live on this machine (no timings)
	$(PY) -m bench smoke

# Under 20 minutes on 2 cores: as many of 5 browser runs as fit 10 minutes, the server's load test
# (a 60 s steady run), then up to 10 memory waves of 25 sessions until 19 minutes, at least two
# (`python -m bench waves` runs the 500 sessions of issue 22, about half an hour here).
bench: setup build  # timings and bytes against plain `panel convert`, the Pyodide floor, panel serve
	$(PY) -m bench all --budget 600 --seconds 60 --wave-size 25 --deadline 1140
