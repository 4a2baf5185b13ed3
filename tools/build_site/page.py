"""Stage: the page's own files beside Panel's output: our edits of index.html and main.js
(panel_patches.py), the favicon, and Panel's CSS, fonts and bundled assets (PANEL_CDN_ROOT)."""
from __future__ import annotations

import shutil
from pathlib import Path

from tools.build_site.files import TOOLS
from tools.build_site.panel_patches import PANEL_VERSION, patch_page, patch_worker_errors

# Panel assets served from PANEL_CDN_ROOT (Tabulator's bundle included for pn.widgets.Tabulator).
PANEL_ASSETS = ("css", "assets", "bundled/theme", "bundled/reactiveesm", "bundled/datatabulator",
                "bundled/font-awesome/css", "bundled/font-awesome/webfonts")  # icons: Tabulator, buttons


def improve_page(out: Path) -> None:
    """viewport meta, our favicon, the service worker's registration (tools/sw_register.js), a
    returning visit's early Python worker (tools/worker_start.js), a status
    line naming the loading stage (tools/site_status.html), readable load errors, and the build's
    name passed to the Python worker's URL."""
    index, worker = out / "index.html", out / "main.js"
    status = (TOOLS / "site_status.html").read_text(encoding="utf-8")
    register = (TOOLS / "sw_register.js").read_text(encoding="utf-8")
    worker_start = (TOOLS / "worker_start.js").read_text(encoding="utf-8")
    index.write_text(patch_page(index.read_text(encoding="utf-8"), status, register, worker_start),
                     encoding="utf-8")
    shutil.copy(TOOLS / "favicon.svg", out / "favicon.svg")
    worker.write_text(patch_worker_errors(worker.read_text(encoding="utf-8")), encoding="utf-8")


def copy_panel_assets(out: Path) -> None:
    from panel.io.resources import DIST_DIR

    dest = out / "panel" / PANEL_VERSION / "dist"
    for sub in PANEL_ASSETS:  # one path contains '^' and '@': copy as paths, never through a shell
        # no source maps; of Font Awesome's font formats, only woff2 (what every current browser uses)
        skip = shutil.ignore_patterns("*.map", "*.eot", "*.ttf", "*.woff")
        shutil.copytree(DIST_DIR / sub, dest / sub, ignore=skip)
