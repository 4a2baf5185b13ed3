"""Checks of the static site in build/, made by `make build` (tools/build_site/).

These tests need build/: they fail (never skip) when it is missing. No browser here; the e2e suite
proves with the network blocked that nothing listed in ALLOWED_URLS is ever requested.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from tools.build_site import convert
from tools.build_site.dependencies import FROM_PYODIDE, ON_DEMAND
from tools.build_site.files import CACHE
from tools.build_site.panel_patches import PANEL_VERSION, PYODIDE_VERSION
from tools.build_site.service_worker import site_version

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("CLIMATE_ATLAS_BUILD_DIR", ROOT / "build"))  # override: checking a copy

# Every http(s) URL found in build/ must match one entry: (pattern, why it is never fetched).
ALLOWED_URLS = [
    (r"http://www\.w3\.org/(2000/svg|1999/xhtml|1999/xlink|1998/Math/MathML|XML/1998/namespace"
     r"|2000/xmlns/?|1999/02/22-rdf-syntax-ns#)$", "XML namespace names, never fetched"),
    (r"https?://(data\.worldbank\.org/indicator/|www\.fao\.org/faostat/|climatedata\.imf\.org/"
     r"|(www\.)?naturalearthdata\.com)", "data sources: links a person clicks in the Sources "
     "card, and provenance in the app wheel's manifest"),
    (r"http://(www\.inkscape\.org/namespaces/|sodipodi\.sourceforge\.net/DTD/|purl\.org/dc/"
     r"|creativecommons\.org/ns)", "XML namespaces inside Panel's logo SVGs"),
    (r"https://cdn\.jsdelivr\.net/pyodide/v", "pyodide.js's default indexURL; ours is derived "
     "from where pyodide.js was loaded (./pyodide/)"),
    (r"https://cdn\.jsdelivr\.net/npm/mathjax@", "BokehJS loads MathJax only for LaTeX labels; "
     "the app has none"),
    (r"https://cdn\.jsdelivr\.net/npm/@tabler/icons-webfont@", "Panel's icon font, only for "
     "widgets given an icon=; the app uses none"),
    (r"https://maps\.googleapis\.com/maps/api/js", "BokehJS GMapPlot only; the app has no Google map"),
    (r"https?://(github\.com|jquery\.(com|org)|(docs\.)?bokeh\.org|fontawesome\.com|tabler\.io"
     r"|www\.apache\.org/licenses|www\.python\.org/psf|peps\.python\.org|www\.npmjs\.com/package"
     r"|fusejs\.io|kiro\.me|threedubmedia\.com|www\.foretagsplatsen\.se|panel\.pyviz\.org)",
     "project homepages and licences: bundled libraries' comments and about boxes, and "
     "source pages a person clicks in the Sources card"),
    (r"https?://(get\.webgl\.org|developers\.google\.com/maps|redux\.js\.org/Errors"
     r"|www\.jsdelivr\.com/using-sri)", "links inside error messages of bundled libraries"),
    (r"http://(foo\.com|octopart\.com/api)", "examples in bundled libraries' comments"),
]
URL = re.compile(rb"https?://[A-Za-z0-9._~:/?#@!$&*+=%-]+")
SERVER_ONLY = {"geoviews", "cartopy", "shapely", "pyproj"}


@pytest.fixture(scope="module")
def build() -> Path:
    if not (BUILD / "index.html").exists():
        pytest.fail("build/ is missing or incomplete: run `make build` first")
    return BUILD


@pytest.fixture(scope="module")
def lock(build) -> dict:
    return json.loads((build / "pyodide" / "pyodide-lock.json").read_text())["packages"]


SCRIPT_SRC = re.compile(r'<script src="(\./[^"]+)"([^>]*)></script>')


def page_scripts(build: Path) -> list[tuple[str, str]]:
    """(./ path, the tag's other attributes) of every script index.html loads, in page order."""
    return SCRIPT_SRC.findall((build / "index.html").read_text(encoding="utf-8"))


def page_and_scripts(build: Path) -> str:
    """index.html and the text of every script it loads from the site: what the page runs."""
    html = (build / "index.html").read_text(encoding="utf-8")
    return html + "".join((build / unquote(src[2:])).read_text(encoding="utf-8")
                          for src, _ in page_scripts(build))


def urls_in(build: Path) -> dict[str, set[str]]:
    """URL -> files. Archives are opened: the app wheel's files in full, others are Python code
    that only runs in the worker, whose requests the blocked-network e2e test catches."""
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in build.rglob("*") if p.is_file()):
        rel = path.relative_to(build).as_posix()
        blobs = [(rel, path.read_bytes())]
        if path.name.startswith("climate_atlas-") and path.suffix == ".whl":
            with zipfile.ZipFile(path) as z:
                blobs = [(f"{rel}!{n}", z.read(n)) for n in z.namelist()]
        elif path.suffix in (".whl", ".zip"):
            continue
        for name, data in blobs:
            for url in URL.findall(data):
                found.setdefault(url.decode(), set()).add(name)
    return found


def test_no_url_the_page_would_load(build):
    unexplained = {
        url: sorted(files) for url, files in urls_in(build).items()
        if not any(re.match(pattern, url) for pattern, _ in ALLOWED_URLS)
    }
    assert not unexplained, f"external URLs in build/ with no allow-list entry: {unexplained}"


def test_every_allow_list_entry_is_still_needed(build):
    urls = urls_in(build)
    stale = [p for p, _ in ALLOWED_URLS if not any(re.match(p, u) for u in urls)]
    assert not stale, f"allow-list entries that match nothing any more, remove them: {stale}"


def test_lock_lists_exactly_the_shipped_wheels(build, lock):
    pyodide = build / "pyodide"
    for name, entry in lock.items():
        path = pyodide / entry["file_name"]
        assert path.exists(), f"{name}: {entry['file_name']} is in the lock but not shipped"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name
    shipped = {p.name for p in pyodide.glob("*.whl")}
    assert shipped == {e["file_name"] for e in lock.values()}, "wheels not listed in the lock"


def test_every_dependency_resolves_and_nothing_server_only(lock):
    for name, entry in lock.items():
        assert set(entry["depends"]) <= lock.keys(), f"{name} depends on something not shipped"
    assert not SERVER_ONLY & lock.keys()
    assert not any(n in json.dumps(lock) for n in ("geoviews", "cartopy"))
    assert {"climate-atlas", "panel", "bokeh", "holoviews"} <= lock.keys()
    assert "holoviews" not in lock["climate-atlas"]["depends"]  # loaded with the scatter tab, not at boot


def test_on_demand_packages_are_shipped_but_not_loaded_at_boot(build, lock):
    """HoloViews (the scatter tab) and Pillow (the stripes' PNG) are in the lock, for the app's
    loadPackage, but no entry depends on them and the worker neither prefetches nor loads them."""
    worker = (build / "main.js").read_text(encoding="utf-8")
    boot = json.loads(re.search(r"loadPackage\((\[.*?\])", worker, re.S).group(1))
    fetched = (build / "pyodide" / "runtime_fetch.js").read_text(encoding="utf-8")
    assert {"pillow", "holoviews"} <= ON_DEMAND
    for name in ON_DEMAND:
        assert name in lock, name
        assert not any(name in entry["depends"] for entry in lock.values()), name
        assert name not in boot and lock[name]["file_name"] not in fetched, name
    assert {"bokeh", "panel", "climate-atlas"} <= set(boot)


def test_compiled_wheels_come_from_pyodide_official_lock(build, lock):
    """The carrier package is unusual: every compiled wheel must be Pyodide's own (the verified
    original's sha256 is the official one), changed only by byte-compilation: the same members, each
    .py replaced by its .pyc, everything else (the .so extension modules included) byte-identical."""
    tgz = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz"
    assert tgz.exists(), f"{tgz} is missing: the build caches it; run `make build`"
    with tarfile.open(tgz) as tar:
        official = json.load(tar.extractfile("package/pyodide-lock.json"))["packages"]
    compiled = {n: e for n, e in lock.items() if "wasm32" in e["file_name"]}
    assert {"numpy", "pandas", "contourpy", "pillow"} <= compiled.keys()
    for name in FROM_PYODIDE & lock.keys():
        original = CACHE / "pyodide-wheels" / official[name]["file_name"]
        assert hashlib.sha256(original.read_bytes()).hexdigest() == official[name]["sha256"], name
        with zipfile.ZipFile(original) as src, zipfile.ZipFile(
                build / "pyodide" / lock[name]["file_name"]) as shipped:
            ours = {i.filename: i for i in shipped.infolist()}
            for member in src.namelist():
                if member.endswith(".py") and member + "c" in ours:
                    continue
                if not member.endswith("RECORD"):
                    assert src.read(member) == shipped.read(member), f"{name}: {member} differs"


def test_pure_wheels_match_the_build_venv(lock):
    """The pre-render (this venv) and the browser must run the same versions."""
    for name, entry in lock.items():
        if name in FROM_PYODIDE or name == "climate-atlas":
            continue
        assert entry["version"] == md.version(name), f"{name}: browser {entry['version']}"


def test_page_has_viewport_favicon_status_and_local_runtime(build):
    html = page_and_scripts(build)
    worker = (build / "main.js").read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    icons = re.findall(r'<link rel="icon"[^>]*href="([^"]+)"', html)
    assert icons == ["./favicon.svg"] and (build / "favicon.svg").exists()
    assert 'id="site-status"' in html and "load-error" in html
    assert 'importScripts("./pyodide/pyodide.js", "./pyodide/runtime_fetch.js")' in worker
    assert 'os.environ[\\"PANEL_CDN_ROOT\\"]' in worker or "PANEL_CDN_ROOT" in worker
    assert "jsnull" in worker and "CLIMATE_ATLAS_TARGET" in worker
    assert "type: 'load-error'" in worker
    assert (build / "panel" / PANEL_VERSION / "dist" / "css").is_dir()


def test_the_page_is_small_and_loads_its_scripts_from_checked_files(build):
    """The first paint waits for index.html alone (tools/build_site/scripts.py): it carries no
    bundle, and loads its scripts as files of the site, one per script so that each runs as a task
    of its own, each named by its content, deferred, with a matching integrity hash, from the body
    (in <head> they delayed the first paint): Tabulator's two, the five bundles (each still strict)
    and last the page's half of the worker and the status line, in that order."""
    html = (build / "index.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 1_000_000, "index.html carries more than the pre-render and picture"
    assert "/* BEGIN " not in html and "set_log_level" not in html and "const pyodideWorker" not in html
    scripts = page_scripts(build)
    # in the body, after the picture and the table it draws charts from, before the pre-render
    assert html.index('id="atlas-countries"') < html.index('<script src="./js/') < html.index("data-root-id=")
    stems = ["tabulator", "luxon", "bokeh", "bokeh-gl", "bokeh-widgets", "bokeh-tables", "panel", "page"]
    names = [re.fullmatch(r"\./js/([a-z-]+)-([0-9a-f]{16})\.js", src) for src, _ in scripts]
    assert all(names) and [m[1] for m in names] == stems, scripts
    texts = []
    for (src, attributes), name in zip(scripts, names, strict=True):
        integrity = re.fullmatch(r' integrity="(sha384-[^"]+)" defer', attributes)
        assert integrity, attributes
        data = (build / src).read_bytes()
        assert hashlib.sha256(data).hexdigest()[:16] == name[2]  # a new file, a new name
        assert integrity[1] == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        texts.append(data.decode())
    assert texts[0].startswith("/* Tabulator v6.4.0") and texts[1].startswith("var luxon=")
    assert all(text.startswith("'use strict';\n/*!") for text in texts[2:7])  # strict, each alone
    assert "panel_fullscreen_renwin_sync" in texts[6]
    page = texts[7]
    assert -1 < page.find("const pyodideWorker = window.atlasWorker.take()") \
        < page.find("getElementById('site-status')")


def test_the_build_holds_no_file_twice(build):
    """Every file of the build differs from every other: the service worker fetches each content
    once, so a second copy is never used (the Tabulator scripts the page loads from js/ are moved
    there, not copied)."""
    names: dict[str, list[str]] = {}
    for path in sorted(p for p in build.rglob("*") if p.is_file()):
        names.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(
            path.relative_to(build).as_posix())
    assert [same for same in names.values() if len(same) > 1] == []


def test_the_page_opens_with_the_map_s_picture(build):
    """The picture (tools/build_site/poster.py) comes before the pre-rendered document, so the
    first paint shows it, with one shape per country of the map and the selected one's outline."""
    from climate_atlas.data import load_atlas
    from climate_atlas.views.world_map import map_countries

    html = (build / "index.html").read_text(encoding="utf-8")
    poster = html.index('<div id="atlas-poster" aria-hidden="true">')
    assert poster < html.index("data-root-id=") and poster < html.index("<svg")
    picture = html[html.index("<svg", poster):html.index("</svg>", poster)]
    assert picture.count("<path ") == len(map_countries(load_atlas().geometry)) + 1  # + India


def test_prerender_never_imports_server_only_modules(tmp_path):
    """Run the pre-render as the builder does (target flag set) in a fresh interpreter."""
    code = f"""
import os, sys
os.environ["PANEL_CDN_ROOT"] = "./panel/"
os.environ["CLIMATE_ATLAS_TARGET"] = "browser"
os.environ["CLIMATE_ATLAS_PRERENDER"] = "answers"
from panel.io.convert import script_to_html
script_to_html({str(ROOT / "app" / "main.py")!r}, runtime="pyodide-worker", inline=True)
print(sorted(m for m in {list(convert.SERVER_ONLY) + ["nh3"]!r} if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": ""}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_runtime_files_carry_integrity_hashes_that_match(build):
    """Every file the worker fetches before Python runs is checked by the browser (SRI); a hash
    that did not match what is shipped would stop every visit, so check them all here."""
    loader = (build / "pyodide" / "runtime_fetch.js").read_text(encoding="utf-8")
    assert "./pyodide/runtime_fetch.js" in (build / "main.js").read_text(encoding="utf-8")
    files = json.loads(re.search(r"const RUNTIME_FILES = (\{.*?\n\});", loader, re.S).group(1))
    assert {"pyodide.asm.wasm", "pyodide.asm.js", "python_stdlib.zip", "pyodide-lock.json"} <= files.keys()
    assert any(name.endswith(".whl") for name in files), "the boot's wheels are not prefetched"
    for name, entry in files.items():
        data = (build / "pyodide" / entry["file"]).read_bytes()
        algorithm, digest = entry["integrity"].split("-", 1)
        assert base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == digest, name
    wasm = gzip.decompress((build / "pyodide" / files["pyodide.asm.wasm"]["file"]).read_bytes())
    assert wasm[:4] == b"\0asm" and not (build / "pyodide" / "pyodide.asm.wasm").exists()


def test_service_worker_caches_every_file_of_this_build_checked(build):
    """sw.js knows every file with its integrity (so another build's bytes never enter this build's
    cache), under the version the page names, which the page passes on to its Python worker. The
    page registers it before it fetches anything else, so it sees a first visit's downloads."""
    sw = (build / "sw.js").read_text(encoding="utf-8")
    version = re.search(r"const VERSION = '([0-9a-f]{16})';", sw).group(1)
    assert site_version(build) == version
    html = page_and_scripts(build)
    assert "'./main.js?atlas-build=' + document.querySelector('meta[name=\"atlas-build\"]')" in html
    assert "const pyodideWorker = window.atlasWorker.take()" in html
    registers = html.index("register('./sw.js')")
    assert registers < min(html.index(attr) for attr in ('href="./', 'src="./'))
    files = json.loads(re.search(r"const FILES = (\{.*?\n\});", sw, re.S).group(1))
    shipped = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    assert "./" in files
    # sw.js is the worker itself; _headers is for the host and never served (tools/build_site/csp.py)
    assert sorted(unquote(url[2:]) for url in files if url != "./") == [
        f for f in shipped if f not in ("sw.js", "_headers")]
    for url, integrity in files.items():
        path = build / (unquote(url[2:]) or "index.html")
        digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
        assert integrity == f"sha384-{digest}", url


def test_page_answers_before_python_and_hands_over_when_ready(build):
    """The pre-render carries the callback (views/prerender.py) and, for each indicator file the
    build wrote, its integrity; Panel's render handler keeps the pre-render until the live view
    is ready (panel_patches.keep_prerender_until_ready)."""
    from climate_atlas.data import load_atlas
    from tools.build_site.files import sri

    html = page_and_scripts(build)
    assert "window.atlasHandOver = " in html and "atlas-live-pending" in html
    assert "Bokeh.index.roots.map((v) => v.remove())" not in html  # Panel's blank-the-page step
    assert "atlasHandover" in html and "document_ready" in html and 'id="site-prerender"' in html
    written = sorted((build / "prerender").glob("indicator-*.json"))
    assert len(written) == len(load_atlas().indicator_meta)
    for path in written:
        assert sri(path) in html, path.name
