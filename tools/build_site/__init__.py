"""The offline static site `build/`, built from `app/main.py` in stages (DESIGN.md section 4).

    python -m tools.build_site [--root DIR] [--out DIR]      (`make build`)

Every byte the page loads ends up under `build/`:

    index.html, main.js        Panel's convert_app output (pyodide-worker, pre-rendered), plus our
                               viewport meta, favicon, status line and readable load errors, and
                               the map's picture, painted before BokehJS runs (poster.py)
    js/<script>-<digest>.js    every script the page runs, one file each: Tabulator's two, the
                               BokehJS and Panel bundles, and page-<digest>.js with the page's half
                               of the Python worker and the status line (scripts.py)
    pyodide/                   Pyodide 0.27.7 runtime, wheels, pruned pyodide-lock.json
    panel/1.9.4/dist/          Panel's CSS, fonts and bundled assets (PANEL_CDN_ROOT points here)

One module per stage, in the order `__main__` runs them; panel_patches.py holds every edit of
Panel's converter and of the page and worker it writes. Downloads are cached under
~/.cache/climate-atlas (or $CLIMATE_ATLAS_CACHE), outside the clone. The site is built into
`<out>.tmp` and renamed into place only when every check has passed; a failed check raises
BuildError with a message. It also writes a Python heap snapshot (pyodide/snapshot/) that a returning
visit's worker restores instead of booting and loading the boot's wheels (snapshot.py).
"""
