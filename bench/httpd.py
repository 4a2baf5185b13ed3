"""The static server the benchmark loads sites from: 127.0.0.1, several folders under URL prefixes.

Unlike tools/serve_static.py (no-store, for tests), it behaves like a common static host so that a
warm reload means something: `Cache-Control: no-cache` with ETag/Last-Modified, so a second visit
revalidates every file and gets `304 Not Modified` (the default of several static hosts). It adds
`Access-Control-Allow-Origin: *` (the baseline's CDN requests are redirected here), and counts the
requests and bytes it sends: a count at the server also sees what the Pyodide worker fetches.
"""
from __future__ import annotations

import email.utils
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bytes, self.not_modified, self.paths = 0, 0, 0, {}

    def add(self, path: str, nbytes: int, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += nbytes
            self.not_modified += status == 304
            self.paths[path] = self.paths.get(path, 0) + nbytes

    def snapshot(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "bytes": self.bytes,
                    "not_modified": self.not_modified, "paths": dict(self.paths)}


class Handler(SimpleHTTPRequestHandler):
    mounts: dict[str, Path] = {}  # URL prefix -> folder
    extra_types: dict[str, str] = {}  # path suffix -> content type
    counter: Counter
    cache_control = "no-cache"
    protocol_version = "HTTP/1.1"  # keep-alive, as a real host
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".svg": "image/svg+xml", ".json": "application/json"}

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        for prefix, folder in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
            if path.startswith(prefix):
                rel = path[len(prefix):]
                target = (folder / rel).resolve()
                if folder.resolve() in target.parents or target == folder.resolve():
                    return str(target)
        return "/nonexistent"

    def guess_type(self, path) -> str:
        for suffix, kind in self.extra_types.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and not self.path.split("?")[0].endswith("/"):
            return super().send_head()
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        if not os.path.isfile(path):
            self.send_error(404)
            return None
        st = os.stat(path)
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f = open(path, "rb")  # noqa: SIM115 - closed by the base class after copying
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(st.st_size))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("ETag", etag)
        self.end_headers()
        return f

    def end_headers(self):
        self.send_header("Cache-Control", self.cache_control)
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_request(self, code="-", size="-"):
        pass

    def log_message(self, *args):
        pass

    # Count what goes on the wire: headers and body, per request.
    def setup(self):
        super().setup()
        raw = self.wfile
        handler = self

        class Counting:
            def write(self, data):
                handler._sent += len(data)
                return raw.write(data)

            def __getattr__(self, name):
                return getattr(raw, name)

        self.wfile = Counting()

    def handle_one_request(self):
        self._sent = 0
        self._status = 0
        super().handle_one_request()
        if self._status:
            self.counter.add(unquote(urlsplit(self.path).path), self._sent, self._status)

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


def start(mounts: dict[str, Path], extra_types: dict[str, str] | None = None):
    """Serve `mounts` on a free 127.0.0.1 port; returns (server, base URL, counter)."""
    counter = Counter()
    handler = type("H", (Handler,), {"mounts": mounts, "counter": counter,
                                     "extra_types": extra_types or {}})
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", counter
