"""Stage: name the build and write its service worker (tools/sw.js)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

from tools.build_site.files import BROWSER_CACHE_PREFIX, TOOLS, sha256, sri
from tools.build_site.panel_patches import build_name, name_build
from tools.build_site.snapshot import SNAPSHOT_DIR


def add_service_worker(out: Path) -> str:
    """Name the build and write sw.js (tools/sw.js), which keeps every file of it, checked against
    its integrity, as the first visit fetches it and fetches the rest once the dashboard is ready and
    idle: later visits load from that cache, offline too. The name (version) is a digest of every
    file, so any change to a file renames the build and installs a new cache beside the old one. The
    page's own copy of the name is left out of the digest (it cannot depend on itself), so running this
    again on a changed copy of a site names it as a rebuild would (the redeploy e2e test does).
    The heap snapshot, which only a next visit uses, is fetched last. Returns the version."""
    index = out / "index.html"
    html = index.read_text(encoding="utf-8")
    unnamed = name_build(html, "")
    # _headers is read by the host, never served (csp.py)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and p != out / "sw.js" and p.name != "_headers")
    parts = [f + (hashlib.sha256(unnamed.encode()).hexdigest() if f == "index.html" else sha256(out / f))
             for f in files]
    version = hashlib.sha256("".join(parts).encode()).hexdigest()[:16]
    index.write_text(name_build(html, version), encoding="utf-8")
    # URL as the page requests it ('^' percent-encoded) -> integrity, which sw.js checks before it keeps
    # a file, so that a file replaced on the host mid-visit never enters this build's cache; "./"
    # opens index.html
    integrity = {_url(f): sri(out / f) for f in files}
    integrity = {"./": integrity["./index.html"], **integrity}
    js = (TOOLS / "sw.js").read_text(encoding="utf-8")
    later = [f for f in files if f.startswith(SNAPSHOT_DIR + "/")]
    js = (js.replace("__VERSION__", version).replace("__FILES__", json.dumps(integrity, indent=0))
          .replace("__LATER__", json.dumps([_url(f) for f in later]))
          .replace("__CACHE_PREFIX__", BROWSER_CACHE_PREFIX))
    (out / "sw.js").write_text(js, encoding="utf-8")
    return version


def _url(file: str) -> str:
    """A file's URL relative to sw.js, as the page requests it ('^' percent-encoded)."""
    return "./" + quote(file, safe="/@:+,;=!$&'()*~")


def site_version(site: Path) -> str:
    """The version add_service_worker gave a built site."""
    return build_name((site / "index.html").read_text(encoding="utf-8"))
