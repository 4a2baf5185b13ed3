"""The static host every test, benchmark and `make run` uses (tools/servers.py): what it sends is what
an ordinary static host sends (no Cache-Control: the browser caches heuristically), and what it
sent can be counted."""
from __future__ import annotations

import http.client
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tools.servers import Gate, Traffic, serve, stop_process_group


def _get(base: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<p>atlas</p>")
    (tmp_path / "pyodide").mkdir()
    (tmp_path / "pyodide" / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "_headers").write_text("/*\n  Content-Security-Policy: default-src 'self'\n"
                                       "/pyodide/*\n  X-Runtime: yes\n")
    return tmp_path


def test_a_site_under_a_sub_path_is_served_as_a_host_would(site: Path) -> None:
    server, base = serve({"/atlas/": site})
    try:
        status, headers, body = _get(base, "/atlas/")
        assert (status, body) == (200, b"<p>atlas</p>")
        assert "Cache-Control" not in headers and "ETag" in headers and "Last-Modified" in headers
        assert headers["Content-Security-Policy"] == "default-src 'self'" and "X-Runtime" not in headers
        status, headers, _ = _get(base, "/atlas/pyodide/a.wasm")
        assert headers["Content-Type"] == "application/wasm" and headers["X-Runtime"] == "yes"
        for bare, location in (("/atlas", "/atlas/"), ("/atlas/pyodide", "/atlas/pyodide/")):
            status, headers, _ = _get(base, bare)
            assert (status, headers["Location"]) == (301, location)
        assert _get(base, "/atlas/_headers")[0] == 404  # read by the host, never served
        assert _get(base, "/atlas/../index.html")[0] == 404
        assert _get(base, "/other/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_a_gate_holds_back_only_its_files_until_released(site: Path) -> None:
    """What the before-Python e2e tests rely on: the runtime waits, the page does not."""
    gate = Gate("/pyodide/*.wasm")
    server, base = serve({"/": site}, gates=(gate,))
    held: list[int] = []
    try:
        assert _get(base, "/index.html")[0] == 200 and not gate.asked.is_set()
        thread = threading.Thread(target=lambda: held.append(_get(base, "/pyodide/a.wasm")[0]))
        thread.start()
        assert gate.asked.wait(5)
        thread.join(0.3)
        assert held == [] and _get(base, "/index.html")[0] == 200  # the rest is served meanwhile
        gate.release()
        thread.join(5)
        assert held == [200]
    finally:
        gate.release()
        server.shutdown()
        server.server_close()


def test_an_unchanged_file_is_answered_304_and_every_answer_is_counted(site: Path) -> None:
    traffic = Traffic()
    server, base = serve({"/": site}, traffic=traffic)
    try:
        status, headers, body = _get(base, "/index.html")
        assert status == 200
        status, _, empty = _get(base, "/index.html?v=1", **{"If-None-Match": headers["ETag"]})
        assert (status, empty) == (304, b"")
        assert _get(base, "/missing")[0] == 404
        sent = traffic.snapshot()
        assert sent["statuses"] == {"/index.html": [200, 304], "/missing": [404]}
        assert (sent["requests"], sent["not_modified"]) == (3, 1)
        assert sent["paths"]["/index.html"] > len(body) and sent["bytes"] > sent["paths"]["/index.html"]
        traffic.reset()
        assert traffic.snapshot()["requests"] == 0
    finally:
        server.shutdown()
        server.server_close()


def test_stopping_a_process_group_stops_its_children() -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                               "time.sleep(60)"], start_new_session=True)
    stop_process_group(parent, timeout=5)
    assert parent.returncode is not None
    alive = subprocess.run(["pgrep", "-g", str(parent.pid)], capture_output=True, text=True).stdout
    assert alive == ""


def test_a_redeploy_that_switches_a_symlink_is_served_at_once(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text(name)
    root = tmp_path / "site"
    root.symlink_to(tmp_path / "a")
    server, base = serve({"/": root})
    try:
        assert _get(base, "/")[2] == b"a"
        root.unlink()
        root.symlink_to(tmp_path / "b")
        assert _get(base, "/")[2] == b"b"
    finally:
        server.shutdown()
        server.server_close()
