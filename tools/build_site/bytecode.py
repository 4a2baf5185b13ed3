"""Stage: byte-compile ahead of time, sourceless (each .py replaced by its .pyc, as in Pyodide's own
"pyc" distribution). Otherwise the browser compiles ~2000 modules on every load (cold time to
interactive 12.1 s -> 7.8-8.6 s in a profile of one build; `from panel.io.pyodide import` 4.6 s
-> 2.0 s). Pyodide's compiled wheels are checked against its lock first, then compiled like the
rest; the lock we write carries the sha256 of what we ship. Needs CPython 3.12, the browser's
bytecode (magic below): the machine's pyenv has one. Without it (or with CLIMATE_ATLAS_BYTECODE=0)
the site ships sources, and says so.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from tools.build_site.files import CACHE, log, sha256

BYTECODE = os.environ.get("CLIMATE_ATLAS_BYTECODE", "1") == "1"
PY312_MAGIC = "cb0d0d0a"
SITE_PACKAGES = "/lib/python3.12/site-packages"
STDLIB = "/lib/python312.zip"  # where python_stdlib.zip is mounted in the browser


def find_python312() -> str | None:
    """A CPython 3.12 (the browser's bytecode), or None when there is none or bytecode is off."""
    if not BYTECODE:
        return None
    candidates = [os.environ.get("CLIMATE_ATLAS_PY312"), shutil.which("python3.12"),
                  *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python"))]
    for exe in filter(None, candidates):
        magic = subprocess.run([exe, "-c", "import importlib.util as u; print(u.MAGIC_NUMBER.hex())"],
                               capture_output=True, text=True).stdout.strip()
        if magic == PY312_MAGIC:
            return exe
    log("WARNING: no CPython 3.12 found (set CLIMATE_ATLAS_PY312): the site ships Python sources, "
        "which the browser compiles on every load (several seconds slower)")
    return None


def byte_compile(archive: Path, prefix: str, python312: str) -> Path:
    """A copy of a wheel or zip whose modules are sourceless .pyc, for `prefix` in the browser
    (cached by content; fixed timestamps, so the same input gives the same bytes)."""
    out = CACHE / "pyc-nodebugranges" / sha256(archive)[:16] / archive.name
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
        # unchecked-hash: the .pyc is used as is (there is no source to compare against);
        # no column ranges (tracebacks keep line numbers): 20-25% smaller
        subprocess.run([python312, "-m", "compileall", "-q", "-j0", "-b", "--invalidation-mode",
                        "unchecked-hash", "-s", tmp, "-p", prefix, tmp], stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONNODEBUGRANGES": "1"})
        for py in tmp.rglob("*.py"):
            if py.with_suffix(".pyc").exists():  # a file that does not compile keeps its source
                py.unlink()
        for record in tmp.glob("*.dist-info/RECORD"):
            lines = record.read_text().splitlines()
            record.write_text("".join(
                (f"{f}c,,\n" if f.endswith(".py") and not (tmp / f).exists() else f"{line}\n")
                for line in lines for f in [line.split(",")[0]]))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(tmp.rglob("*")):
                if path.is_file():
                    z.writestr(zipfile.ZipInfo(path.relative_to(tmp).as_posix()),
                               path.read_bytes(), zipfile.ZIP_DEFLATED)
        out.with_suffix(".tmp").rename(out)
    return out


def compile_in_place(archive: Path, prefix: str, python312: str | None) -> None:
    """Replace `archive` by its byte-compiled copy (nothing without a 3.12)."""
    if python312:
        shutil.copy(byte_compile(archive, prefix, python312), archive)
