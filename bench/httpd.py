"""The static server the benchmark loads sites from: tools/servers.py's (ordinary headers: ETag and
Last-Modified, no Cache-Control; its `Traffic` counts what it sends, which also sees what the Pyodide
worker and the service worker fetch), extended with what only the benchmark needs:
`Access-Control-Allow-Origin: *` (the baseline's CDN requests are redirected here) and content types
by path suffix (the emulated package index).
"""
from __future__ import annotations

from http.server import ThreadingHTTPServer
from pathlib import Path

from tools.servers import StaticHandler, Traffic, serve


class BenchHandler(StaticHandler):
    extra_types: dict[str, str] = {}  # path suffix -> content type

    def guess_type(self, path: str) -> str:
        for suffix, kind in self.extra_types.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


def start(mounts: dict[str, Path], extra_types: dict[str, str] | None = None,
          ) -> tuple[ThreadingHTTPServer, str, Traffic]:
    """Serve `mounts` on a free 127.0.0.1 port; returns (server, base URL, its traffic count)."""
    traffic = Traffic()
    handler = type("BenchHandler", (BenchHandler,), {"extra_types": extra_types or {}})
    server, base = serve(mounts, handler=handler, traffic=traffic)
    return server, base, traffic
