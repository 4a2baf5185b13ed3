"""Stage: the site's pyodide-lock.json. micropip and loadPackage look in the lock before any index,
so with every shipped wheel in it (sha256, imports, depends) the browser asks no index at all."""
from __future__ import annotations

from pathlib import Path

from tools.build_site.bytecode import SITE_PACKAGES, compile_in_place
from tools.build_site.dependencies import NOT_SHIPPED, ON_DEMAND
from tools.build_site.files import BuildError, sha256

SERVER_ONLY_PACKAGES = {"geoviews", "cartopy", "shapely", "pyproj"}


def write_lock(pyodide_dir: Path, official_lock: Path, added: list[Path],
               python312: str | None) -> dict:
    """Official lock + our wheels (`added`, the app's first), pruned to the files shipped; every
    dependency must resolve. Then every wheel is byte-compiled (the lock's import names are read
    from their sources). Returns {name: file name} of what the lock holds."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    spec = PyodideLockSpec.from_json(official_lock)
    # Same names replace the official entries (bokeh 3.6.0, narwhals 1.41.0, compiled markupsafe...)
    spec = add_wheels_to_spec(spec, added, base_path=pyodide_dir, ignore_missing_dependencies=True)
    panel = spec.packages["panel"]
    if not {"nh3", "panel-material-ui"} <= set(panel.depends):
        raise BuildError(f"panel's depends changed ({panel.depends}): revisit NOT_SHIPPED")
    # On-demand packages stay in the lock but out of every `depends` (the app's names holoviews,
    # bokeh's pillow), so loading the boot's packages never pulls them in.
    for p in spec.packages.values():
        p.depends = [d for d in p.depends if d not in NOT_SHIPPED and d not in ON_DEMAND]
    spec.packages = {k: p for k, p in spec.packages.items() if (pyodide_dir / p.file_name).exists()}
    for p in spec.packages.values():
        missing = set(p.depends) - spec.packages.keys()
        if missing:
            raise BuildError(f"{p.name} depends on {missing}, which the site does not ship")
        if sha256(pyodide_dir / p.file_name) != p.sha256:
            raise BuildError(f"{p.file_name}: its sha256 is not the lock's")
    server_only = SERVER_ONLY_PACKAGES & spec.packages.keys()
    if server_only:
        raise BuildError(f"the lock ships server-only packages: {sorted(server_only)}")
    for p in spec.packages.values():  # after the sha256 check above: Pyodide's own files are verified first
        if python312:
            path = pyodide_dir / p.file_name
            compile_in_place(path, SITE_PACKAGES, python312)
            p.sha256 = sha256(path)
    spec.to_json(pyodide_dir / "pyodide-lock.json")
    return {p.name: p.file_name for p in spec.packages.values()}
