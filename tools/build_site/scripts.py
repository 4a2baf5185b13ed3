"""Stage: the page's JavaScript as files beside it, so the page is painted before that JS runs.

Panel's inline page carries BokehJS and Panel's JS (about 2.9 MB) as inline scripts in <head>, and
the browser painted nothing until it had parsed and run all of them (first paint 0.6-1.0 s after
navigation on loopback). As files under `js/`, each loaded with `defer` and its integrity hash (the
browser refuses a file whose bytes differ), the HTML is parsed and painted first (with the map's
picture, poster.py), the browser compiles the files off the page's main thread as they arrive, and
caches them apart from the page. Tabulator's two scripts, files already, get `defer` and a hash too:
they blocked the first paint the same way.

Deferred scripts run in page order once the page is parsed, before DOMContentLoaded, when Panel's
embed script (inline, it only registers for that event) draws the pre-rendered document. Two more
scripts follow the bundles into files, so that they still run after them: the page's half of the
Python worker (Panel's), which creates the worker, and the status line's (tools/site_status.html),
which listens to it. Started while the page is parsed, the worker's runtime start (inflating,
compiling the wasm) competed with BokehJS's start and the pre-render's drawing on the CPU, and the
map was drawn about half a second later; started after BokehJS has run, as it was when BokehJS was
inline, it does not.
"""
from __future__ import annotations

import html as html_text
import re
from pathlib import Path
from urllib.parse import unquote

from tools.build_site.files import TOOLS, sri
from tools.build_site.panel_patches import (
    inline_scripts,
    referenced_scripts,
    replace_once,
    without_log_level,
)

JS_DIR = "js"  # build/js/: Panel's inline scripts and ours, as files
STATUS_JS = "site_status.js"


def _tag(src: str, path: Path) -> str:
    return f'<script src="{html_text.escape(src)}" integrity="{sri(path)}" defer></script>'


def status_script() -> str:
    """The script element of the status line (tools/site_status.html, which page.py inserts)."""
    found = re.findall(r"<script\b.*?</script>", (TOOLS / "site_status.html").read_text(encoding="utf-8"),
                       re.S)
    if len(found) != 1:
        raise ValueError(f"tools/site_status.html: expected one script, found {len(found)}")
    return found[0]


def load_scripts_from_files(out: Path) -> int:
    """Write out/js/*.js and load every script of out/index.html that must run after BokehJS from
    its file, in the same order (after page.py's edits and copy_panel_assets: Tabulator's files must
    be there to be hashed). Returns how many bytes left the page."""
    index = out / "index.html"
    page = index.read_text(encoding="utf-8")
    folder = out / JS_DIR
    folder.mkdir()
    status = status_script()
    moved = inline_scripts(page)
    moved[STATUS_JS] = (status, re.sub(r"^<script\b[^>]*>|</script>$", "", status))
    smaller = without_log_level(page)
    for name, (element, text) in moved.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        smaller = replace_once(smaller, element, _tag(f"./{JS_DIR}/{name}", path), "index.html")
    for element, src in referenced_scripts(smaller):
        smaller = replace_once(smaller, element, _tag(src, out / unquote(src.removeprefix("./"))),
                               "index.html")
    index.write_text(smaller, encoding="utf-8")
    return len(page.encode()) - len(smaller.encode())
