"""The static server the benchmark loads sites from: tools/servers.py's (ordinary headers: ETag and
Last-Modified, no Cache-Control; its `Traffic` counts what it sends, which also sees what the Pyodide
worker and the service worker fetch), extended with what only the benchmark needs:
`Access-Control-Allow-Origin: *` (the baseline's CDN requests are redirected here), content types
by path suffix (the emulated package index), and a shaped link (`Link`) for the emulated profile.
"""
from __future__ import annotations

import shutil
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

from tools.servers import StaticHandler, Traffic, serve

CHUNK = 16 * 1024


class Link:
    """The network between the browser and this server: `rate` bytes/s shared by every response,
    and `latency` s before each response's headers; unshaped (loopback) until `shape` says.
    Chromium's DevTools emulation does not reach what a service worker fetches (a 5 MB fetch through
    a pass-through service worker took 0.2-0.5 s under a 50 Mbit/s emulation of the page), so the
    static variants are shaped here, where every request arrives, whoever made it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate, self.latency, self._free_at = 0.0, 0.0, 0.0

    def shape(self, profile: dict | None) -> None:
        """A profile as bench/browser.py's PROFILES give it (CDP's units: bytes/s, ms), or None."""
        with self._lock:
            self.rate = profile["downloadThroughput"] if profile else 0.0
            self.latency = profile["latency"] / 1000 if profile else 0.0

    def wait_latency(self) -> None:
        if self.latency:
            time.sleep(self.latency)

    def send(self, nbytes: int) -> None:
        """Wait until `nbytes` more have crossed the link (one queue for every connection)."""
        with self._lock:
            if not self.rate:
                return
            start = max(time.monotonic(), self._free_at)
            self._free_at = done = start + nbytes / self.rate
        time.sleep(max(0.0, done - time.monotonic()))


class BenchHandler(StaticHandler):
    extra_types: dict[str, str] = {}  # path suffix -> content type
    link: Link

    def send_head(self) -> BinaryIO | None:
        self.link.wait_latency()
        return super().send_head()

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:
        if not self.link.rate:
            shutil.copyfileobj(source, outputfile)
            return
        while chunk := source.read(CHUNK):
            self.link.send(len(chunk))
            outputfile.write(chunk)

    def guess_type(self, path: str) -> str:
        for suffix, kind in self.extra_types.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


def start(mounts: dict[str, Path], extra_types: dict[str, str] | None = None,
          ) -> tuple[ThreadingHTTPServer, str, Traffic, Link]:
    """Serve `mounts` on a free 127.0.0.1 port; returns (server, base URL, its traffic count, its
    link)."""
    traffic, link = Traffic(), Link()
    handler = type("BenchHandler", (BenchHandler,), {"extra_types": extra_types or {}, "link": link})
    server, base = serve(mounts, handler=handler, traffic=traffic)
    return server, base, traffic, link
