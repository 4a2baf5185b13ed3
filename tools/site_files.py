"""Edits and digests of the site's files, shared by the build steps (build_site.py, snapshot.py)."""
from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
from pathlib import Path


def replace_once(text: str, old: str, new: str, where: str) -> str:
    """Patch generated text (Panel's page and worker, or an earlier step's patch), failing loudly
    when the anchor is missing or ambiguous: the generator changed, and the patch must be revisited."""
    assert text.count(old) == 1, f"{where}: expected exactly one {old!r} (Panel template changed?)"
    return text.replace(old, new)


def gzip_file(src: Path, dest: Path, level: int) -> None:
    """Reproducible gzip (no timestamp), for files the worker inflates with DecompressionStream."""
    with src.open("rb") as f_in, gzip.GzipFile(dest, "wb", level, mtime=0) as f_out:
        shutil.copyfileobj(f_in, f_out, 1 << 20)


def sri(path: Path) -> str:
    """The file's Subresource Integrity value, as fetch(..., {integrity}) checks it."""
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
