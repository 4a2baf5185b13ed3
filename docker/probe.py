"""Black-box checks of a running `panel serve` over HTTP and Bokeh's websocket, stdlib only.

Used by docker/test.py against the container (always on 127.0.0.1). A bare websocket 101 proves
nothing: Bokeh accepts the upgrade even without a session token and closes afterwards. So the
origin check sends the page's own session token as Bokeh's subprotocol (`bokeh, <token>`) and
waits for Bokeh's first protocol message, ACK; a foreign origin must get 403 before any upgrade.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import re
import select
import socket
import time
import urllib.parse
from dataclasses import dataclass

TOKEN_RE = re.compile(r'"token"\s*:\s*"([A-Za-z0-9_.\-]+)"')


class ProbeError(AssertionError):
    """A check failed: the message says what was expected and what came back."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on loopback now (the tests publish containers and the proxy there)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def http_get(host: str, port: int, path: str, timeout: float = 10.0,
             headers: dict[str, str] | None = None) -> Response:
    """One GET, redirects not followed."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def get_following(host: str, port: int, path: str, limit: int = 5) -> tuple[Response, list[str]]:
    """GET, following same-server redirects (Panel answers / with 302 to the app)."""
    seen = [path]
    for _ in range(limit):
        resp = http_get(host, port, path)
        if resp.status not in (301, 302, 303, 307, 308):
            return resp, seen
        location = urllib.parse.urljoin(path, resp.headers.get("location", ""))
        path = re.sub(r"^https?://[^/]+", "", location) or "/"
        seen.append(path)
    raise ProbeError(f"more than {limit} redirects: {seen}")


def wait_for_200(host: str, port: int, path: str, timeout: float, alive=None) -> float:
    """Poll until GET path answers 200; return the monotonic time it did."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            # One slow first answer must not be abandoned and asked again: every new request
            # to a Panel app starts another session on the same busy server.
            resp = http_get(host, port, path, timeout=max(1.0, deadline - time.monotonic()))
            if resp.status == 200:
                return time.monotonic()
            last = f"HTTP {resp.status}"
        except OSError as exc:
            last = repr(exc)
        if alive is not None and not alive():
            raise ProbeError(f"server exited before answering {path} (last: {last})")
        time.sleep(0.05)
    raise ProbeError(f"no HTTP 200 from {path} within {timeout:.0f} s (last: {last})")


def session_token(html: bytes) -> str:
    """The session token Bokeh embeds in the app page."""
    match = TOKEN_RE.search(html.decode("utf-8", "replace"))
    if not match:
        raise ProbeError("no session token found in the app page")
    return match.group(1)


def _recv_until(sock: socket.socket, marker: bytes, limit: int = 65536) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def _recv_exact(sock: socket.socket, n: int, buffered: bytearray) -> bytes:
    while len(buffered) < n:
        chunk = sock.recv(4096)
        if not chunk:
            raise ProbeError("websocket closed before a full frame arrived")
        buffered += chunk
    out = bytes(buffered[:n])
    del buffered[:n]
    return out


def _read_message(sock: socket.socket, buffered: bytearray) -> tuple[int, bytes]:
    """(opcode, payload) of one whole websocket message (fragments joined, pings skipped)."""
    opcode, payload, fin = _read_frame(sock, buffered)
    while opcode in (0x9, 0xA):  # ping: answered with a pong, as browsers do (keeps proxies open)
        if opcode == 0x9:
            _send_frame(sock, 0xA, payload)
        opcode, payload, fin = _read_frame(sock, buffered)
    while not fin:
        _op, more, fin = _read_frame(sock, buffered)
        payload += more
    return opcode, payload


def _send_text(sock: socket.socket, text: str) -> None:
    """One masked text frame, as a client must send."""
    _send_frame(sock, 0x1, text.encode())


def _send_frame(sock: socket.socket, opcode: int, data: bytes) -> None:
    """One masked frame (text 0x1, close 0x8, pong 0xA), as a client must send."""
    mask = os.urandom(4)
    head = bytearray([0x80 | opcode])
    if len(data) < 126:
        head.append(0x80 | len(data))
    elif len(data) < 65536:
        head += bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + len(data).to_bytes(8, "big")
    sock.sendall(bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _read_bokeh_message(sock: socket.socket, buffered: bytearray) -> tuple[dict, dict]:
    """Bokeh's wire message: header, metadata and content frames, then buffer pairs."""
    parts = []
    for _ in range(3):
        opcode, payload = _read_message(sock, buffered)
        if opcode != 0x1:
            raise ProbeError(f"expected a text frame of a Bokeh message, got opcode {opcode}")
        parts.append(json.loads(payload))
    header, _metadata, content = parts
    for _ in range(2 * int(header.get("num_buffers", 0))):
        _read_message(sock, buffered)
    return header, content


def _read_frame(sock: socket.socket, buffered: bytearray) -> tuple[int, bytes, bool]:
    """(opcode, payload, fin) of one unmasked server frame."""
    b0, b1 = _recv_exact(sock, 2, buffered)
    length = b1 & 0x7F
    if length == 126:
        length = int.from_bytes(_recv_exact(sock, 2, buffered), "big")
    elif length == 127:
        length = int.from_bytes(_recv_exact(sock, 8, buffered), "big")
    if b1 & 0x80:
        _recv_exact(sock, 4, buffered)  # servers never mask, but skip a key if one came
    return b0 & 0x0F, _recv_exact(sock, length, buffered), bool(b0 & 0x80)


@dataclass
class WsResult:
    status: int
    first_message: dict | None  # Bokeh's header frame of its first message (ACK expected)
    document: dict | None = None  # the session's document, when asked for


def upgrade(host: str, port: int, path: str, origin: str, token: str, timeout: float = 30.0,
            cookie: str = "") -> tuple[socket.socket, int, bytearray]:
    """Open a socket and ask for Bokeh's websocket as BokehJS does: (socket, HTTP status, bytes
    already read past the answer's head). `cookie` is sent back like a browser's (a router's
    affinity cookie). The caller closes the socket."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: bokeh, {token}\r\n"
        f"Origin: {origin}\r\n"
        + (f"Cookie: {cookie}\r\n" if cookie else "")
        + "\r\n"
    )
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(request.encode())
        raw = _recv_until(sock, b"\r\n\r\n")
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProbeError(f"not an HTTP answer to the upgrade: {status_line!r}")
    except BaseException:
        sock.close()
        raise
    return sock, int(parts[1]), bytearray(rest)


def websocket_attempt(host: str, port: int, path: str, origin: str, token: str,
                      timeout: float = 30.0, pull_document: bool = False) -> WsResult:
    """Upgrade to Bokeh's websocket from `origin` with `token`; read its first message header,
    and with `pull_document` ask for the session's document as BokehJS does (PULL-DOC-REQ)."""
    sock, status, buffered = upgrade(host, port, path, origin, token, timeout)
    with sock:
        if status != 101:
            return WsResult(status, None)
        try:
            opcode, payload = _read_message(sock, buffered)
        except (ProbeError, OSError):
            return WsResult(status, None)  # closed with no message: the token was refused
        if opcode == 0x8:
            return WsResult(status, None)
        if opcode != 0x1:
            raise ProbeError(f"first websocket frame has opcode {opcode}, expected text")
        header = json.loads(payload)
        if not pull_document:
            return WsResult(status, header)
        for _ in range(2):  # the rest of the ACK: metadata, content
            _read_message(sock, buffered)
        for part in ({"msgid": "probe-1", "msgtype": "PULL-DOC-REQ"}, {}, {}):
            _send_text(sock, json.dumps(part))
        while True:
            reply, content = _read_bokeh_message(sock, buffered)
            if reply.get("msgtype") == "ERROR":
                raise ProbeError(f"the server answered PULL-DOC-REQ with {content!r}")
            if reply.get("msgtype") == "PULL-DOC-REPLY":
                return WsResult(status, header, content.get("doc"))


def check_ws_ack(host: str, port: int, app_path: str, origin: str, token: str) -> dict:
    """Allowed origin + the page's token: 101 and Bokeh's ACK message."""
    result = websocket_attempt(host, port, f"{app_path}/ws", origin, token)
    if result.status != 101:
        raise ProbeError(f"websocket from allowed origin {origin!r} got HTTP {result.status}")
    if not result.first_message or result.first_message.get("msgtype") != "ACK":
        raise ProbeError(f"websocket from {origin!r}: first message {result.first_message!r}, "
                         "expected Bokeh's ACK")
    return result.first_message


def check_ws_forbidden(host: str, port: int, app_path: str, origin: str, token: str) -> int:
    """Foreign origin, same valid token: refused with 403 before the upgrade."""
    result = websocket_attempt(host, port, f"{app_path}/ws", origin, token)
    if result.status != 403:
        raise ProbeError(f"websocket from foreign origin {origin!r} got HTTP {result.status}, "
                         "expected 403")
    return result.status


def pull_document(host: str, port: int, app_path: str, origin: str, token: str) -> dict:
    """The session's Bokeh document, fetched over the websocket as the page's BokehJS does."""
    result = websocket_attempt(host, port, f"{app_path}/ws", origin, token, pull_document=True)
    if result.status != 101 or result.document is None:
        raise ProbeError(f"no document from {app_path}/ws (HTTP {result.status})")
    return result.document


def session_digest(session_id: str) -> str:
    """What the app's log shows for a session id (app/climate_atlas/session_log.py; this module
    stays stdlib-only, so the one line is repeated rather than imported)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


def token_session_id(token: str) -> str:
    """The session id inside Bokeh's session token (its first part is base64url JSON)."""
    payload = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["session_id"]


def _find_model(obj: object, name: str) -> dict | None:
    """The first model of type `name` in a serialized Bokeh document."""
    if isinstance(obj, dict):
        if obj.get("name") == name and "id" in obj:
            return obj
        obj = list(obj.values())
    if isinstance(obj, list):
        for value in obj:
            if (found := _find_model(value, name)) is not None:
                return found
    return None


class LightSession:
    """One visitor without a browser, as docker/test.py and docker/scale.py need it: the page
    (through a router: with its affinity cookie), Bokeh's websocket with the page's token, the
    document, the `document_ready` event BokehJS sends once drawn (Panel's onload, which applies
    the link's state, waits for it), then changes typed into "Find a country" and the server's
    update. Pings are answered, as browsers do, so a router's idle timer sees traffic both ways.
    Blocking sockets: one thread per session."""

    def __init__(self, host: str, port: int, app_path: str, origin: str, query: str = "",
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.app_path, self.origin = host, port, app_path, origin
        self.query, self.timeout = query, timeout
        self.cookie = ""
        self.sock: socket.socket | None = None
        self.buffered = bytearray()
        self.document: dict = {}
        self.session_id = ""
        self.msgid = 0

    @property
    def digest(self) -> str:
        return session_digest(self.session_id)

    def open(self) -> LightSession:
        """Page, websocket, ACK, document, document_ready; raises ProbeError on any miss."""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        resp = http_get(self.host, self.port, self.app_path + self.query, self.timeout, headers)
        if resp.status != 200:
            raise ProbeError(f"page {self.app_path + self.query}: HTTP {resp.status}")
        if "set-cookie" in resp.headers:  # the router's affinity cookie; the name=value part
            self.cookie = resp.headers["set-cookie"].split(";", 1)[0]
        token = session_token(resp.body)
        self.session_id = token_session_id(token)
        self.sock, status, self.buffered = upgrade(self.host, self.port, f"{self.app_path}/ws",
                                                   self.origin, token, self.timeout, self.cookie)
        if status != 101:
            self.close()
            raise ProbeError(f"websocket upgrade: HTTP {status}")
        header, _ = self.read()
        if header.get("msgtype") != "ACK":
            raise ProbeError(f"first message {header.get('msgtype')}, expected ACK")
        self.send("PULL-DOC-REQ", {})
        while True:
            header, content = self.read()
            if header.get("msgtype") == "PULL-DOC-REPLY":
                self.document = content["doc"]
                break
        self.send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "document_ready", "values": {"type": "map"}}}]})
        return self

    def send(self, msgtype: str, content: dict) -> None:
        assert self.sock is not None
        self.msgid += 1
        for part in ({"msgid": f"light-{self.msgid}", "msgtype": msgtype}, {}, content):
            _send_text(self.sock, json.dumps(part))

    def read(self) -> tuple[dict, dict]:
        """The next Bokeh message (header, content); ProbeError if the server closed."""
        assert self.sock is not None
        header, content = _read_bokeh_message(self.sock, self.buffered)
        if header.get("msgtype") == "ERROR":
            raise ProbeError(f"server ERROR: {json.dumps(content)[:200]}")
        return header, content

    def wait_for(self, text: str, timeout: float = 15.0) -> None:
        """Read until a PATCH-DOC that mentions `text` (the server's update)."""
        assert self.sock is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProbeError(f"no update mentioning {text!r} within {timeout:.0f} s")
            self.sock.settimeout(left)
            try:
                header, content = self.read()
            except (OSError, ProbeError) as exc:  # TimeoutError is an OSError
                raise ProbeError(f"waiting for {text!r}: {exc!r}") from exc
            finally:
                self.sock.settimeout(self.timeout)
            if header.get("msgtype") == "PATCH-DOC" and text in json.dumps(content):
                return

    def change(self, term: str, expect: str, timeout: float = 15.0) -> float:
        """Type `term` into "Find a country" (a PATCH-DOC as the browser sends it) and wait for
        the update mentioning `expect`; return the seconds it took."""
        box = _find_model(self.document, "AutocompleteInput")
        if box is None:
            raise ProbeError("no AutocompleteInput in the session's document")
        sent = time.monotonic()
        self.send("PATCH-DOC", {"events": [
            {"kind": "ModelChanged", "model": {"id": box["id"]}, "attr": "value", "new": term}]})
        self.wait_for(expect, timeout)
        return time.monotonic() - sent

    def idle(self, seconds: float) -> int:
        """Send nothing for `seconds`, answering the server's pings; return how many came."""
        assert self.sock is not None
        pings = 0
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                break
            opcode, payload, _fin = _read_frame(self.sock, self.buffered)
            if opcode == 0x9:
                _send_frame(self.sock, 0xA, payload)
                pings += 1
            elif opcode == 0x8:
                raise ProbeError(f"the server closed the websocket while idle: {payload[2:]!r}")
        return pings

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):  # the server may already be gone
                _send_frame(self.sock, 0x8, (1000).to_bytes(2, "big"))
            self.sock.close()
            self.sock = None
