"""Serve the static site on 127.0.0.1, at the root or under a sub-path (as a static host would).

Like hosts that read a `_headers` file (Netlify, Cloudflare Pages), it sends the headers that file
gives for each path (the build writes the Content-Security-Policy there), and never serves the file.

    python tools/serve_static.py [--dir build] [--port 8000] [--prefix /atlas/]

Also importable by tests: `server, url = start(Path("build"), prefix="/atlas/")`, later
`server.shutdown()`. Port 0 picks a free port.
"""
from __future__ import annotations

import argparse
import fnmatch
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def read_headers_file(path: Path) -> list[tuple[str, str, str]]:
    """(path pattern, header name, value) from a `_headers` file: a pattern line such as `/*`,
    then indented `Name: value` lines. An absent file gives no headers."""
    rules: list[tuple[str, str, str]] = []
    pattern = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines() if path.exists()
                                  else [], 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            pattern = line.strip()
        elif pattern is None or ":" not in line:
            raise ValueError(f"{path}:{number}: expected a path line, then indented 'Name: value'")
        else:
            name, value = line.strip().split(":", 1)
            rules.append((pattern, name.strip(), value.strip()))
    return rules


class Handler(SimpleHTTPRequestHandler):
    prefix = "/"
    headers_rules: list[tuple[str, str, str]] = []
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
        if self.path.split("?", 1)[0] == "/_headers":
            self.send_error(404)
            return None
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")  # every load in a test is a cold load
        path = self.path.split("?", 1)[0]
        for pattern, name, value in self.headers_rules:
            if fnmatch.fnmatchcase(path, pattern):
                self.send_header(name, value)
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
    rules = read_headers_file(directory / "_headers")
    handler = functools.partial(type("H", (Handler,), {"prefix": prefix, "headers_rules": rules}),
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
