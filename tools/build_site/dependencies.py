"""Stage: the app as a wheel, and the walk of its dependency tree to what the browser needs."""
from __future__ import annotations

import importlib.metadata as md
import shutil
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools.build_site.files import PIP, run

# What the site ships: the app's own dependencies plus these.
BROWSER_ROOTS = ("panel", "holoviews")
# Shipped but not loaded at boot; the app loads each through the lock where it needs it
# (target.load_on_demand), and no lock entry names one as a dependency (lock.py), so nothing else
# pulls it in. HoloViews draws only the scatter, whose tab loads it (with its own dependencies) when
# first opened (views/scatter.py): about 1 s of a cold start. Pillow (1.1 MB) is in the lock only
# because bokeh's metadata names it; the page's code imports PIL nowhere but in the warming stripes'
# PNG download, which loads it at its first click (layout.py `_stripes`).
ON_DEMAND = {"holoviews", "pillow"}
# Taken from Pyodide's own (compiled or patched) set, versions fixed by the official lock.
FROM_PYODIDE = {"numpy", "pandas", "contourpy", "pillow", "packaging",
                "python-dateutil", "pytz", "six"}
# Named by panel's metadata but not shipped: nh3 is compiled with no wasm wheel (so the app must not
# use ReactiveHTML/FastListTemplate, whose sanitizer imports it: checked after the pre-render);
# panel-material-ui is an optional widget set the app does not use; requests (and its four
# dependencies) is imported only by panel.compiler (`panel bundle`), tqdm only by the optional Tqdm
# widget: 0.55 MB and 6 requests less per cold load.
NOT_SHIPPED = {"nh3", "panel-material-ui", "requests", "tqdm"}
# Marker environment of Pyodide 0.27.7 (CPython 3.12 on emscripten) for dependency markers.
PYODIDE_MARKERS = {"sys_platform": "emscripten", "platform_system": "Emscripten",
                   "platform_machine": "wasm32", "python_version": "3.12",
                   "python_full_version": "3.12.7", "implementation_name": "cpython", "extra": ""}


def app_wheel(root: Path, dest: Path) -> Path:
    """The app as a wheel. Built from a copy: setuptools writes build/ and *.egg-info in its source
    tree, and build/ is our output folder."""
    skip = shutil.ignore_patterns(".git", ".venv", "build", "build.tmp", "tests", "bench",
                                  "__pycache__", "*.egg-info", ".pytest_cache", "node_modules")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(root, src, ignore=skip)
        run(*PIP, "wheel", "--no-deps", src, "-w", Path(tmp) / "out")
        wheel = next((Path(tmp) / "out").glob("*.whl"))
        return Path(shutil.copy(wheel, dest / wheel.name))


def marker_ok(req: Requirement) -> bool:
    return req.marker is None or req.marker.evaluate(PYODIDE_MARKERS)


def browser_packages(app_wheel: Path, official: dict, not_shipped: set[str] = NOT_SHIPPED,
                     ) -> tuple[dict[str, str], set[str]]:
    """Walk the dependency tree: pure packages pinned to this venv's versions, so the pre-render and
    the browser run the same code (never the index's newest), plus the names taken from Pyodide.
    `not_shipped`: names left out with their dependencies (the benchmark's baseline leaves out fewer)."""
    with zipfile.ZipFile(app_wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        app_reqs = [Requirement(line.split(":", 1)[1]) for line in
                    z.read(meta).decode().splitlines() if line.startswith("Requires-Dist:")]
    todo = [canonicalize_name(r.name) for r in app_reqs if marker_ok(r)] + list(BROWSER_ROOTS)
    pure: dict[str, str] = {}
    pyodide: set[str] = set()
    while todo:
        name = todo.pop()
        if name in pure or name in pyodide or name in not_shipped:
            continue
        if name in FROM_PYODIDE:
            pyodide.add(name)
            todo += official[name]["depends"]
        else:
            pure[name] = md.version(name)
            reqs = [Requirement(r) for r in md.requires(name) or []]
            todo += [canonicalize_name(r.name) for r in reqs if marker_ok(r)]
    return pure, pyodide
