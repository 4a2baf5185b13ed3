"""Stage: sizes on disk by component (what a cold load fetches is measured by the e2e tests)."""
from __future__ import annotations

from pathlib import Path

from tools.build_site.files import log


def report(out: Path) -> None:
    parts: dict[str, int] = {}
    for p in out.rglob("*"):
        if p.is_file():
            rel = p.relative_to(out).as_posix()
            key = (rel.split("/")[1] if rel.endswith(".whl") else "pyodide runtime"
                   if rel.startswith("pyodide/") else "panel assets (on disk, loaded on demand)"
                   if rel.startswith("panel/") else rel)
            parts[key] = parts.get(key, 0) + p.stat().st_size
    for key, size in sorted(parts.items(), key=lambda kv: -kv[1]):
        log(f"{size / 1e6:8.3f} MB  {key}")
    log(f"{sum(parts.values()) / 1e6:8.3f} MB  total")
