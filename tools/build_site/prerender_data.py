"""Stage: the data the pre-render fetches when it first draws an indicator before Python is live
(app/climate_atlas/views/prerender.py): one small JSON per indicator under `prerender/`. The page
carries each file's integrity hash, computed from the same bytes when the app was pre-rendered."""
from __future__ import annotations

from pathlib import Path

from tools.build_site.files import BuildError


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
