"""Stage: the page's JavaScript as files beside it, so the page is painted before that JS runs.

Panel's inline page carries BokehJS and Panel's JS (about 2.9 MB) as inline scripts in <head>, and
the browser painted nothing until it had parsed and run all of them (first paint 0.6-1.0 s after
navigation on loopback). As files, `js/<script>-<digest>.js`, each loaded with `defer` and its
integrity hash (the browser refuses a file if a byte differs), the HTML is parsed and painted first
(with the map's picture, poster.py), the browser compiles the files off the page's main thread as
they arrive, and caches them apart from the page. A file's name changes with its content, so a host
or browser cache that keeps files long can never pair a new page with an old file.

One file per script, not one for all: the browser runs each deferred script as a task of its own,
and a click on the map's picture made while the page's JS runs is answered between two of them
(about 0.15 s later on loopback; with one 3.45 MB file, at the end of its 0.7 s task). Eight files:
Tabulator's two scripts (referenced files before, which blocked the first paint the same way), the
five BokehJS and Panel bundles (each its own script, so each keeps its own 'use strict'), and
`page-<digest>.js`, the page's own: the page's half of the Python worker (Panel's: it creates the
worker and relays between it and BokehJS) and the status line's script (tools/site_status.html,
which listens to the worker). Deferred scripts run in the page's order once it is parsed, before
DOMContentLoaded, when Panel's embed script (inline: it only registers for that event) draws the
pre-rendered document. The files are loaded from the body, after the picture and the country table
(which later stages put first in it) and before the pre-rendered document: loaded from <head>, the
eight files delayed the first paint by about 0.2 s on loopback (the picture at 0.44 s instead of
0.22 s, median of 8 cold visits; one file in <head> did not), and at the body's end a slow link's
browser would find them only once the whole page had arrived. Found once the page's first 0.21 MB
have arrived, they start that much later than from <head>; on a link whose bandwidth is the limit
that costs about nothing: they cannot run before the rest of the page has arrived, and would have
shared the link with it. The worker starts after BokehJS has run, as it did when BokehJS was
inline: started while the page was parsed, its runtime start (inflating, compiling the wasm)
competed with BokehJS's start and the pre-render's drawing on the CPU, and the map was drawn about
half a second later.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

from tools.build_site.files import TOOLS, sri
from tools.build_site.panel_patches import (
    WORKER_BRIDGE,
    inline_scripts,
    open_body_with,
    referenced_scripts,
    replace_once,
    without_log_level,
)

JS_DIR = "js"  # build/js/<script>-<digest>.js: every script the page runs from a file
PAGE_SCRIPT = "page"  # the file of the page's own scripts (the worker's bridge and the status line)


def status_script() -> str:
    """The script element of the status line (tools/site_status.html, which page.py inserts)."""
    found = re.findall(r"<script\b.*?</script>", (TOOLS / "site_status.html").read_text(encoding="utf-8"),
                       re.S)
    if len(found) != 1:
        raise ValueError(f"tools/site_status.html: expected one script, found {len(found)}")
    return found[0]


def _stem(name: str) -> str:
    """A file's name stem for a script: 'bokeh-gl.min.js' or '.../luxon.min.js' -> 'bokeh-gl', 'luxon'."""
    return re.sub(r"(\.min)?\.js$", "", name.rsplit("/", 1)[-1])


def _write(out: Path, stem: str, text: str) -> str:
    """Write out/js/<stem>-<digest>.js; returns the script element that loads it."""
    data = text.encode("utf-8")
    path = out / JS_DIR / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}.js"
    path.write_bytes(data)
    return f'<script src="./{JS_DIR}/{path.name}" integrity="{sri(path)}" defer></script>'


def load_scripts_from_files(out: Path) -> int:
    """Write the page's scripts into out/js/ and have out/index.html load them, in their order, first
    in its body, in place of every script it held or referenced (after page.py's edits and
    copy_panel_assets: Tabulator's files must be there; they move to js/, so that the build holds
    no file twice). Returns how many bytes left the page."""
    index = out / "index.html"
    page = index.read_text(encoding="utf-8")
    (out / JS_DIR).mkdir()
    files, drop = [], []
    for element, src in referenced_scripts(page):  # moved, not copied: nothing else loads them
        source = out / unquote(src.removeprefix("./"))
        files.append((_stem(src), source.read_text(encoding="utf-8")))
        source.unlink()
        drop.append(element)
    own = []
    for name, (element, text) in inline_scripts(page).items():
        if name == WORKER_BRIDGE:
            own.append(text)
        else:
            files.append((_stem(name), text))
        drop.append(element)
    status = status_script()
    own.append(re.sub(r"^<script\b[^>]*>|</script>$", "", status))
    drop.append(status)
    files.append((PAGE_SCRIPT, "\n;\n".join(own)))

    tags = "\n".join(_write(out, stem, text) for stem, text in files)
    smaller = without_log_level(page)
    for element in drop:
        smaller = replace_once(smaller, element, "", "index.html")
    index.write_text(open_body_with(smaller, tags), encoding="utf-8")
    return len(page.encode()) - len(smaller.encode())
