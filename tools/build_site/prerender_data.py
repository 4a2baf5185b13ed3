"""Stage: the data the pre-render reads before Python is live (app/climate_atlas/views/prerender.py):
one small JSON per indicator under `prerender/`, fetched when the pre-render first draws that
indicator (the page carries each file's integrity hash, computed from the same bytes when the app
was pre-rendered); and the country table (every country's series, title and trend line) as one
data block in the page, read by the pre-render's callback and by the map's picture
(tools/poster.html), which comes before it in the page: the picture is painted first."""
from __future__ import annotations

from pathlib import Path

from tools.build_site.files import BuildError
from tools.build_site.panel_patches import open_page_body_with


def write_prerender_data(out: Path) -> int:
    """Write out/prerender/*.json; returns their total size in bytes."""
    from climate_atlas.data import load_atlas
    from climate_atlas.views.prerender import DATA_DIR, indicator_files

    files = indicator_files(load_atlas())
    if not files:
        raise BuildError("no indicator data for the pre-render")
    folder = out / DATA_DIR
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sum(len(data) for data in files.values())


def add_country_table(out: Path) -> int:
    """Open out/index.html's body with the country table (after the scripts left the page: the
    body's tag is also in them); returns its size in bytes."""
    from climate_atlas.data import load_atlas
    from climate_atlas.views.prerender import country_table_block

    return open_page_body_with(out, country_table_block(load_atlas()))
