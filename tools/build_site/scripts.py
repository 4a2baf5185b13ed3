"""Stage: the page's JavaScript as one file beside it, so the page is painted before that JS runs.

Panel's inline page carries BokehJS and Panel's JS (about 2.9 MB) as inline scripts in <head>, and
the browser painted nothing until it had parsed and run all of them (first paint 0.6-1.0 s after
navigation on loopback). As a file, `js/page-<digest>.js`, loaded with `defer` and its integrity hash
(the browser refuses it if a byte differs), the HTML is parsed and painted first (with the map's
picture, poster.py), the browser compiles the file off the page's main thread as it arrives, and
caches it apart from the page. Its name changes with its content, so a host or browser cache that
keeps files long can never pair a new page with an old file. One file, not one per script: a cold
load stays within its 60 requests.

In it, in the page's order: Tabulator's two scripts (referenced files before, which blocked the first
paint the same way), the BokehJS and Panel bundles, then the page's half of the Python worker
(Panel's: it creates the worker and relays between it and BokehJS) and the status line's script
(tools/site_status.html, which listens to the worker). A deferred script runs once the page is
parsed, before DOMContentLoaded, when Panel's embed script (inline: it only registers for that
event) draws the pre-rendered document. The worker starts after BokehJS has run, as it did when
BokehJS was inline: started while the page was parsed, its runtime start (inflating, compiling the
wasm) competed with BokehJS's start and the pre-render's drawing on the CPU, and the map was drawn
about half a second later. Each bundle begins with 'use strict', which applies to a whole script:
in one file, each is wrapped in a function of its own that keeps it strict and leaves the others as
they were (the bundles are one `(function(root, factory) {...})(this, ...)` each, so the wrapper
changes nothing else; `.call(this)` keeps `this` the global object).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

from tools.build_site.files import TOOLS, sri
from tools.build_site.panel_patches import (
    WORKER_BRIDGE,
    PatchError,
    inline_scripts,
    referenced_scripts,
    replace_once,
    without_log_level,
)

JS_DIR = "js"  # build/js/page-<digest>.js: every script the page runs from a file
_STRICT_BUNDLE = re.compile(r"'use strict';\n/\*!.*?\*/\n\(function\(root, factory\) \{\n.*\}\);\n",
                            re.S)


def status_script() -> str:
    """The script element of the status line (tools/site_status.html, which page.py inserts)."""
    found = re.findall(r"<script\b.*?</script>", (TOOLS / "site_status.html").read_text(encoding="utf-8"),
                       re.S)
    if len(found) != 1:
        raise ValueError(f"tools/site_status.html: expected one script, found {len(found)}")
    return found[0]


def _strict_alone(name: str, bundle: str) -> str:
    if not _STRICT_BUNDLE.fullmatch(bundle):
        raise PatchError(f"{name}: not one strict factory call as Bokeh 3.9 writes its bundles")
    return f"(function () {{\n{bundle}}}).call(this);"


def load_scripts_from_file(out: Path) -> int:
    """Write out/js/page-<digest>.js and have out/index.html load it in place of every script it
    held or referenced (after page.py's edits and copy_panel_assets: Tabulator's files must be
    there). Returns how many bytes left the page."""
    index = out / "index.html"
    page = index.read_text(encoding="utf-8")
    parts, drop = [], []
    for element, src in referenced_scripts(page):
        parts.append((out / unquote(src.removeprefix("./"))).read_text(encoding="utf-8"))
        drop.append(element)
    for name, (element, text) in inline_scripts(page).items():
        parts.append(text if name == WORKER_BRIDGE else _strict_alone(name, text))
        drop.append(element)
    status = status_script()
    parts.append(re.sub(r"^<script\b[^>]*>|</script>$", "", status))
    drop.append(status)

    data = "\n;\n".join(parts).encode("utf-8")
    path = out / JS_DIR / f"page-{hashlib.sha256(data).hexdigest()[:16]}.js"
    path.parent.mkdir()
    path.write_bytes(data)
    tag = f'<script src="./{JS_DIR}/{path.name}" integrity="{sri(path)}" defer></script>'
    smaller = without_log_level(page)
    for i, element in enumerate(drop):  # the file is loaded where the first script was
        smaller = replace_once(smaller, element, tag if i == 0 else "", "index.html")
    index.write_text(smaller, encoding="utf-8")
    return len(page.encode()) - len(smaller.encode())

