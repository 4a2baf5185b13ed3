"""Variant (b), the baseline: Panel's default `panel convert --to pyodide-worker` output of the same app.

Changed only where it must be (issue 13, DESIGN.md section 4):
- Panel 1.9.4 pins Pyodide v0.29.3, which cannot run here: its Pyodide URL constants get v0.27.7;
- the jsnull shim (Panel 1.9 expects Pyodide >= 0.28) is prepended to its worker prelude.
Everything else is Panel's default: CDN resources (not inlined), `http_patch`, Panel's and Bokeh's CDN
wheels, micropip resolving the rest from Pyodide's lock and the package index. The app ships the way
Panel documents for local code: its wheel as a `file://` requirement, packed into `main.resources.zip`.

Nothing leaves 127.0.0.1. Every request the page and its worker make to another host is answered by a
Playwright route with a redirect to a local mirror on the bench server (`route_external`); the mirror
holds local copies of what the CDNs and the index would serve. Exactly what is emulated:
- Pyodide CDN (`/pyodide/v0.27.7/full/...`): our 0.27.7 runtime files, the official 351-entry
  `pyodide-lock.json`, and the official compiled wheels (sha256-checked by the builder). Lock entries
  whose official wheel cannot be obtained here are repointed at the build venv's unslimmed wheel of
  the same package (`SUBSTITUTED` in the report); nh3, which has no wasm wheel here, is an empty
  stand-in wheel (the app never calls Panel's sanitizer).
- Panel's CDN (`/panel/1.9.4/dist/...`, `/panel/wheels/...`): Panel's own dist folder from the venv,
  and the panel and bokeh wheels as Panel publishes them for Pyodide (its build script drops
  `panel/dist` and Bokeh's server JS: emulated with the builder's slim rules for these two).
- Bokeh's CDN (`/bokeh/release/bokeh-*-3.9.2.min.js`): the venv's BokehJS bundles.
- The package index (simple JSON API, `/simple/<name>/`): one version per package, the build venv's,
  unslimmed, plus panel-material-ui (a dependency of panel that our build drops).
The mirror answers with the same latency as our own site (under network emulation both are throttled
alike), so it is a CDN as close as the origin: it favours the baseline.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from tools.build_site.carrier import compiled_wheels
from tools.build_site.dependencies import FROM_PYODIDE, browser_packages
from tools.build_site.files import CACHE, PIP
from tools.build_site.panel_patches import check_versions
from tools.build_site.pypi import pure_wheels
from tools.build_site.runtime import copy_runtime, fetch_runtime
from tools.build_site.slim import slim

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "artifacts" / "baseline"
PMUI = "panel-material-ui==0.16.6"  # newest on the index when the bench was written; pinned
INDEX_TYPE = "application/vnd.pypi.simple.v1+json"


def _key() -> str:
    h = hashlib.sha256()
    # what the baseline is made from: the app, this file and the patches it takes from the build
    for base in (ROOT / "app", ROOT / "bench" / "baseline.py",
                 ROOT / "tools" / "build_site" / "panel_patches.py"):
        for p in sorted([base] if base.is_file() else base.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.as_posix().encode() + p.read_bytes())
    h.update((ROOT / "build" / "pyodide" / "pyodide-lock.json").read_bytes())
    return h.hexdigest()[:12]


def _convert(out: Path, app_wheel: Path) -> None:
    """Run in a clean subprocess: no PANEL_CDN_ROOT (the baseline uses Panel's CDN). It starts in the
    repository root (to import tools/), then converts in `out` (Panel packs local requirements
    relative to the working folder)."""
    code = f"""
import os, sys
from panel.io import convert as pconv
from tools.build_site.panel_patches import configure_baseline_convert
configure_baseline_convert(pconv)
os.chdir({str(out)!r})
r = pconv.convert_app({str(ROOT / 'app' / 'main.py')!r}, {str(out)!r},
    requirements=["holoviews", {app_wheel.as_uri()!r}], runtime="pyodide-worker", prerender=True)
sys.exit(0 if r else 1)
"""
    env = {k: v for k, v in os.environ.items() if k != "PANEL_CDN_ROOT"}
    env["CLIMATE_ATLAS_TARGET"] = "browser"  # the pre-render renders the browser's page
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def _stub_wheel(dest: Path, name: str, version: str) -> Path:
    path = dest / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/__init__.py", "raise ImportError('bench stand-in: no wasm wheel')\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/top_level.txt", f"{name}\n")
        z.writestr(f"{info}/RECORD", "")
    return path


def _pip_download(req: str, dest: Path) -> Path:
    name = re.split(r"[=<>]", req)[0].replace("-", "_")
    found = sorted(dest.glob(f"{name}-*.whl"))
    if not found:
        subprocess.run([*PIP, "download", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", "--platform", "any", "--implementation", "py",
                        "-d", dest, req], check=True)
        found = sorted(dest.glob(f"{name}-*.whl"))
    return found[-1]


def build() -> dict:
    """Build (or reuse) the baseline site and its CDN/index mirror; returns a description."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    key = _key()
    out = WORK / key
    if (out / "done.json").exists():
        return json.loads((out / "done.json").read_text())
    shutil.rmtree(WORK, ignore_errors=True)
    site, cdn = out / "site", out / "cdn"
    pyo, files, wheels = cdn / "pyodide", cdn / "files", cdn / "wheels"
    for d in (site, pyo, files, wheels):
        d.mkdir(parents=True)
    cache = CACHE
    runtime = fetch_runtime()
    check_versions(runtime)
    copy_runtime(runtime, pyo)
    official = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]
    app_wheel = next((ROOT / "build" / "pyodide").glob("climate_atlas-*.whl"))
    _convert(site, app_wheel)

    # Pyodide's own wheels, fetched and sha256-checked the way the build fetches them: the build's
    # set, plus micropip, which Panel's default worker installs with and our build no longer ships
    # (copying whatever the cache held left a fresh machine without it)
    have = {Path(shutil.copy(wheel, pyo / wheel.name)).name
            for wheel in compiled_wheels(FROM_PYODIDE | {"micropip"}, official)}
    # Unslimmed pure wheels of the build venv for everything panel's metadata names (our build
    # leaves some out: requests, tqdm...), plus panel-material-ui and pyodide-http
    # nh3: no wasm wheel; panel-material-ui: fetched below
    pins, _ = browser_packages(app_wheel, official, not_shipped={"nh3", "panel-material-ui"})
    extra = [_pip_download(PMUI, cache / "bench"), _pip_download("pyodide-http==0.2.1", cache / "bench")]
    pure = {canonicalize_name(parse_wheel_filename(p.name)[0]): p for p in [*pure_wheels(pins), *extra]}
    substituted = sorted(n for n in pure if n in official and n != "bokeh"
                         and official[n]["file_name"] not in have)
    added = [Path(shutil.copy(pure[n], pyo / pure[n].name)) for n in substituted]
    added.append(_stub_wheel(pyo, "nh3", official["nh3"]["version"]))
    spec = PyodideLockSpec.from_json(runtime / "pyodide-lock.json")
    spec = add_wheels_to_spec(spec, added, base_path=pyo, ignore_missing_dependencies=True)
    spec.to_json(pyo / "pyodide-lock.json")

    # The index: every pure wheel not served from the lock
    for name, wheel in pure.items():
        if name in substituted:
            continue
        shutil.copy(wheel, files / wheel.name)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        version = str(parse_wheel_filename(wheel.name)[1])
        (cdn / "simple" / name).mkdir(parents=True)
        (cdn / "simple" / name / "index.json").write_text(json.dumps({
            "meta": {"api-version": "1.1"}, "name": name, "versions": [version],
            "files": [{"filename": wheel.name, "url": f"@MIRROR@/files/{wheel.name}",
                       "hashes": {"sha256": digest}, "yanked": False}]}))
    # Panel's and Bokeh's Pyodide wheels as Panel's CDN publishes them (dist/server JS dropped)
    for name in ("panel", "bokeh"):
        shutil.copy(slim(pure[name]), wheels / pure[name].name)
    desc = {"key": key, "substituted": substituted, "stand_in": ["nh3"],
            "index": sorted(set(pure) - set(substituted)), "path": str(out)}
    (out / "done.json").write_text(json.dumps(desc))
    return desc


def mirror_index(cdn: Path, base: str) -> None:
    """Index answers name file URLs on the mirror (it is only known once the server has a port)."""
    for p in (cdn / "simple").glob("*/index.json"):
        p.write_text(re.sub(r'"url": "[^"]*/files/', f'"url": "{base}/files/', p.read_text())
                     .replace("@MIRROR@", base))


def local_path(url: str) -> str | None:
    """Where on the mirror an external URL is answered from (None: not emulated)."""
    path = urlsplit(url).path
    from bokeh import __version__ as bokeh_version
    if m := re.fullmatch(r"/pyodide/v[\d.]+/full/(.+)", path):
        return f"pyodide/{m[1]}"
    if m := re.fullmatch(r"/panel/(?:[\d.]+/dist/)?wheels/(.+\.whl)", path):
        return f"wheels/{m[1]}"
    if m := re.fullmatch(r"/panel/[\d.]+/dist/(.+)", path):
        return f"panel-dist/{m[1]}"
    if m := re.fullmatch(rf"/bokeh/release/bokeh(-\w+)?-{re.escape(bokeh_version)}(\.min)?\.js", path):
        return f"bokeh-js/bokeh{m[1] or ''}{m[2] or ''}.js"
    if m := re.fullmatch(r"/simple/([^/]+)/?", path):
        return f"simple/{canonicalize_name(m[1])}/index.json"
    return None


def mounts(desc: dict) -> dict[str, Path]:
    from bokeh.util.paths import bokehjsdir
    from panel.io.resources import DIST_DIR

    out = Path(desc["path"])
    return {"/baseline/": out / "site", "/mirror/": out / "cdn",
            "/mirror/panel-dist/": Path(DIST_DIR), "/mirror/bokeh-js/": Path(bokehjsdir()) / "js"}


if __name__ == "__main__":
    print(json.dumps(build(), indent=1))
