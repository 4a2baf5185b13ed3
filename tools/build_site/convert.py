"""Stage: Panel's convert_app, in-process (the CLI has no --inline; convert_apps' spawn pool loses
in-process settings), with the edits of panel_patches.py. It pre-renders the app in this process,
which is where server-only or browser-incompatible imports show."""
from __future__ import annotations

import sys
from pathlib import Path

from tools.build_site.files import BuildError
from tools.build_site.panel_patches import PANEL_VERSION, configure_convert

SERVER_ONLY = ("climate_atlas.server_extras", "geoviews", "cartopy", "shapely", "pyproj")


def convert(app: Path, out: Path, requirements: list[str]) -> None:
    """out/index.html (the page) and out/<app>.js (the worker). Panel's install list `requirements`
    is replaced later by a loadPackage from the lock (runtime_pack.py)."""
    from panel.io import convert as pconv

    configure_convert(pconv)
    result = pconv.convert_app(
        str(app), out, requirements=requirements, runtime="pyodide-worker", prerender=True,
        http_patch=False, inline=True, compiled=False, panel_version=PANEL_VERSION, verbose=False)
    page, worker = out / f"{app.stem}.html", out / f"{app.stem}.js"
    if result is None or not page.exists() or not worker.exists():  # it prints "Failed to convert"
        raise BuildError(f"convert_app failed for {app} (see the message above)")
    page.rename(out / "index.html")
    leaked = [m for m in SERVER_ONLY if m in sys.modules]
    if leaked:
        raise BuildError(f"server-only modules imported by the pre-render: {leaked}")
    if "nh3" in sys.modules:
        raise BuildError("the pre-render used Panel's HTML sanitizer (ReactiveHTML / FastListTemplate); "
                         "nh3 has no wasm wheel, so the browser would fail: use plain components")
