"""Every edit this project makes to Panel's converter and to what it writes (DESIGN.md section 4).

Panel's `convert_app` reads module constants (the Pyodide URLs) and a Python prelude (`PRE`), and
writes a page (index.html) and a worker (main.js) from its templates. The build, the heap
snapshot and the benchmark's baseline all change these; each change lives here, anchored on text of
the versions below, and raises PatchError when that text is missing or appears more than once: the
template changed, and the edit must be revisited rather than silently skipped. `check_versions`
says so once, up front, when Panel, Bokeh or the Pyodide runtime is not the version written for.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

from tools.build_site.files import BuildError

# The versions every edit below was written against.
PANEL_VERSION = "1.9.4"
BOKEH_VERSION = "3.9.2"  # BokehJS is inlined into the page Panel writes
PYODIDE_VERSION = "0.27.7"  # 0.28+ is impossible here: no compiled numpy/pillow for its ABI

# panel.io.convert's module constants naming Pyodide's URL, read when it writes the page and worker.
PYODIDE_CONSTANTS = ("PYODIDE_URL", "PYODIDE_PYC_URL", "PYODIDE_JS", "PYODIDE_PYC_JS")
# Relative to main.js, so the site works under any sub-path.
PYODIDE_JS = "./pyodide/pyodide.js"

# Panel 1.9 expects Pyodide >= 0.28, which has `pyodide.ffi.jsnull`; on 0.27 JS null already
# arrives as None, so a fresh sentinel is a correct stand-in. Runs after `import pyodide.ffi`.
# Used by the site's worker prelude, the snapshot's make worker (tools/snapshot_make.js, filled in
# by snapshot.py) and the benchmark's baseline.
JSNULL_SHIM = (
    'if not hasattr(pyodide.ffi, "jsnull"):  # Panel 1.9 expects Pyodide >= 0.28; on 0.27 null is None\n'
    "    pyodide.ffi.jsnull = object()\n")
# Runs in the worker before Panel's own prelude (`from panel.io.pyodide import ...`).
PRELUDE = '''
import os, js, pyodide.ffi
# Panel loads its CSS/assets from PANEL_CDN_ROOT; js.location is the worker script (next to index.html)
os.environ["PANEL_CDN_ROOT"] = str(js.location.href).rsplit("/", 1)[0] + "/panel/"
os.environ["CLIMATE_ATLAS_TARGET"] = "browser"
''' + JSNULL_SHIM
# The baseline (Panel's default output) gets the shim alone: without it, it cannot run at all.
BASELINE_PRELUDE = "\nimport pyodide.ffi\n" + JSNULL_SHIM

# The page names the build it belongs to (service_worker.py fills it in): its Python worker is
# started as ./main.js?atlas-build=<version>, and tools/sw.js serves each tab its own build's files.
BUILD_META = '<meta name="atlas-build" content="{}">'
BUILD_META_RE = re.compile(BUILD_META.format("([0-9a-f]*)"))
# Panel's worker: load micropip, then `micropip.install([...])` in a try block (group 1: what lies
# between, kept).
MICROPIP_INSTALL = re.compile(r'  await self\.pyodide\.loadPackage\("micropip"\);\n(.*?)'
                              r"  try \{\n    await self\.pyodide\.runPythonAsync\(`\n\s*import micropip\n"
                              r"\s*await micropip\.install\(\[.*?\]\);\n\s*`\);\n", re.S)


class PatchError(BuildError):
    """An edit's anchor is missing or ambiguous: the generator changed under it."""


def check_versions(runtime: Path) -> None:
    """Refuse to build with a Panel, Bokeh or Pyodide other than the one these edits were written for
    (`runtime`: the unpacked Pyodide npm package)."""
    import bokeh
    import panel

    found = {"Panel": (panel.__version__, PANEL_VERSION), "Bokeh": (bokeh.__version__, BOKEH_VERSION),
             "Pyodide": (json.loads((runtime / "package.json").read_text())["version"], PYODIDE_VERSION)}
    wrong = [f"{name} {have} (written for {want})" for name, (have, want) in found.items() if have != want]
    if wrong:
        raise PatchError(f"tools/build_site/panel_patches.py edits Panel's output for other versions: "
                         f"{', '.join(wrong)}; revisit every edit there, then update the versions")


def replace_once(text: str, old: str, new: str, where: str) -> str:
    """Patch generated text (Panel's page and worker, or an earlier patch), failing loudly when the
    anchor is missing or ambiguous: the generator changed, and the patch must be revisited."""
    count = text.count(old)
    if count != 1:
        raise PatchError(f"{where}: expected exactly one {old!r}, found {count} (Panel template changed?)")
    return text.replace(old, new)


def _require(pconv: ModuleType, names: tuple[str, ...]) -> None:
    """Setting a constant Panel no longer has would change nothing, silently."""
    missing = [name for name in names if not hasattr(pconv, name)]
    if missing:
        raise PatchError(f"panel.io.convert has no {missing} (Panel changed?)")


def configure_convert(pconv: ModuleType) -> None:
    """Point `panel.io.convert`'s Pyodide constants at the site's runtime and put PRELUDE before
    Panel's worker prelude (idempotent: the build may convert more than once in a process)."""
    _require(pconv, PYODIDE_CONSTANTS + ("PRE",))
    pconv.PYODIDE_URL = pconv.PYODIDE_PYC_URL = PYODIDE_JS
    pconv.PYODIDE_JS = pconv.PYODIDE_PYC_JS = f'<script src="{PYODIDE_JS}" defer></script>'
    if PRELUDE not in pconv.PRE:
        pconv.PRE = PRELUDE + pconv.PRE


def configure_baseline_convert(pconv: ModuleType) -> None:
    """Panel's defaults with only what it cannot run without here: its Pyodide CDN URLs name our
    runtime's version, and the jsnull shim comes before its prelude (bench/baseline.py)."""
    _require(pconv, PYODIDE_CONSTANTS + ("PRE", "PYODIDE_VERSION"))
    pinned = pconv.PYODIDE_VERSION
    for name in PYODIDE_CONSTANTS:
        value = getattr(pconv, name)
        if pinned not in value:
            raise PatchError(f"panel.io.convert.{name} does not name Pyodide {pinned}: {value!r}")
        setattr(pconv, name, value.replace(pinned, f"v{PYODIDE_VERSION}"))
    pconv.PRE = BASELINE_PRELUDE + pconv.PRE


def patch_page(html: str, status: str, register: str, worker_start: str) -> str:
    """index.html: viewport meta, our favicon, the build's name (empty until the service worker
    stage), passed to the Python worker's URL, `register` (the script registering the service
    worker) right after it, before anything the page fetches, then `worker_start` (the one place
    that starts the Python worker, early on a returning visit; Panel's bridge takes it), no module
    shim, and `status` (the loading stage and readable load errors) at the end of the body."""
    # Panel 1.9.4's worker page has no icon link of its own; one would compete with ours.
    if re.search(r'<link rel="(?:icon|apple-touch-icon)"', html):
        raise PatchError("index.html: Panel's page now has an icon link (Panel template changed?)")
    html = replace_once(html, '<meta charset="utf-8">', '<meta charset="utf-8">\n    '
                        '<meta name="viewport" content="width=device-width, initial-scale=1">\n    '
                        f'{BUILD_META.format("")}\n    '
                        f'<script>\n{register}</script>\n    <script>\n{worker_start}</script>\n    '
                        '<link rel="icon" type="image/svg+xml" href="./favicon.svg">', "index.html")
    # es-module-shims serves Panel's ReactiveESM components, which the atlas does not use; it
    # feature-detects by running inline and blob scripts that a strict Content-Security-Policy
    # (csp.py) refuses, and it costs a request.
    html = replace_once(html, '<script type="esms-options">{"shimMode": true}</script>', "",
                        "index.html")
    html = replace_once(html, f'<script type="text/javascript" src="./panel/{PANEL_VERSION}/dist/bundled/'
                        'reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js"></script>',
                        "", "index.html")
    # Panel links Tabulator's stylesheet as `...css?v=<version>`, and the pre-render's Bokeh models
    # fetch it again without the query: one URL makes it one download (the HTTP cache's), before the
    # service worker has taken over too. The build is versioned as a whole (service_worker.py).
    html = replace_once(html, f'.min.css?v={PANEL_VERSION}"', '.min.css"', "index.html")
    html = replace_once(html, 'new Worker("./main.js")', "window.atlasWorker.take()", "index.html")
    html = keep_prerender_until_ready(html)
    head, body_end, tail = html.rpartition("</body>")  # the inlined bundles also contain "</body>"
    if not body_end:
        raise PatchError("index.html: no </body>")
    return head + status + body_end + tail


# The pre-render answers before Python (app/climate_atlas/views/prerender.py lifts its parts above
# Panel's loading veil). The veil stays over the rest, now fixed to the window, and the page scrolls
# (Panel's loading.css hides the overflow: on a phone the charts below the fold were out of reach).
# The live view is drawn in a hidden box beside the pre-render until it is ready. The page's own
# loading mark stands still, as the parts' marks do (`{still}`: climate_atlas.a11y says why; it is
# imported once the build has set Panel's CDN root).
HANDOVER_CSS = """<style>
  body.pn-loading { overflow: auto; }
  body.pn-loading::before, body.pn-loading::after { position: fixed; }
  {still}
  .atlas-live-pending { display: block !important; position: absolute; top: 0; left: 0; width: 100%;
    transform: translateX(-300vw); opacity: 0; pointer-events: none; }
</style>
"""
# Panel's render handler, as Panel 1.9.4 writes it: empty the pre-render's root elements, remove its
# views, embed the live document into those elements, drop the loading veil, then post the page's
# address to the worker. The page went blank for about 0.3 s and showed the default state for 0.1 s
# before the live session applied the address (DESIGN.md section 8).
_RENDER_ROOTS = """          for (const el of root_els) {
             el.innerHTML = ''
             data_roots.push([el.getAttribute('data-root-id'), el.id])
          }"""
_RENDER_CLEAR = """          // Clear pre-rendered contents
          Bokeh.index.roots.map((v) => v.remove())"""
_RENDER_UNVEIL = """          // Remove loading spinner and message
          body.classList.remove("pn-loading", "arc")
          for (const loading_msg of loading_msgs) {
            loading_msg.remove()
          }"""
_RENDER_LOCATION = ("          pyodideWorker.postMessage({'type': 'location', location: "
                    "JSON.stringify(window.location)})")


def keep_prerender_until_ready(html: str) -> str:
    """index.html: the live document is embedded beside the pre-render, in hidden boxes, and the
    pre-render stays on screen (answering clicks, views/prerender.py) until the live session is
    ready. When the page posts its address to Python, body[data-atlas-handover] is set: from then on
    the pre-render's callback stands down and the pre-render is inert, so no click is taken that the
    live session would not see. When the live session has applied the address it calls
    `atlasHandOver` (layout.READY_JS): once BokehJS has painted the live view (its repaint waits for
    up to 1/60 s, then an animation frame), the live view takes the pre-render's place, the veil
    goes, and only then is body[data-atlas-ready] set. No blank, no default state in between."""
    from climate_atlas.a11y import still_loading_css
    where = "index.html (Panel's render handler)"
    css = HANDOVER_CSS.replace("{still}", still_loading_css("body.pn-loading::before"))
    html = replace_once(html, "    <script>\n      const pyodideWorker = ",
                        css + "    <script>\n      const pyodideWorker = ", where)
    html = replace_once(html, _RENDER_ROOTS, """          const atlas_live = []  // [pre-render root, twin]
          for (const el of root_els) {
             const live = document.createElement('div')
             live.id = el.id + '-live'
             live.className = 'atlas-live-pending'
             live.style.display = 'contents'
             live.inert = true
             el.after(live)
             atlas_live.push([el, live])
             data_roots.push([el.getAttribute('data-root-id'), live.id])
          }""", where)
    html = replace_once(html, _RENDER_CLEAR,
                        "          const atlas_prerendered = [...Bokeh.index.roots]  // until the swap",
                        where)
    html = replace_once(html, _RENDER_UNVEIL, """          window.atlasHandOver = (ready) => {
            requestAnimationFrame(() => setTimeout(() => requestAnimationFrame(() => {
              for (const view of atlas_prerendered) view.remove()
              for (const [el, live] of atlas_live) {
                el.remove()
                live.classList.remove('atlas-live-pending')
                live.inert = false
              }
              body.classList.remove("pn-loading", "arc")
              for (const loading_msg of [...loading_msgs]) loading_msg.remove()
              body.dataset.atlasHandover = 'done'
              ready()
            }), 20))
          }""", where)
    return replace_once(html, _RENDER_LOCATION, """          body.dataset.atlasHandover = 'started'
          for (const [el] of atlas_live) el.inert = true
""" + _RENDER_LOCATION, where)


# With `inline=True` Panel writes BokehJS and its own JS into <head> as inline scripts, one per
# bundle, each between BEGIN/END comments, and a script setting Bokeh's log level; in <body>, the
# page's half of the Python worker (it creates the worker, relays document changes both ways and
# embeds the live document) is inline too; the Tabulator widget's two files are referenced without
# `defer`. The browser paints nothing until it has run all of the first (about 3 MB).
BUNDLES = ("bokeh.min.js", "bokeh-gl.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js",
           "panel.min.js")
WORKER_BRIDGE = "worker bridge"  # the page's half of the Python worker (not a bundle)
_BUNDLE = re.compile(r'<script type="text/javascript">\n  /\* BEGIN (?P<name>[\w.-]+) \*/\n'
                     r"(?P<body>.*?)\n/\* END (?P=name) \*/\n</script>", re.S)
_BRIDGE = re.compile(r"<script>(?P<body>\n      const pyodideWorker = .*?)</script>", re.S)
# "info" is BokehJS's default level already: setting it again only logs that it did.
_LOG_LEVEL = '<script type="text/javascript">\n  Bokeh.set_log_level("info");\n</script>'
_REFERENCED = re.compile(r'<script type="text/javascript" src="(?P<src>\./panel/[^"]+\.js)"></script>')


def inline_scripts(html: str) -> dict[str, tuple[str, str]]:
    """index.html: Panel's inline scripts that can be files, by name (BUNDLES, then WORKER_BRIDGE,
    in page order): (the script element, its text). Bokeh's log level is left to without_log_level."""
    found = {m["name"]: (m[0], m["body"]) for m in _BUNDLE.finditer(html)}
    if tuple(found) != BUNDLES:
        raise PatchError(f"index.html: expected the inlined bundles {BUNDLES}, found {tuple(found)} "
                         "(Panel template changed?)")
    bridge = _BRIDGE.findall(html)
    if len(bridge) != 1 or html.count(_LOG_LEVEL) != 1:
        raise PatchError("index.html: expected one worker script and one log level script "
                         "(Panel template changed?)")
    return {**found, WORKER_BRIDGE: (f"<script>{bridge[0]}</script>", bridge[0])}


def without_log_level(html: str) -> str:
    return replace_once(html, _LOG_LEVEL, "", "index.html")


def referenced_scripts(html: str) -> list[tuple[str, str]]:
    """index.html: the scripts Panel's page loads from PANEL_CDN_ROOT (Tabulator's):
    (the script element, its ./ path)."""
    return [(m[0], m["src"]) for m in _REFERENCED.finditer(html)]


# Panel's <body> tag; its blunt text replace also wrote it into the bundles, which are files by the
# time the page is opened with more (scripts.py).
BODY = '<body class="pn-loading pn-arc">'


def open_body_with(html: str, fragment: str) -> str:
    """index.html: `fragment` first in <body>."""
    return replace_once(html, BODY, BODY + "\n" + fragment, "index.html (scripts in files)")


def open_page_body_with(out: Path, fragment: str) -> int:
    """Put `fragment` first in out/index.html's <body>; returns its size in bytes."""
    index = out / "index.html"
    index.write_text(open_body_with(index.read_text(encoding="utf-8"), fragment), encoding="utf-8")
    return len(fragment.encode())


def patch_worker_errors(js: str) -> str:
    """main.js: Panel's worker logs a failed install and carries on, and lets other failures vanish
    as unhandled rejections, so the page would spin forever. Report every failure to the page."""
    js = replace_once(js, "console.log(e)\n    self.postMessage({\n      type: 'status',\n"
                      "      msg: `Error while installing packages`\n    });",
                      "throw new Error(`Could not install the packages: ${e}`)", "main.js")
    return replace_once(js, "\nstartApplication()", "\nstartApplication().catch((e) => "
                        "self.postMessage({type: 'load-error', msg: `${e}`}))", "main.js")


def load_boot_from_lock(js: str, boot: list[str]) -> str:
    """main.js: load the runtime through tools/runtime_fetch.js (`prepareRuntime` requests every
    file at once), and replace Panel's micropip install with a loadPackage of `boot` from the lock
    (sha256-checked by Pyodide, no resolver pass, no index)."""
    js = replace_once(js, f'importScripts("{PYODIDE_JS}");',
                      f'importScripts("{PYODIDE_JS}", "./pyodide/runtime_fetch.js");', "main.js")
    js = replace_once(js, "self.pyodide = await loadPyodide();",
                      "await prepareRuntime();\n  self.pyodide = await loadPyodide();", "main.js")
    install = MICROPIP_INSTALL.findall(js)
    if len(install) != 1:
        raise PatchError(f"main.js: expected one micropip install block of Panel's, found {len(install)} "
                         "(Panel template changed?)")
    return MICROPIP_INSTALL.sub(lambda m: m.group(1) + "  try {\n    await self.pyodide.loadPackage("
                                f"{json.dumps(boot)}, {{checkIntegrity: true}});\n", js)


def restore_snapshot_first(js: str, restore: str) -> str:
    """main.js (as load_boot_from_lock left it): run `restore` (tools/snapshot_restore.js, filled in)
    first; after a restore, skip the boot's loadPackage (the packages are in the heap) and send the
    page built into the heap instead of building one (snapshot.warm_up)."""
    where = "main.js (as load_boot_from_lock patched it)"
    loader = f'importScripts("{PYODIDE_JS}", "./pyodide/runtime_fetch.js");\n'
    js = replace_once(js, loader, loader + "\n" + restore + "\n", where)
    js = replace_once(js, "  await prepareRuntime();\n  self.pyodide = await loadPyodide();",
                      "  self.pyodide = await loadPyodideFromSnapshot();  // tools/snapshot_restore.js",
                      where)
    js = replace_once(js, "    await self.pyodide.loadPackage([",
                      "    if (!self.pyodideRestored) await self.pyodide.loadPackage([", where)
    return replace_once(js, "const [docs_json, render_items, root_ids] = await self.pyodide.runPythonAsync(",
                        "const [docs_json, render_items, root_ids] = takePrebuiltPage() ?? "
                        "await self.pyodide.runPythonAsync(", where)


def add_policy_meta(html: str, policy: str) -> str:
    """index.html: the Content-Security-Policy as the first thing in <head> (csp.py)."""
    return replace_once(html, '<meta charset="utf-8">', f'<meta charset="utf-8">\n    <meta '
                        f'http-equiv="Content-Security-Policy" content="{policy}">', "index.html")


def name_build(html: str, version: str) -> str:
    """index.html with the build's name set to `version` ("" gives the unnamed page)."""
    count = len(BUILD_META_RE.findall(html))
    if count != 1:
        raise PatchError(f"index.html: expected one atlas-build meta (patch_page), found {count}")
    return BUILD_META_RE.sub(BUILD_META.format(version), html)


def build_name(html: str) -> str:
    """The name name_build gave a page."""
    found = BUILD_META_RE.search(html)
    if found is None:
        raise PatchError("index.html: no atlas-build meta (not a page this build made)")
    return found.group(1)
