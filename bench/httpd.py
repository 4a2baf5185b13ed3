"""The static server the benchmark loads sites from: tools/servers.py's, revalidating (a warm reload
means something: `Cache-Control: no-cache` with ETag/Last-Modified, so a second visit gets
`304 Not Modified`, the default of several static hosts), extended with what only the benchmark
needs: `Access-Control-Allow-Origin: *` (the baseline's CDN requests are redirected here), content
types by path suffix (the emulated package index), and a count of the requests and bytes it sends
(a count at the server also sees what the Pyodide worker fetches).
"""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from tools.servers import REVALIDATE, StaticHandler, serve


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


class _CountingWriter:
    """The response stream, counting what goes on the wire (headers and body)."""

    def __init__(self, raw: BinaryIO, handler: CountingHandler) -> None:
        self.raw, self.handler = raw, handler

    def write(self, data: bytes) -> int:
        self.handler.sent += len(data)
        return self.raw.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)


class CountingHandler(StaticHandler):
    counter: Counter
    extra_types: dict[str, str] = {}  # path suffix -> content type

    def guess_type(self, path: str) -> str:
        for suffix, kind in self.extra_types.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile, self)

    def handle_one_request(self) -> None:
        self.sent, self.status = 0, 0
        super().handle_one_request()
        if self.status:
            self.counter.add(unquote(urlsplit(self.path).path), self.sent, self.status)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status = code
        super().send_response(code, message)


def start(mounts: dict[str, Path], extra_types: dict[str, str] | None = None,
          ) -> tuple[ThreadingHTTPServer, str, Counter]:
    """Serve `mounts` on a free 127.0.0.1 port; returns (server, base URL, counter)."""
    counter = Counter()
    handler = type("BenchHandler", (CountingHandler,), {"counter": counter,
                                                        "extra_types": extra_types or {}})
    server, base = serve(mounts, cache_control=REVALIDATE, handler=handler)
    return server, base, counter
