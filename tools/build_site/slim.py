"""Stage: drop from the larger wheels what the browser never reads (each removal passed the
blocked-network e2e check; DESIGN.md section 4, "Size")."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

from tools.build_site import files

SLIM = {
    "panel": ("panel/dist/", "panel/tests/"),
    "bokeh": ("bokeh/server/static/", "bokeh/sphinxext/", "typings/"),
    "holoviews": ("holoviews/examples/", "holoviews/tests/"),
}


def slim(wheel: Path) -> Path:
    """Drop the folders the browser never reads and rewrite RECORD to match (cached)."""
    drop = SLIM.get(parse_wheel_filename(wheel.name)[0])
    if not drop:
        return wheel
    rules = hashlib.sha256(repr(sorted(SLIM.items())).encode()).hexdigest()[:12]
    out = files.CACHE / "slim" / rules / wheel.name  # a change to SLIM never reuses an old result
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename.startswith(drop):
                continue
            data = zin.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(x for x in lines if not x.startswith(drop)).encode()
            zout.writestr(info, data)
    tmp.rename(out)
    return out
