"""Which of the two deployments this process renders for, decided in exactly one place.

The static build pre-renders the page under CPython, in a venv where GeoViews may be installed for the
server tests; guessing the mode from the interpreter would leak GeoViews models into the offline page.
So the builder says `CLIMATE_ATLAS_TARGET=browser` explicitly, and Pyodide is always the browser.
"""

import os
import sys
from typing import Literal

Target = Literal["browser", "server"]
ENV_VAR = "CLIMATE_ATLAS_TARGET"
_LOADED: set[str] = set()  # packages load_on_demand has loaded in this process
# Set to "answers" by the static build (tools/build_site/), whose page and data files the
# pre-render's callbacks need; the benchmark's baseline, Panel's plain output, does not set it.
PRERENDER_VAR = "CLIMATE_ATLAS_PRERENDER"


def target() -> Target:
    """Return "browser" in Pyodide or when the builder asks for it, else "server"."""
    if sys.platform == "emscripten":
        return "browser"
    value = os.environ.get(ENV_VAR, "server")
    if value not in ("browser", "server"):
        raise ValueError(f"{ENV_VAR} must be 'browser' or 'server', not {value!r}")
    return value  # type: ignore[return-value]


def prerendering() -> bool:
    """Whether this process draws the static site's pre-render: the page as the builder renders it
    under CPython, shown until Python is live in the visitor's browser. Only that document carries
    the BokehJS callbacks that answer before Python (views/prerender.py); the live document in
    Pyodide and every `panel serve` session carry none."""
    return (target() == "browser" and sys.platform != "emscripten"
            and os.environ.get(PRERENDER_VAR) == "answers")


async def load_on_demand(package: str) -> None:
    """Load a package the static site ships but does not load at boot (ON_DEMAND in
    tools/build_site/), with its dependencies, from the site's own lock. Elsewhere it is installed.

    Once per package: Pyodide 0.27.7 starts loading an already-loaded wheel again when asked twice
    (a reopened dynamic tab asks again) and that second load never settled, which stalled the
    session's events behind it."""
    if sys.platform == "emscripten" and package not in _LOADED:
        import pyodide_js  # the Pyodide runtime's JS API, present only in the browser

        await pyodide_js.loadPackage(package)
        _LOADED.add(package)
