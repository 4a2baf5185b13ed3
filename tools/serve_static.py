"""Serve the static site on 127.0.0.1, at the root or under a sub-path (as a static host would).

    python tools/serve_static.py [--dir build] [--port 8000] [--prefix /atlas/]

Also importable by tests: `server, url = start(Path("build"), prefix="/atlas/")`, later
`server.shutdown()`. Port 0 picks a free port.
"""
from __future__ import annotations

import argparse
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(SimpleHTTPRequestHandler):
    prefix = "/"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript",
                      ".js": "text/javascript", ".svg": "image/svg+xml"}

    def send_head(self):
        path = self.path.split("?", 1)[0]
        if path + "/" == self.prefix:
            self.send_response(301)
            self.send_header("Location", self.prefix)
            self.end_headers()
            return None
        if not path.startswith(self.prefix):
            self.send_error(404)
            return None
        self.path = "/" + self.path[len(self.prefix):]
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")  # every load in a test is a cold load
        super().end_headers()

    def log_message(self, *args):  # quiet; tests count requests in the browser
        pass


class QuietServer(ThreadingHTTPServer):
    """A browser that navigates away mid-download is normal here, not an error worth a traceback."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


def start(directory: Path, port: int = 0, prefix: str = "/") -> tuple[ThreadingHTTPServer, str]:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    handler = functools.partial(type("H", (Handler,), {"prefix": prefix}),
                                directory=str(directory))
    server = QuietServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}{prefix}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent.parent / "build")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--prefix", default="/")
    args = parser.parse_args()
    if not (args.dir / "index.html").exists():
        raise SystemExit(f"{args.dir}/index.html is missing: run `make build` first")
    server, url = start(args.dir, args.port, args.prefix)
    print(f"Climate Atlas (static site): {url}   (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
