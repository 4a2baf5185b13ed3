"""Stage: the Pyodide runtime, from its npm package (`npm pack`), checked against a pinned sha256.

Its pyodide-lock.json is the reference every compiled wheel is checked against (carrier.py)."""
from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path

from tools.build_site.files import CACHE, BuildError, log, run, sha256
from tools.build_site.panel_patches import PYODIDE_VERSION

# sha256 of `npm pack pyodide@0.27.7`
PYODIDE_TGZ_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")


def fetch_runtime() -> Path:
    """Pyodide's npm package, unpacked once into the cache; returns its package/ folder."""
    tgz, unpacked = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz", CACHE / f"pyodide-{PYODIDE_VERSION}"
    if not tgz.exists():
        log(f"npm pack pyodide@{PYODIDE_VERSION}")
        CACHE.mkdir(parents=True, exist_ok=True)
        run("npm", "pack", "--silent", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", CACHE)
    if sha256(tgz) != PYODIDE_TGZ_SHA256:
        raise BuildError(f"{tgz}: sha256 differs from the pinned npm tarball; delete it and rebuild")
    if not unpacked.exists():
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / "package").rename(unpacked)
        shutil.rmtree(tmp)
    return unpacked


def copy_runtime(runtime: Path, pyodide_dir: Path) -> None:
    for name in RUNTIME_FILES:
        shutil.copy(runtime / name, pyodide_dir / name)
