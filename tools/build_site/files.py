"""What every stage of the build shares: the download cache, how it runs a command, how it logs,
and the digests and compression of the site's files."""
from __future__ import annotations

import base64
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The site's own sources (page status line, favicon, runtime loader, service worker, snapshot JS),
# which the stages copy or fill in.
TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
# Downloads are cached outside the clone, so a fresh clone on the same machine reuses them.
CACHE = Path(os.environ.get("CLIMATE_ATLAS_CACHE", Path.home() / ".cache" / "climate-atlas"))
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
# In the browser, each build's files are kept in the cache named this + the build's name (tools/sw.js,
# service_worker.py); the snapshot restore reads its own build's (tools/snapshot_restore.js).
BROWSER_CACHE_PREFIX = "climate-atlas-"


class BuildError(RuntimeError):
    """A build check failed: the message says which and what to do."""


def log(msg: str) -> None:
    print(f"[build_site] {msg}", flush=True)


def run(*cmd: object, **kw: object) -> None:
    """Run a command, raising when it fails (its output goes to the build's own)."""
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sri(path: Path) -> str:
    """The file's Subresource Integrity value, as fetch(..., {integrity}) checks it."""
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def gzip_file(src: Path, dest: Path, level: int) -> None:
    """Reproducible gzip (no timestamp), for files the worker inflates with DecompressionStream."""
    with src.open("rb") as f_in, gzip.GzipFile(dest, "wb", level, mtime=0) as f_out:
        shutil.copyfileobj(f_in, f_out, 1 << 20)
