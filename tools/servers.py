"""Every server the project starts, for people (`make run`), tests, the benchmark and the build.

One place owns what they share, so a test, a benchmark and a local run see the same server:
- a free port on 127.0.0.1 (never `localhost`: the browsers' resolver rule leaves only 127.0.0.1);
- waiting until a server answers by polling (never a fixed sleep), keeping its output for the
  failure message;
- a static server that sends what an ordinary static host sends: files under URL prefixes, ETag and
  Last-Modified (a `304 Not Modified` to a matching If-None-Match) and no Cache-Control, so the
  browser caches as it does for such a host (heuristically: it may reuse a file without asking, and
  `cache: 'force-cache'` finds what it fetched before); keep-alive; the headers a `_headers` file
  gives for each path (as Netlify and Cloudflare Pages do; the build writes the
  Content-Security-Policy there; the file itself is never served);
- counting what it sends (`Traffic`: requests, bytes on the wire, 304s, per path), which a count in
  the browser cannot do completely: the server also sees what the Pyodide worker and the service
  worker fetch;
- holding requests back: a test keeps the Python runtime from arriving (`Gate`) to see what the page
  does before Python is live;
- `panel serve app/main.py`, in its own process group;
- stopping a process group (`panel serve --num-procs` forks workers; Chromium starts helpers).

    python -m tools.servers [--dir build] [--port 8000] [--prefix /atlas/]      (`make run`)
"""
from __future__ import annotations

import argparse
import contextlib
import email.utils
import fnmatch
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start; the message carries its own output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _tail(output: IO[bytes] | None) -> str:
    if output is None:
        return ""
    output.seek(0)
    return "\n--- server output ---\n" + output.read().decode(errors="replace")[-5000:]


def wait_until_up(url: str, timeout: float, proc: subprocess.Popen | None = None,
                  output: IO[bytes] | None = None) -> None:
    """Poll `url` until it answers 200. Raises ServerError, with the end of `output` (the server's
    stdout and stderr), when `proc` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"the server for {url} exited ({proc.returncode}) before answering"
                              + _tail(output))
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ServerError(f"{url} did not answer within {timeout} s" + _tail(output))


def stop_process_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop `proc` (started with start_new_session=True) and everything in its group: SIGTERM,
    then SIGKILL if it has not exited within `timeout`, then SIGKILL to children that outlived it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


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


class Traffic:
    """What a server sent since the last `reset()`: requests, bytes on the wire (headers and body),
    `304 Not Modified` answers, and per path (as requested, without the query) bytes and the status
    of each answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests, self.bytes, self.not_modified = 0, 0, 0
            self.paths: dict[str, int] = {}
            self.statuses: dict[str, list[int]] = {}

    def add(self, path: str, nbytes: int, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes += nbytes
            self.not_modified += status == 304
            self.paths[path] = self.paths.get(path, 0) + nbytes
            self.statuses.setdefault(path, []).append(status)

    def snapshot(self) -> dict:
        """{requests, bytes, not_modified, paths: {path: bytes}, statuses: {path: [status...]}}."""
        with self._lock:
            return {"requests": self.requests, "bytes": self.bytes, "not_modified": self.not_modified,
                    "paths": dict(self.paths),
                    "statuses": {path: list(s) for path, s in self.statuses.items()}}


@dataclass
class Gate:
    """Requests for paths matching `pattern` (fnmatch, inside the mount: "/pyodide/pyodide.asm.*")
    wait until `release()`, for at most `timeout` seconds; `asked` is set by the first one. `shut()`
    holds them again (and clears `asked`)."""
    pattern: str
    timeout: float = 300
    asked: threading.Event = field(default_factory=threading.Event)
    _open: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._open.set()

    def shut(self) -> None:
        self.asked.clear()
        self._open.clear()

    def hold(self, inner: str) -> None:
        """Called by the handler for each request; blocks while the gate is shut."""
        if fnmatch.fnmatchcase(inner, self.pattern):
            self.asked.set()
            self._open.wait(self.timeout)


@dataclass(frozen=True)
class Mount:
    """A folder served under a URL prefix ("/" or "/atlas/"), with its `_headers` rules (read once,
    at start)."""
    prefix: str
    folder: Path
    rules: tuple[tuple[str, str, str], ...]


class StaticHandler(SimpleHTTPRequestHandler):
    """What a static host sends; configured per server by `serve` (a subclass with its mounts)."""
    mounts: tuple[Mount, ...] = ()  # longest prefix first
    gates: tuple[Gate, ...] = ()
    traffic: Traffic | None = None
    status, body_length = 0, 0  # of the response being written
    protocol_version = "HTTP/1.1"  # keep-alive, as a real host
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".svg": "image/svg+xml", ".json": "application/json"}

    def _located(self) -> tuple[Mount, str] | None:
        """The mount this request falls under and the path inside it ("/..."), or None."""
        path = unquote(urlsplit(self.path).path)
        for mount in self.mounts:
            if path.startswith(mount.prefix):
                return mount, "/" + path[len(mount.prefix):]
        return None

    def _empty(self, status: int, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_head(self) -> BinaryIO | None:
        path = urlsplit(self.path).path
        located = self._located()
        if located is None:
            bare = [m.prefix for m in self.mounts if unquote(path) + "/" == m.prefix]
            if bare:  # a sub-path without its slash, as a host redirects it
                self._empty(301, Location=bare[0])
            else:
                self.send_error(404)
            return None
        mount, inner = located
        for gate in self.gates:
            gate.hold(inner)
        root = mount.folder.resolve()  # per request: a redeploy may switch a symlinked folder
        target = (root / inner.lstrip("/")).resolve()
        if inner == "/_headers" or not (target == root or root in target.parents):
            self.send_error(404)
            return None
        if target.is_dir():
            if not path.endswith("/"):
                self._empty(301, Location=path + "/")
                return None
            target = target / "index.html"
        if not target.is_file():
            self.send_error(404)
            return None
        st = target.stat()
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        if self.headers.get("If-None-Match") == etag:
            self._empty(304, ETag=etag)
            return None
        f = target.open("rb")
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(st.st_size))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("ETag", etag)
        self.end_headers()
        return f

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status, self.body_length = code, 0
        super().send_response(code, message)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "content-length":
            self.body_length = int(value)
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        located = self._located()
        if located is not None:
            mount, inner = located
            for pattern, name, value in mount.rules:
                if fnmatch.fnmatchcase(inner, pattern):
                    self.send_header(name, value)
        if self.traffic is not None:  # counted before the body is sent: who has read it sees it counted
            head = sum(len(line) for line in self._headers_buffer) + 2  # and the blank line
            self.traffic.add(unquote(urlsplit(self.path).path), head + self.body_length, self.status)
        super().end_headers()

    def log_message(self, *args: object) -> None:  # quiet: tests and the bench count in the browser
        pass


class QuietServer(ThreadingHTTPServer):
    """A browser that navigates away mid-download is normal here, not an error worth a traceback."""
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


def serve(mounts: dict[str, Path], port: int = 0,
          handler: type[StaticHandler] = StaticHandler, gates: tuple[Gate, ...] = (),
          traffic: Traffic | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve each folder under its URL prefix on 127.0.0.1 (port 0: a free one) in a thread;
    returns the server (`shutdown()` and `server_close()` stop it) and its base URL (no slash).
    `handler`: StaticHandler or an extension of it; `gates`: requests to hold back; `traffic`:
    where to count what is sent."""
    found = []
    for prefix, folder in mounts.items():
        prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        folder = Path(folder).absolute()
        found.append(Mount(prefix, folder, tuple(read_headers_file(folder / "_headers"))))
    configured = type(handler.__name__, (handler,), {
        "mounts": tuple(sorted(found, key=lambda m: -len(m.prefix))), "gates": tuple(gates),
        "traffic": traffic})
    server = QuietServer((HOST, port), configured)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{HOST}:{server.server_address[1]}"


@contextlib.contextmanager
def static_serve(folder: Path, prefix: str = "/", gates: tuple[Gate, ...] = (),
                 traffic: Traffic | None = None) -> Iterator[str]:
    """Serve `folder` at `http://127.0.0.1:<free port><prefix>` until the block ends;
    yields that URL once it answers. `gates`: requests to hold back (released when the block ends);
    `traffic`: where to count what is sent (the readiness poll included)."""
    server, base = serve({prefix: folder}, gates=gates, traffic=traffic)
    url = base + (server.RequestHandlerClass.mounts[0].prefix)
    try:
        wait_until_up(url, 10)
        yield url
    finally:
        for gate in gates:
            gate.release()
        server.shutdown()
        server.server_close()


@dataclass
class Served:
    """A running `panel serve`."""
    url: str  # the app's page
    ws_url: str  # its websocket, for bokeh.client
    proc: subprocess.Popen
    output: IO[bytes] | None = None  # its stdout and stderr, as far as written

    def log(self) -> str:
        """What the server has printed so far. Read with pread: the server writes through the same
        open file, so moving its offset would make it overwrite its own lines."""
        if self.output is None:
            return ""
        fd = self.output.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def rss(self) -> int:
        """Resident memory of the server and its children (--num-procs forks), in bytes."""
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total


def _children(pid: int) -> list[int]:
    out = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += [int(child), *_children(int(child))]
    return out


@contextlib.contextmanager
def panel_serve(env: dict[str, str] | None = None, num_procs: int = 1,
                extra: tuple[str, ...] = ()) -> Iterator[Served]:
    """`panel serve app/main.py` on a free loopback port (its own process group, so forked workers
    stop with it) until the block ends; yields it once its page answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "main.py"),
           "--address", HOST, "--port", str(port),
           "--allow-websocket-origin", f"{HOST}:{port}", "--num-procs", str(num_procs), *extra]
    url = f"http://{HOST}:{port}/main"
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                start_new_session=True)
        try:
            wait_until_up(url, 90, proc, output)
            yield Served(url, f"ws://{HOST}:{port}/main/ws", proc, output)
        finally:
            stop_process_group(proc)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.servers",
                                     description="Serve the static site on 127.0.0.1, at the root or "
                                     "under a sub-path, as a static host would.")
    parser.add_argument("--dir", type=Path, default=ROOT / "build")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--prefix", default="/")
    args = parser.parse_args()
    if not (args.dir / "index.html").exists():
        raise SystemExit(f"{args.dir}/index.html is missing: run `make build` first")
    server, base = serve({args.prefix: args.dir}, args.port)
    print(f"Climate Atlas (static site): {base}{server.RequestHandlerClass.mounts[0].prefix}   "
          "(Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
