"""Pyodide memory snapshot for the static site (DESIGN.md section 4, "Memory snapshot"): a returning
visit restores the Python heap instead of booting, loading the wheels and importing.

The build calls add_snapshot(out, boot, ON_DEMAND) on the finished build folder (after pack_runtime
and the Panel assets, before the service worker). A first visit never downloads it: the service
worker (tools/sw.js) fetches it last, once the visit is live and idle, and the next visit's worker
restores it only if that build's cache holds it (28 MB of heap and 10 MB of files, gzipped: too much
to add to a cold visit, README "Benchmarks").

1. make: serve `out` on 127.0.0.1, open a page in headless Chromium whose dedicated worker
   (tools/snapshot_make.js) boots ./pyodide/ through the site's runtime loader (runtime_fetch.js)
   with `_makeSnapshot`, loads the packages main.js loads at boot with loadPackage (not the
   on-demand ones: HoloViews stays out, and the scatter tab's loadPackage still loads it), imports
   SNAPSHOT_IMPORTS and WARM_IMPORTS, runs warm_up() (the app's first page, kept),
   zeroes the heap's free memory (what imports and parsing left there: about 25 MB, 3.8 MB of
   gzip) and uploads the heap, the files the packages added, and the side modules (.so) with the
   memory/table bases they were loaded at.
2. write out/pyodide/snapshot/: heap.bin.gz (the wasm memory), files.bin.gz (the files the packages
   installed, minus the .pyc/.py of modules already imported, tests and stubs; its header also
   holds how each .so was linked: bases, handles, GOT, extra table slots), meta.json (runtime
   BUILD_ID, pyodide.asm.wasm sha256, table lengths, sizes) and modules.json (what the heap has
   imported; for people, never fetched). gzip: the browser inflates it with DecompressionStream.
   Written to snapshot.tmp/ and renamed into place.
3. patch main.js (panel_patches.restore_snapshot_first): tools/snapshot_restore.js replaces
   `await prepareRuntime(); loadPyodide()`. If the build's service worker cache holds the snapshot,
   it requests the runtime files only (no wheels) and restores it; after a restore the worker skips
   its loadPackage of the boot's wheels. Otherwise it boots as without a snapshot (prepareRuntime
   with the wheels, loadPyodide, loadPackage), and so it does on any failure, with a console.warn.
   The restore refuses a meta.json whose BUILD_ID is not this build's, a heap or files archive
   other than this build's (integrity hashes in main.js: a damaged cached copy too, which it also
   deletes from the cache for the service worker to fetch again), a table length at boot or after
   linking other than the snapshot's, and (Pyodide itself) a heap from another runtime.

The build fails (BuildError) if the snapshot cannot be made.

Pinned to Pyodide 0.27.7: it relies on private loadPyodide options and Emscripten's linker.
Frozen at build time, the same for every visitor: module-level state computed at import (Panel's
CDN constants: hence PANEL_CDN_ROOT="./panel/" while making it), the hash seed; the restore reseeds
`random` and numpy's global RandomState.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tools.build_site.files import BROWSER_CACHE_PREFIX, ROOT, TOOLS, BuildError, gzip_file, sri
from tools.build_site.panel_patches import JSNULL_SHIM, replace_once, restore_snapshot_first
from tools.chromium import CHROMIUM, LAUNCH_ARGS
from tools.servers import StaticHandler, serve, stop_process_group

# What the snapshot holds: Panel's worker module (panel, bokeh, param, pandas, numpy) and the app's
# modules; warm_up() then builds the first page into the heap. Not
# HoloViews: the app loads it with the scatter tab (ON_DEMAND in dependencies.py).
SNAPSHOT_IMPORTS = ("panel.io.pyodide", "climate_atlas.layout")
# Also imported by the app's first build (sys.modules after ready, minus the snapshot's list in
# pyodide/snapshot/modules.json): ~1 s less after a restore. Optional: one that no longer exists is
# skipped with a note, so app changes cannot break the build here.
WARM_IMPORTS = ("markdown", "markdown_it", "mdit_py_plugins", "linkify_it",
                "narwhals._pandas_like.dataframe", "narwhals._pandas_like.namespace",
                "narwhals._interchange.dataframe", "pandas.io.formats.style", "panel.io.location",
                "panel.io.browser", "panel.models.tabulator", "xml.etree.ElementTree",
                "climate_atlas.precomputed", "mdit_py_plugins.anchors", "mdit_py_plugins.deflist",
                "mdit_py_plugins.footnote", "mdit_py_plugins.tasklists", "narwhals.stable.v1",
                "narwhals.stable.v2", "importlib.resources.readers", "bokeh.server",
                "panel.entry_points")


# The module the make worker leaves the page it built in (warm_up), and the restored worker takes it
# from (tools/snapshot_restore.js: takePrebuiltPage).
PREBUILT_PAGE = "atlas_prebuilt_page"


def warm_up() -> str:
    """Python the make worker runs (awaited) after the imports: the page every visitor's worker
    builds first, built from the app's own entry point (app/main.py, the script `panel convert`
    turns into the site's worker) and serialised as that worker does (main.js: init_doc, the script,
    write_doc). The heap keeps it: its document stays Panel's current document, and write_doc's
    JSON waits in the module PREBUILT_PAGE, so a restored worker sends that JSON at once instead of
    building the page (about 3.7 s of Python in the browser: the app's build, Panel's models and
    the serialisation). Nothing in it is the visitor's: the page is the default state, which the
    link's state then changes as in a fresh worker (the page sends its URL once it has rendered).
    The app's data is read and parsed once per process (data.load_atlas is cached)."""
    entry_point = (ROOT / "app" / "main.py").read_text(encoding="utf-8")
    return ("import sys, types\n"
            "from panel.io.pyodide import init_doc, write_doc\n"
            "init_doc()\n"
            f"{entry_point}\n"
            f"page = types.ModuleType({PREBUILT_PAGE!r})\n"
            "page.doc_json = await write_doc()\n"
            "sys.modules[page.__name__] = page\n")


SNAPSHOT_DIR = "pyodide/snapshot"
MAKE_TIMEOUT_S = 300


def log(msg: str) -> None:
    print(f"[snapshot] {msg}", flush=True)


def _upload_handler(uploads: Path) -> type[StaticHandler]:
    """The static handler, plus PUT of what the make worker uploads (complete files only)."""

    class UploadHandler(StaticHandler):
        def do_PUT(self) -> None:  # noqa: N802 - the worker uploads what it made
            name = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/__snapshot_upload/") or not re.fullmatch(r"[\w.]+", name):
                self.send_error(404)
                return
            length = int(self.headers["Content-Length"])
            part = uploads / (name + ".part")
            with open(part, "wb") as f:
                remaining = length
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        raise ConnectionError("upload cut short")
                    f.write(chunk)
                    remaining -= len(chunk)
            part.rename(uploads / name)  # complete files only: make() polls for done.json
            self._empty(204)

    return UploadHandler


def make(out: Path, uploads: Path, packages: list[str]) -> dict:
    """Run tools/snapshot_make.js in a worker of headless Chromium; returns its summary.

    Chromium runs as a plain process (no DevTools connection): the worker uploads ~100 MB, which
    Playwright's driver would receive again as request data and cannot hold in one message."""
    page_name, worker_name = "__snapshot_make.html", "__snapshot_make.js"
    maker = (TOOLS / "snapshot_make.js").read_text(encoding="utf-8")
    maker = replace_once(maker, "__JSNULL_SHIM__", json.dumps(JSNULL_SHIM), "snapshot_make.js")
    maker = replace_once(maker, "__WARM_UP__", json.dumps(warm_up()), "snapshot_make.js")
    (out / worker_name).write_text(maker, encoding="utf-8")
    query = (f"imports={','.join(SNAPSHOT_IMPORTS)}&optional={','.join(WARM_IMPORTS)}"
             f"&packages={','.join(packages)}")
    (out / page_name).write_text(
        "<!doctype html><meta charset='utf-8'><script>\n"
        f"const w = new Worker('./{worker_name}?{query}');\n"
        "w.onerror = (e) => fetch('./__snapshot_upload/error.txt', {method: 'PUT', body: e.message});\n"
        "</script>\n", encoding="utf-8")
    server, base = serve({"/": out}, handler=_upload_handler(uploads))
    url = f"{base}/{page_name}"
    profile = uploads / "chromium-profile"
    chromium_log = uploads / "chromium.log"
    with open(chromium_log, "wb") as log_file:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless", *LAUNCH_ARGS, f"--user-data-dir={profile}", url],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + MAKE_TIMEOUT_S
            while not any((uploads / n).exists() for n in ("done.json", "error.txt")):
                if proc.poll() is not None:
                    raise BuildError(f"chromium exited ({proc.returncode}) before the "
                                     f"snapshot was made:\n{chromium_log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise BuildError(f"no snapshot after {MAKE_TIMEOUT_S} s")
                time.sleep(0.5)
        finally:
            stop_process_group(proc, 10)
            server.shutdown()
            server.server_close()
            (out / page_name).unlink()
            (out / worker_name).unlink()
    if (uploads / "error.txt").exists():
        raise BuildError(f"could not make the snapshot: {(uploads / 'error.txt').read_text()}")
    return json.loads((uploads / "done.json").read_text())


def add_snapshot(out: Path, packages: list[str], on_demand: set[str]) -> None:
    """Make the snapshot of `out` (a finished build), write it under out/pyodide/snapshot and patch
    out/main.js to restore it. `packages`: what main.js loads at boot (runtime_pack.pack_runtime);
    `on_demand`: packages the app loads later, which must stay out of the heap. Raises BuildError
    if anything fails."""
    t0 = time.monotonic()
    runtime = out / "pyodide"
    found = re.search(r'BUILD_ID:"([0-9a-f]+)"', (runtime / "pyodide.js").read_text())
    if found is None:
        raise BuildError("pyodide.js: no BUILD_ID (the snapshot is written for Pyodide 0.27.7)")
    build_id = found.group(1)
    with gzip.open(runtime / "pyodide.asm.wasm.gzip", "rb") as wasm:  # runtime_pack.pack_runtime
        wasm_sha = hashlib.sha256(wasm.read()).hexdigest()
    if on_demand & set(packages):
        raise BuildError(f"on-demand packages loaded at boot: {sorted(on_demand & set(packages))}")
    with tempfile.TemporaryDirectory(prefix="snapshot-") as tmp:
        uploads = Path(tmp)
        summary = make(out, uploads, packages)
        meta = json.loads((uploads / "meta.json").read_text())
        modules = json.loads((uploads / "modules.json").read_text())
        # by import name: the pillow package is the module PIL
        lock = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]
        imports = {name for package in on_demand for name in lock[package]["imports"]}
        leaked = sorted({m.split(".")[0] for m in modules} & imports)
        if leaked:
            raise BuildError(f"the snapshot's imports pulled in on-demand packages: "
                             f"{leaked} (SNAPSHOT_IMPORTS / WARM_IMPORTS in tools/build_site/snapshot.py)")
        meta.update(buildId=build_id, wasmSha256=wasm_sha, format=1,
                    heapGz="heap.bin.gz", filesGz="files.bin.gz")
        # Atomic: everything goes to snapshot.tmp, renamed into place once complete.
        dest = out / SNAPSHOT_DIR
        staging = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        gzip_file(uploads / "heap.bin", staging / "heap.bin.gz", 6)  # 6, not 9: 100 MB to pack
        gzip_file(uploads / "files.bin", staging / "files.bin.gz", 6)
        shutil.copy(uploads / "modules.json", staging / "modules.json")  # what the heap imported
        meta["heapGzBytes"] = (staging / "heap.bin.gz").stat().st_size
        meta["filesGzBytes"] = (staging / "files.bin.gz").stat().st_size
        (staging / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        integrity = {name: sri(staging / name) for name in ("heap.bin.gz", "files.bin.gz")}
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    patch_worker(out, build_id, integrity)
    log(f"{len(packages)} packages, {summary['libs']} side modules, "
        f"{meta['extraTableSlots']} extra table slots, "
        f"{meta['fileCount']} files ({meta['droppedSources']} imported modules' files left out); "
        f"heap {meta['heapBytes'] / 1e6:.1f} MB ({meta['zeroedBytes'] / 1e6:.1f} MB of free memory "
        f"zeroed) -> {meta['heapGzBytes'] / 1e6:.1f} MB gz, "
        f"files {meta['filesBytes'] / 1e6:.1f} MB -> {meta['filesGzBytes'] / 1e6:.1f} MB gz; "
        f"imports and warm-up took {meta['importSeconds']:.1f} s in the make worker; "
        f"optional imports skipped: {meta['skippedImports'] or 'none'}; "
        f"{time.monotonic() - t0:.0f} s in all")


def patch_worker(out: Path, build_id: str, integrity: dict[str, str]) -> None:
    """main.js: restore the snapshot first (tools/snapshot_restore.js, inlined: no extra request)."""
    worker = out / "main.js"
    restore = (TOOLS / "snapshot_restore.js").read_text(encoding="utf-8")
    restore = replace_once(restore, "__SNAPSHOT_BUILD_ID__", build_id, "snapshot_restore.js")
    restore = replace_once(restore, "__SNAPSHOT_INTEGRITY__", json.dumps(integrity),
                           "snapshot_restore.js")
    restore = replace_once(restore, "__CACHE_PREFIX__", BROWSER_CACHE_PREFIX, "snapshot_restore.js")
    restore = replace_once(restore, "__PREBUILT_PAGE__", PREBUILT_PAGE, "snapshot_restore.js")
    worker.write_text(restore_snapshot_first(worker.read_text(encoding="utf-8"), restore),
                      encoding="utf-8")
