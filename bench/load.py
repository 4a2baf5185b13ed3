"""Server side: many light clients against `panel serve` on 127.0.0.1 (`python -m bench server`).

Each client is a raw Bokeh-protocol websocket (what BokehJS speaks, without a browser): it opens a
session with a locally generated session token (the server runs with Bokeh's default unsigned
session ids), pulls the document, and then every `interval` seconds types a country into the "Find a
country" box (a PATCH-DOC setting the AutocompleteInput's value, as the browser sends it). The update
latency is the time from sending that change to receiving the server's PATCH-DOC that carries the
temperature chart's new title ("<country>: trend ..."). Errors: failed connections, server ERROR
replies, closed sockets, and updates with no reply within 10 s.

Phases: (1) 50 sessions connect (staggered over `ramp` s), each makes one update; (2) a step search
of the rate (changes per second across the 50 sessions, ascending, each step on a drained server,
stopping at the first step that fails) for the highest with p95 <= 300 ms and no errors; (3) the
steady run: one change every 5 s per session for `seconds`. Server RSS (with --num-procs children)
at start, once all sessions have connected and updated (server idle again), and at the end (idle).
All of it for --num-procs 1 (the image's setting); `run(procs=(1, 2))` adds the steady run for
--num-procs 2, which an earlier run found no faster for 1.7x the memory (README), and which `make
bench` leaves out to stay under 20 minutes with the memory waves.

Then memory over time (`memory_waves`, issue 22): 500 sessions opened and closed in waves of 50, as
a visitor's browser does (docker/probe.py's LightSession: page, websocket, document, one change),
against a server with the image's allocator settings; RSS after each wave, with its sessions closed
but not yet discarded, and once they are discarded and the app has trimmed the heap. `make bench`
runs smaller waves until its deadline, to end within 20 minutes. `make docker-test` checks the same
in the image (docker/scale.py).
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from tornado.websocket import websocket_connect

from tools.servers import HOST, panel_serve

TARGET_P95 = 0.300
# A step of the rate search lasts for at least this many changes: the p95 of 20 or fewer is their
# slowest, so one slow answer (1.0 s among fifteen at 1/s, twice on 2026-12-02) failed the search.
STEP_CHANGES = 40
TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[1]
WAVES, WAVE_SIZE, WAVE_THREADS = 10, 50, 6  # docker/scale.py's waves; 10 of them: the 500
MIN_WAVES = 2  # under a deadline: the growth compares the last wave with the first
# What the image sets (Dockerfile ENV, kept equal by tests/unit/test_dockerfile.py): Python's objects
# in glibc's heap, so that the app's malloc_trim after discarded sessions reaches them.
IMAGE_MEMORY_ENV = {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}
# Shorter than the image's 30 s / 10 s, so that a wave's sessions are discarded within seconds of
# its end: the same discard, release and trim, without half a minute's wait after each wave.
WAVE_FLAGS = ("--unused-session-lifetime", "3000", "--check-unused-sessions", "1000")
# The app's line after each batch of discards (app/climate_atlas/session_log.py)
MEMORY_LINE = re.compile(r"memory rss_mb=(\d+) untrimmed_mb=(\d+) trim_ms=(\d+) sessions=(\d+) "
                         r"documents=(\d+)")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None  # noqa: E731
        return {"updates": len(lat), "p50": statistics.median(lat) if lat else None,
                "p95": pick(0.95), "max": lat[-1] if lat else None,
                "errors": len(self.errors), "error_examples": sorted(set(self.errors))[:5]}


def _find(obj, name: str, found: list) -> None:
    if isinstance(obj, dict):
        if obj.get("name") == name and "id" in obj:
            found.append(obj)
        for value in obj.values():
            _find(value, name, found)
    elif isinstance(obj, list):
        for value in obj:
            _find(value, name, found)


class Client:
    """One Bokeh session over a raw websocket."""

    def __init__(self, ws_url: str, origin: str) -> None:
        self.ws_url, self.origin = ws_url, origin
        self.conn = None
        self.box_id = None
        self.waiting: tuple[str, asyncio.Future] | None = None
        self.msgid = 0
        # The country this session shows: asking for it again changes nothing and gets no reply,
        # which would be counted as a lost update.
        self.showing: str | None = None

    async def connect(self) -> None:
        from bokeh.util.token import generate_jwt_token, generate_session_id
        from tornado.httpclient import HTTPRequest

        token = generate_jwt_token(generate_session_id())
        request = HTTPRequest(self.ws_url, headers={"Origin": self.origin})
        self.conn = await websocket_connect(request, subprotocols=["bokeh", token],
                                            max_message_size=64 * 2**20)
        header, _, _ = await self._read()
        if header["msgtype"] != "ACK":
            raise RuntimeError(f"expected ACK, got {header['msgtype']}")
        await self._send("PULL-DOC-REQ", {})
        header, _, content = await self._read()
        if header["msgtype"] != "PULL-DOC-REPLY":
            raise RuntimeError(f"expected PULL-DOC-REPLY, got {header['msgtype']}")
        boxes: list = []
        _find(json.loads(content), "AutocompleteInput", boxes)
        self.box_id = boxes[0]["id"]
        asyncio.get_running_loop().create_task(self._listen())

    async def _send(self, msgtype: str, content: dict) -> None:
        self.msgid += 1
        header = {"msgid": str(self.msgid), "msgtype": msgtype}
        await self.conn.write_message(json.dumps(header))
        await self.conn.write_message("{}")
        await self.conn.write_message(json.dumps(content))

    async def _read(self) -> tuple[dict, str, str]:
        frames = []
        while len(frames) < 3:
            msg = await self.conn.read_message()
            if msg is None:
                raise ConnectionError("websocket closed by the server")
            frames.append(msg)
        header = json.loads(frames[0])
        for _ in range(2 * header.get("num_buffers", 0)):  # each buffer: a ref, then the bytes
            await self.conn.read_message()
        return header, frames[1], frames[2]

    async def _listen(self) -> None:
        try:
            while True:
                header, _, content = await self._read()
                if header["msgtype"] == "ERROR" and self.waiting:
                    self.waiting[1].set_exception(RuntimeError(f"server ERROR: {content[:200]}"))
                elif (header["msgtype"] == "PATCH-DOC" and self.waiting
                      and self.waiting[0] in content and not self.waiting[1].done()):
                    self.waiting[1].set_result(time.perf_counter())
        except Exception as exc:  # noqa: BLE001
            if self.waiting and not self.waiting[1].done():
                self.waiting[1].set_exception(exc)

    def pick(self, choices: list[tuple[str, str]], rng: random.Random) -> tuple[str, str]:
        """A (term, expected title) for a country this session does not show now."""
        return rng.choice([c for c in choices if c[0] != self.showing])

    async def change(self, term: str, expect: str) -> float:
        self.showing = term
        future = asyncio.get_running_loop().create_future()
        self.waiting = (expect, future)
        sent = time.perf_counter()
        await self._send("PATCH-DOC", {"events": [
            {"kind": "ModelChanged", "model": {"id": self.box_id}, "attr": "value", "new": term}]})
        try:
            return await asyncio.wait_for(future, TIMEOUT) - sent
        finally:
            self.waiting = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _choices() -> list[tuple[str, str]]:
    """(search term, expected title start) for countries with plain ASCII names and a series."""
    from climate_atlas.data import load_atlas
    from climate_atlas.search import search_terms

    atlas = load_atlas()
    out = []
    for term, iso3 in search_terms(atlas).items():
        name = atlas.country_name(iso3)
        if term == f"{name} ({iso3})" and name.isascii() and '"' not in name \
                and iso3 in atlas.warming.index:
            out.append((term, f"{name}: trend"))
    return out


async def _session_loop(client: Client, choices, interval: float, until: float, tally: Tally,
                        rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, interval))
    while time.perf_counter() < until:
        tick = time.perf_counter()
        term, expect = client.pick(choices, rng)
        try:
            tally.latencies.append(await client.change(term, expect))
        except Exception as exc:  # noqa: BLE001
            tally.errors.append(type(exc).__name__ + ": " + str(exc)[:120])
        await asyncio.sleep(max(0.0, tick + interval - time.perf_counter()))


async def _drain(client: Client, choices, rng: random.Random, limit: float = 90) -> None:
    """Wait until the server answers a change within a second again (its queue is empty)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        term, expect = client.pick(choices, rng)
        try:
            if await client.change(term, expect) < 1.0:
                return
        except Exception:  # noqa: BLE001 - a timeout while the backlog drains
            pass


async def _connect_all(ws_url: str, origin: str, n: int, ramp: float, tally: Tally, choices,
                       rng: random.Random) -> list[Client]:
    async def one(i: int) -> Client | None:
        await asyncio.sleep(ramp * i / n)
        client = Client(ws_url, origin)
        try:
            await asyncio.wait_for(client.connect(), 120)
            term, expect = client.pick(choices, rng)
            tally.latencies.append(await client.change(term, expect))
            return client
        except Exception as exc:  # noqa: BLE001
            tally.errors.append(f"connect: {type(exc).__name__}: {str(exc)[:120]}")
            client.close()
            return None

    return [c for c in await asyncio.gather(*(one(i) for i in range(n))) if c]


async def _scenario(served, sessions: int, seconds: float, ramp: float, steps: list[float],
                    step_seconds: float) -> dict:
    rng = random.Random(13)
    choices = _choices()
    origin = served.url.rsplit("/", 1)[0]
    out: dict = {"rss_start": served.rss()}
    warmup = Tally()
    t = time.perf_counter()
    clients = await _connect_all(served.ws_url, origin, sessions, ramp, warmup, choices, rng)
    out["connect"] = {**warmup.summary(), "connected": len(clients), "seconds": time.perf_counter() - t}
    out["steps"] = []
    for rate in steps:  # ascending; a step starts on a drained server; stop at the first failure
        await _drain(clients[0], choices, rng)
        tally = Tally()
        duration = max(step_seconds, STEP_CHANGES / rate)
        until = time.perf_counter() + duration
        await asyncio.gather(*(_session_loop(c, choices, len(clients) / rate, until, tally, rng)
                               for c in clients))
        s = {**tally.summary(), "rate_per_s": rate,
             "achieved_per_s": len(tally.latencies) / duration}
        out["steps"].append(s)
        print(f"[bench-server]   rate {rate:5.1f}/s: p50 {s['p50']}, p95 {s['p95']}, "
              f"errors {s['errors']}", flush=True)
        if s["p95"] is None or s["p95"] > TARGET_P95 or s["errors"]:
            break
    ok = [s["rate_per_s"] for s in out["steps"]
          if s["p95"] is not None and s["p95"] <= TARGET_P95 and not s["errors"]]
    out["max_rate_p95_300ms"] = max(ok) if ok else None
    await _drain(clients[0], choices, rng)
    out["rss_connected"] = served.rss()  # all connected, each made an update, server idle
    steady = Tally()
    until = time.perf_counter() + seconds
    await asyncio.gather(*(_session_loop(c, choices, sessions / 10, until, steady, rng)
                           for c in clients))
    out["steady"] = {**steady.summary(), "rate_per_s": 10.0, "seconds": seconds,
                     "interval_per_session": sessions / 10}
    await _drain(clients[0], choices, rng)
    out["rss_end"] = served.rss()
    out["rss_growth"] = out["rss_end"] / out["rss_connected"] - 1
    for c in clients:
        c.close()
    return out


def _probe() -> ModuleType:
    """docker/probe.py (stdlib only; a script beside docker/test.py, not a package)."""
    spec = importlib.util.spec_from_file_location("atlas_probe", ROOT / "docker" / "probe.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _settled(served, since: int, timeout: float = 60) -> tuple[int, ...]:
    """Wait for the app's `memory` line, logged past offset `since`, that says no session is open
    (all discarded, the heap trimmed); return its figures: rss_mb, untrimmed_mb, trim_ms,
    sessions, documents."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = MEMORY_LINE.findall(served.log()[since:])
        if lines and int(lines[-1][3]) == 0:
            return tuple(int(v) for v in lines[-1])
        time.sleep(0.5)
    raise RuntimeError(f"no memory line with every session discarded within {timeout:.0f} s")


def memory_waves(waves: int = WAVES, size: int = WAVE_SIZE, until: float | None = None) -> dict:
    """Open and close `waves` x `size` light sessions; the server's RSS after each wave, before and
    after its sessions are discarded (and the heap trimmed). With `until` (a time.monotonic()
    deadline), no wave starts that would end after it, as its predecessors' mean duration says,
    but at least MIN_WAVES run (the growth compares the last with the first); `cut` then says how
    many ran: a wave of 50 is about 3 minutes of `panel serve` CPU here."""
    probe = _probe()
    choices = [("Brazil (BRA)", "Brazil: trend"), ("Chile (CHL)", "Chile: trend"),
               ("Kenya (KEN)", "Kenya: trend"), ("Norway (NOR)", "Norway: trend")]
    started = time.monotonic()
    out: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "size": size,
                 "flags": " ".join(WAVE_FLAGS),
                 "env": IMAGE_MEMORY_ENV, "closed": [], "settled": [], "documents": [],
                 "trim_ms": [], "seconds": []}
    print(f"[bench-server] memory: {waves} waves of {size} sessions", flush=True)
    with panel_serve(env=IMAGE_MEMORY_ENV, extra=WAVE_FLAGS) as served:
        port = urlsplit(served.url).port
        origin = f"http://{HOST}:{port}"

        def one(i: int) -> None:
            session = probe.LightSession(HOST, port, "/main", origin).open()
            session.change(*choices[i % len(choices)])
            session.close()

        out["rss_start"] = served.rss() / 2**20
        with ThreadPoolExecutor(WAVE_THREADS) as pool:
            for wave in range(waves):
                if (until is not None and wave >= MIN_WAVES
                        and time.monotonic() + statistics.mean(out["seconds"]) > until):
                    out["cut"] = f"{wave} of {waves} waves, as the run's deadline allowed"
                    print(f"[bench-server]   {out['cut']}", flush=True)
                    break
                t, since = time.perf_counter(), len(served.log())
                list(pool.map(one, range(size)))
                out["closed"].append(served.rss() / 2**20)
                figures = _settled(served, since)
                out["settled"].append(served.rss() / 2**20)
                out["trim_ms"].append(figures[2])
                out["documents"].append(figures[4])
                out["seconds"].append(time.perf_counter() - t)
                print(f"[bench-server]   wave {wave + 1}: RSS {out['closed'][-1]:.0f} MB with its "
                      f"sessions closed, {out['settled'][-1]:.0f} MB once discarded "
                      f"({out['seconds'][-1]:.0f} s)", flush=True)
    out["waves"] = len(out["settled"])  # the waves that ran
    out["growth"] = out["settled"][-1] / out["settled"][0] - 1
    out["total_seconds"] = round(time.monotonic() - started, 1)
    return out


def waves_markdown(w: dict) -> str:
    row = lambda values: " | ".join(f"{v:.0f}" for v in values)  # noqa: E731
    return "\n".join([
        f"**panel serve, memory over time: {w['waves'] * w['size']} light sessions opened and "
        f"closed in waves of {w['size']}** (RSS in MB after each wave; the image's allocator "
        f"settings, {', '.join(f'{k}={v}' for k, v in w['env'].items())}; `{w['flags']}` so that "
        "a wave's sessions are discarded within seconds)", "",
        "| wave | " + " | ".join(str(i + 1) for i in range(w["waves"])) + " |",
        "|---|" + "---|" * w["waves"],
        "| its sessions closed, not yet discarded | " + row(w["closed"]) + " |",
        "| once discarded and the heap trimmed | " + row(w["settled"]) + " |",
        "| documents alive then | " + row(w["documents"]) + " |", "",
        f"Last wave against the first, both once discarded: {w['growth'] * 100:+.1f}% (the "
        f"issue's bound: 10%); RSS at start {w['rss_start']:.0f} MB; each trim took at most "
        f"{max(w['trim_ms'])} ms. Measured {w['date']}, in {w['total_seconds'] / 60:.0f} minutes"
        + (f"; {w['cut']} (`python -m bench waves` runs {WAVES} of {WAVE_SIZE})." if "cut" in w
           else ".")])


def run(seconds: float = 120, sessions: int = 50, procs: tuple[int, ...] = (1,),
        steps: tuple[float, ...] = (1, 2, 5, 10, 20, 40), step_seconds: float = 15,
        until: float | None = None, wave_size: int = WAVE_SIZE) -> dict:
    """The rate search runs on the first process count only; the others get the steady run, which
    is what the comparison needs, so that `make bench` stays under 20 minutes; the memory waves
    (of `wave_size` sessions) stop at `until` (see memory_waves)."""
    results: dict = {"sessions": sessions, "seconds": seconds, "runs": {}}
    for num_procs in procs:
        print(f"[bench-server] panel serve --num-procs {num_procs}: {sessions} sessions", flush=True)
        with panel_serve(num_procs=num_procs) as served:
            r = asyncio.run(_scenario(served, sessions, seconds, ramp=30,
                                      steps=list(steps) if num_procs == procs[0] else [],
                                      step_seconds=step_seconds))
        results["runs"][str(num_procs)] = r
        st = r["steady"]
        print(f"[bench-server]   steady: p50 {st['p50']}, p95 {st['p95']}, errors {st['errors']}, "
              f"RSS {r['rss_connected'] / 1e6:.0f} -> {r['rss_end'] / 1e6:.0f} MB", flush=True)
    results["waves"] = memory_waves(size=wave_size, until=until)
    results["markdown"] = markdown(results)
    return results


def _rate_cell(r: dict, rate: float | None) -> str:
    if not r["steps"]:
        return "not searched (steady run only)"
    if rate is not None and rate == r["steps"][-1]["rate_per_s"]:
        return f"at least {rate}/s (the highest step tried)"
    if rate is not None:
        return f"{rate}/s"
    first = r["steps"][0]
    p95 = "–" if first["p95"] is None else f"{first['p95'] * 1000:.0f} ms"
    return f"below {first['rate_per_s']}/s (p95 {p95} at {first['rate_per_s']}/s)"


def markdown(results: dict) -> str:
    if "runs" not in results:  # `python -m bench waves` on a machine with no earlier server run
        return waves_markdown(results["waves"]) + "\n"
    ms = lambda v: "–" if v is None else f"{v * 1000:.0f}"  # noqa: E731
    lines = [f"**panel serve, {results['sessions']} light clients, one selection change every 5 s "
             f"each ({results['seconds']:.0f} s)**", "",
             "| --num-procs | updates | p50 (ms) | p95 (ms) | errors | RSS start / all connected / "
             "end (MB) | growth | max rate with p95 ≤ 300 ms |", "|---|---|---|---|---|---|---|---|"]
    for procs, r in results["runs"].items():
        st = r["steady"]
        rate = r.get("max_rate_p95_300ms")
        lines.append(
            f"| {procs} | {st['updates']} | {ms(st['p50'])} | {ms(st['p95'])} | {st['errors']} | "
            f"{r['rss_start'] / 1e6:.0f} / {r['rss_connected'] / 1e6:.0f} / {r['rss_end'] / 1e6:.0f} "
            f"| {r['rss_growth'] * 100:+.1f}% | "
            + _rate_cell(r, rate) + " |")
    lines += ["", "Errors are updates with no reply within 10 s (the server's queue grows when "
              "changes arrive faster than it handles them); the rate is changes per second "
              "across all sessions, found by stepping it up on an idle server."]
    if "waves" in results:
        lines += ["", waves_markdown(results["waves"])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(json.dumps(run(seconds, sessions=int(sys.argv[2]) if len(sys.argv) > 2 else 5,
                         procs=(1,), steps=(), step_seconds=10), indent=1, default=str))
