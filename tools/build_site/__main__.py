"""`make build`: the static site's stages, in order (the package docstring says what it makes)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from tools import build_site
from tools.build_site.bytecode import STDLIB, compile_in_place, find_python312
from tools.build_site.carrier import compiled_wheels
from tools.build_site.convert import convert
from tools.build_site.csp import add_content_security_policy
from tools.build_site.dependencies import ON_DEMAND, app_wheel, browser_packages
from tools.build_site.files import ROOT, BuildError, log
from tools.build_site.lock import write_lock
from tools.build_site.page import copy_panel_assets, improve_page
from tools.build_site.panel_patches import check_versions
from tools.build_site.poster import add_poster
from tools.build_site.prerender_data import add_country_table, write_prerender_data
from tools.build_site.pypi import pure_wheels
from tools.build_site.report import report
from tools.build_site.runtime import copy_runtime, fetch_runtime
from tools.build_site.runtime_pack import pack_runtime
from tools.build_site.scripts import load_scripts_from_files
from tools.build_site.service_worker import add_service_worker
from tools.build_site.slim import slim
from tools.build_site.snapshot import add_snapshot


def build(root: Path, tmp: Path) -> None:
    """Every stage, writing the site into `tmp`."""
    pyodide_dir = tmp / "pyodide"
    pyodide_dir.mkdir(parents=True)
    runtime = fetch_runtime()
    check_versions(runtime)
    python312 = find_python312()
    copy_runtime(runtime, pyodide_dir)
    compile_in_place(pyodide_dir / "python_stdlib.zip", STDLIB, python312)
    official = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]

    app = app_wheel(root, pyodide_dir)
    pure, from_pyodide = browser_packages(app, official)
    log(f"browser packages: {len(pure)} pure (pinned to this venv), {len(from_pyodide)} from Pyodide")
    compiled = compiled_wheels(from_pyodide, official)
    added = [app] + [Path(shutil.copy(slim(wheel), pyodide_dir / wheel.name)) for wheel in pure_wheels(pure)]
    for wheel in compiled:
        shutil.copy(wheel, pyodide_dir / wheel.name)
    lock = write_lock(pyodide_dir, runtime / "pyodide-lock.json", added, python312)
    if len(lock) != len(added) + len(compiled):
        raise BuildError("a shipped wheel is missing from the lock")

    app_name = canonicalize_name(parse_wheel_filename(app.name)[0])
    convert(root / "app" / "main.py", tmp, [app_name])
    improve_page(tmp)
    log(f"pre-render data: {write_prerender_data(tmp) / 1e3:.0f} kB of indicator series")
    boot = pack_runtime(tmp, [app_name, "panel", "bokeh"])
    copy_panel_assets(tmp)
    log(f"page: {load_scripts_from_files(tmp) / 1e6:.2f} MB of inline JS moved to js/")
    log(f"page: the country table the pre-render reads, {add_country_table(tmp) / 1e3:.0f} kB")
    log(f"page: the map's picture, {add_poster(tmp) / 1e3:.0f} kB")  # first in the page
    add_snapshot(tmp, boot, ON_DEMAND)  # a returning visit's boot (sw.js fetches it once idle)
    add_content_security_policy(tmp)  # after every edit of index.html (it hashes the inline scripts)
    add_service_worker(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.build_site",
                                     description=build_site.__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (pyproject.toml)")
    parser.add_argument("--out", type=Path, help="output folder (default: ROOT/build)")
    args = parser.parse_args()
    root = args.root.resolve()
    out = (args.out or root / "build").resolve()

    # Before Panel is first imported (its CDN constants are read at import) and before the app runs.
    if "panel" in sys.modules:
        raise BuildError("panel was imported before PANEL_CDN_ROOT was set: the page would use the CDN")
    os.environ["PANEL_CDN_ROOT"] = "./panel/"
    os.environ["CLIMATE_ATLAS_TARGET"] = "browser"
    os.environ["CLIMATE_ATLAS_PRERENDER"] = "answers"  # the page and prerender/ data it needs: ours

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    build(root, tmp)
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    report(out)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
