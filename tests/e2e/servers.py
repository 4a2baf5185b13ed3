"""Servers the e2e tests start and stop: `panel serve` and a static file server, both on 127.0.0.1.

Each picks a free port, is polled until it answers (never a fixed sleep), and keeps its output so a
failure to start says why.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tools import serve_static

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float, alive: callable = lambda: True) -> None:
    """Poll `url` until it answers 200, the process dies, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server for {url} exited before answering")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def panel_serve(env: dict[str, str] | None = None) -> Iterator[str]:
    """`panel serve app/main.py` on a free loopback port; yields the app's URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "main.py"),
           "--address", HOST, "--port", str(port),
           "--allow-websocket-origin", f"{HOST}:{port}", "--num-procs", "1"]
    url = f"http://{HOST}:{port}/main"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})})
        try:
            wait_until_up(url, 60, alive=lambda: proc.poll() is None)
        except Exception as exc:
            _stop(proc)
            log.seek(0)
            raise RuntimeError(f"{exc}\n--- panel serve output ---\n{log.read().decode()}") from exc
        try:
            yield url
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def static_serve(folder: Path, prefix: str = "/") -> Iterator[str]:
    """Serve `folder` at `http://127.0.0.1:<port><prefix>` with the project's static server."""
    server, url = serve_static.start(folder, 0, prefix)
    try:
        wait_until_up(url, 10)
        yield url
    finally:
        server.shutdown()
        server.server_close()
