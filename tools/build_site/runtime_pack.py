"""Stage: make the worker's downloads checked, smaller and parallel (tools/runtime_fetch.js):
integrity hashes for the runtime files, gzip for the two large text-like ones, and every wheel the
boot needs requested at once when the worker starts, instead of after Pyodide has booted. The
wheels are then loaded from the lock (Pyodide checks their sha256), not through micropip, which
would add its own import and a resolver pass to every cold start."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from tools.build_site.files import TOOLS, gzip_file, sri
from tools.build_site.panel_patches import load_boot_from_lock


def boot_packages(lock: dict, roots: list[str]) -> list[str]:
    """What the worker loads before the app runs: the roots and their dependencies in the lock."""
    wanted, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += lock[name]["depends"]
    return sorted(wanted)


def pack_runtime(out: Path, roots: list[str]) -> list[str]:
    """Write out/pyodide/runtime_fetch.js and patch main.js to use it; returns the boot's packages."""
    runtime = out / "pyodide"
    files = {}
    for name, kind in (("pyodide.asm.wasm", "application/wasm"), ("pyodide.asm.js", "text/javascript"),
                       ("python_stdlib.zip", None), ("pyodide-lock.json", None)):
        path = runtime / name
        if kind:
            packed = path.with_name(name + ".gzip")
            gzip_file(path, packed, 9)
            path.unlink()
            path = packed
        files[name] = {"file": path.name, "integrity": sri(path), **({"type": kind} if kind else {})}
    lock = json.loads((runtime / "pyodide-lock.json").read_text())["packages"]
    boot = boot_packages(lock, roots)
    for name in boot:
        wheel = lock[name]
        digest = base64.b64encode(bytes.fromhex(wheel["sha256"])).decode()
        files[wheel["file_name"]] = {"file": wheel["file_name"], "integrity": f"sha256-{digest}"}
    fetcher = (TOOLS / "runtime_fetch.js").read_text(encoding="utf-8")
    (runtime / "runtime_fetch.js").write_text(
        fetcher.replace("__RUNTIME_FILES__", json.dumps(files, indent=2)), encoding="utf-8")
    worker = out / "main.js"
    worker.write_text(load_boot_from_lock(worker.read_text(encoding="utf-8"), boot), encoding="utf-8")
    return boot
