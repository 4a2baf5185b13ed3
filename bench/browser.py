"""One visit of one variant in headless Debian Chromium, and what it measures.

Times come from the page itself (performance.now(), relative to the navigation start):
- `ready`: body[data-atlas-ready='true'], the one marker every variant sets (DESIGN.md section 5);
- `map`: the map is on screen: its picture painted with the page (tools/build_site/poster.py: the
  first frame with the complete picture, and not before the page's first contentful paint, which
  it is part of) or the map's Bokeh plot view finished drawing (pre-rendered or live), whichever
  is first; `drawn`: the latter alone;
- `first interaction`: from the navigation start, a click inside one country's polygon every 150 ms
  from the moment the map is on screen (its Bokeh plot; where the page paints a picture of the map
  first, at the picture's place from the navigation on), until a chart on screen
  names that country (whoever draws it: the map's picture, which draws the clicked country's
  temperature chart before BokehJS has run, a pre-render that answers before Python does, or
  Python);
- interaction latency: from the input event's timestamp (pointerdown on the map, input on the
  select) to the moment a Bokeh document change makes the chart's new title appear, i.e. the
  chart's data change being applied in the page (plus `painted`: the next animation frame).
Network emulation: the static variants' server shapes what it sends (bench/httpd.py `Link`: the
profile's bandwidth shared by all responses, its latency before each), because Chromium's CDP
`Network.emulateNetworkConditions` on the page does not reach what a service worker fetches (nor
does it on the service worker's own target). `panel serve` (websocket traffic, another server) gets
the CDP emulation on its page. The self-check proves the shaping with a 5 MB fetch from a dedicated
worker and one through a pass-through service worker.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route
from playwright.sync_api import Error as PlaywrightError

READY = "body[data-atlas-ready='true']"
CACHED = "body[data-atlas-cached='true']"  # our site: its service worker holds the whole build
VIEWPORT = {"width": 1400, "height": 1000}
PROFILES = {
    "loopback": None,
    # 50 Mbit/s both ways, 20 ms added to every request's round trip
    "emulated": {"offline": False, "latency": 20, "downloadThroughput": 50e6 / 8,
                 "uploadThroughput": 50e6 / 8},
}
MAP_NAME = "world-map"  # climate_atlas.views.world_map.MAP_NAME: the map's Bokeh figure name

MARKS_JS = """(() => {
  const marks = {};
  window.__bench = {marks};
  const mark = (k) => { if (!(k in marks)) marks[k] = performance.now(); };
  new PerformanceObserver((list) => {
    for (const e of list.getEntriesByName('first-contentful-paint')) marks.fcp = e.startTime;
  }).observe({type: 'paint', buffered: true});
  const tick = () => {
    if (document.body && document.body.dataset.atlasReady === 'true') mark('ready');
    if (!('map' in marks) && window.Bokeh && Bokeh.index && Bokeh.index.query_one) {
      try {
        const v = Bokeh.index.query_one(v => v.frame != null && v.model.name === MARKER);
        if (v != null && v.has_finished()) mark('map');
      } catch (e) {}
    }
    const poster = document.documentElement.dataset.atlasPoster;  // 'up' once parsed whole
    if (poster === 'up' || poster === 'done') mark('picture');
    if (!('ready' in marks)) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new MutationObserver(() => {
    if (document.body && document.body.dataset.atlasReady === 'true') mark('ready');
  }).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-atlas-ready']});
})();""".replace("MARKER", json.dumps(MAP_NAME))

ARM_JS = """(prefix) => {
  // A chart is updated when a plot title starting with `prefix` is on screen: a view of the live
  // document (a replaced plot's models can linger in the document, their views do not).
  const doc = Bokeh.documents[Bokeh.documents.length - 1];
  const st = window.__benchI = {input: null, applied: null, painted: null};
  const onInput = (e) => { if (st.input === null) st.input = e.timeStamp; };
  for (const type of ['pointerdown', 'input']) {
    window.addEventListener(type, onInput, {capture: true, once: true});
  }
  const has = () => Bokeh.index.query_one(v => v.model.document === doc
    && v.model.type === 'Title' && String(v.model.text).startsWith(prefix)) != null;
  if (has()) return true;
  const check = () => {
    if (st.applied !== null || st.input === null || !has()) return;
    st.applied = performance.now();
    doc.remove_on_change(changed);
    requestAnimationFrame(() => { st.painted = performance.now(); });
  };
  const changed = () => { check(); Promise.resolve().then(check); setTimeout(check, 0); };
  const frame = () => { check(); if (st.applied === null) requestAnimationFrame(frame); };
  doc.on_change(changed);
  requestAnimationFrame(frame);
  return false;
}"""




@dataclass
class Variant:
    name: str
    url: str
    kind: str  # "static" (bytes counted at our server) or "serve" (counted in the context)
    warm: bool = True  # measure a warm reload (not for the routed baseline: routing disables caching)
    app: bool = True  # the dashboard (interactions, first map) or the floor
    route: object = None  # context route handler (the baseline's CDN/index emulation)
    service_workers: str = "block"


@dataclass
class Visit:
    """Request log of one context: external hosts, and HTTP/websocket bytes for `panel serve`."""
    external: list[str] = field(default_factory=list)
    requests: list = field(default_factory=list)
    ws_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def _worker_sessions(cdp) -> dict:
    """Attach (non-flat) to the page's workers; their sessions answer Runtime.getHeapUsage."""
    state = {"sessions": [], "replies": {}, "next": 1000, "emulation": None}

    def attached(ev):
        if ev["targetInfo"]["type"] == "worker":
            state["sessions"].append(ev["sessionId"])

    def message(ev):
        msg = json.loads(ev["message"])
        if "id" in msg:
            state["replies"][msg["id"]] = msg

    cdp.on("Target.attachedToTarget", attached)
    cdp.on("Target.receivedMessageFromTarget", message)
    cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False,
                                      "flatten": False})
    return state


def _worker_call(page: Page, cdp, state: dict, method: str, params: dict | None = None):
    if not state["sessions"]:
        return None
    state["next"] += 1
    msg_id = state["next"]
    cdp.send("Target.sendMessageToTarget", {"sessionId": state["sessions"][-1], "message":
                                            json.dumps({"id": msg_id, "method": method,
                                                        "params": params or {}})})
    deadline = time.monotonic() + 5
    while msg_id not in state["replies"] and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    return state["replies"].get(msg_id)


def _memory(page: Page, cdp, workers: dict) -> dict:
    page_heap = cdp.send("Runtime.getHeapUsage")["usedSize"]
    reply = _worker_call(page, cdp, workers, "Runtime.getHeapUsage") or {}
    worker_heap = reply.get("result", {}).get("usedSize", 0)
    wasm = 0
    for worker in page.workers:
        with contextlib.suppress(Exception):  # a worker that went away holds no memory
            wasm += worker.evaluate(
                "self.pyodide ? self.pyodide._module.HEAPU8.buffer.byteLength : 0")
    return {"page_heap": page_heap, "worker_heap": worker_heap, "wasm": wasm,
            "total": page_heap + worker_heap + wasm}


def _new_context(browser: Browser, variant: Variant, log: Visit) -> BrowserContext:
    context = browser.new_context(service_workers=variant.service_workers, viewport=VIEWPORT)
    context.add_init_script(MARKS_JS)
    if variant.route is not None:
        context.route("**/*", lambda route: variant.route(route, log))
    context.on("request", lambda r: log.external.append(r.url)
               if urlsplit(r.url).hostname not in ("127.0.0.1", None) and variant.route is None
               else None)
    if variant.kind == "serve":
        context.on("requestfinished", lambda r: log.requests.append(r))
    return context


def _emulate(cdp, variant: Variant, profile: str) -> None:
    """CDP network emulation for `panel serve`; the static variants' server shapes its own link (the
    caller sets it: bench/httpd.py)."""
    if PROFILES[profile] and variant.kind == "serve":
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", PROFILES[profile])


def _served_bytes(log: Visit) -> dict:
    total = 0
    for request in log.requests:
        try:
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        except Exception:  # noqa: BLE001
            pass
    return {"requests": len(log.requests), "bytes": total + log.ws_bytes, "ws_bytes": log.ws_bytes}


def _load(page: Page, variant: Variant, counter, log: Visit, timeout_ms: float) -> dict:
    if counter is not None:
        counter.reset()
    log.requests.clear()
    log.ws_bytes = 0
    start = time.monotonic()
    page.goto(variant.url, wait_until="commit", timeout=timeout_ms)
    page.wait_for_selector(READY, state="attached", timeout=timeout_ms)
    marks = page.evaluate("window.__bench.marks")
    page.wait_for_timeout(250)  # let late requests (fonts, icons) land in the count
    traffic = counter.snapshot() if variant.kind == "static" else _served_bytes(log)
    paths = traffic.pop("paths", {})
    traffic["largest"] = sorted(paths.items(), key=lambda kv: -kv[1])[:4]  # to explain a change
    traffic["repeated"] = {p: s for p, s in traffic.pop("statuses", {}).items() if len(s) > 1}
    picture = marks.get("picture") and marks.get("fcp") and max(marks["picture"], marks["fcp"])
    shown = [t / 1000 for t in (picture, marks.get("map")) if t]
    return {"tti": marks.get("ready") / 1000, "map": min(shown, default=None),
            "drawn": (marks.get("map") or 0) / 1000 or None,
            "wall": time.monotonic() - start, **traffic}


def visit(browser: Browser, variant: Variant, profile: str, counter, *, interact: bool = False,
          timeout_ms: float = 240_000) -> dict:
    """A cold load in a fresh context (empty cache), then optionally a warm one in the same."""
    log = Visit()
    context = _new_context(browser, variant, log)
    page = context.new_page()
    page.on("pageerror", lambda exc: log.errors.append(str(exc)))
    page.on("websocket", lambda ws: (
        ws.on("framereceived", lambda p: setattr(log, "ws_bytes", log.ws_bytes + len(p))),
        ws.on("framesent", lambda p: setattr(log, "ws_bytes", log.ws_bytes + len(p)))))
    cdp = context.new_cdp_session(page)
    workers = _worker_sessions(cdp)
    _emulate(cdp, variant, profile)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text[:300]))
    try:
        out = {"cold": _load(page, variant, counter, log, timeout_ms)}
        out["memory"] = _memory(page, cdp, workers)
        if interact and variant.app:
            out["latency"] = interactions(page)
        if variant.warm:
            if variant.service_workers == "allow":  # the site's worker caches it for the next visit
                page.wait_for_selector(CACHED, state="attached", timeout=timeout_ms)
                sent = counter.snapshot()  # since the cold load began: what the visit sent in all
                out["until_cached"] = {k: v for k, v in sent.items() if k not in ("paths", "statuses")}
            out["warm"] = _load(page, variant, counter, log, timeout_ms)
    except Exception as exc:  # noqa: BLE001 - one failed visit is reported, the run goes on
        status = page.evaluate("document.body && document.body.dataset.siteStatus")
        out = {"failed": f"{type(exc).__name__}: {str(exc).splitlines()[0]}", "site_status": status,
               "console_tail": console[-8:]}
    finally:
        context.close()
    out["external"] = sorted(set(log.external))
    out["errors"] = log.errors
    return out


# -- first interaction -------------------------------------------------------------------------

FIRST_COUNTRY = "BRA"  # large, far from the map's edge and from other big countries' borders
FIRST_EVERY_MS = 150

# From the page's start, at each frame until it is so: whether a chart's title on screen starts with
# the given text (the chart the map's picture draws for a click, tools/poster.html, or any plot's
# title in any Bokeh document); the frame's time is kept. Timed in the page, not when the test asks:
# a question waits for the page's main thread, which BokehJS's start keeps busy for a second or more.
_ANSWERED_JS = """prefix => {
  const named = () => {
    const poster = document.querySelector('#atlas-poster .chart:not([hidden]) .title');
    if (poster != null && poster.textContent.startsWith(prefix)) return true;
    return window.Bokeh != null && Bokeh.index != null
      && Bokeh.index.query_one(v => v.model.type === 'Title'
                                    && String(v.model.text).startsWith(prefix)) != null;
  };
  const frame = () => {  // the time now: a frame's own time can be from before a long task
    if (named()) window.atlasBenchAnswered = performance.now();
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


def _map_point(atlas) -> tuple[float, float] | None:
    """Where a click on FIRST_COUNTRY lands now: on the map's picture while the page shows it
    (our static site, before BokehJS has drawn), else on the drawn map; None while neither is up."""
    # No Bokeh yet (a ReferenceError in the page) or no map in its document: the page is loading.
    with contextlib.suppress(PlaywrightError, LookupError):
        return (atlas.picture_point(FIRST_COUNTRY)
                or atlas.plot_point(*atlas.country_point(FIRST_COUNTRY), MAP_NAME))
    return None


def _picture_point(browser: Browser, variant: Variant) -> tuple[float, float] | None:
    """Where FIRST_COUNTRY is on the map's picture (our static site; None for a page without
    one), read in a visit of its own whose page scripts never arrive, so the picture stays. The
    measured visit clicks there without asking the page: a question waits for the page's main
    thread, which BokehJS's start keeps busy for about 2 s, and the bench's first click came late."""
    from tools.atlas_page import AtlasPage

    if variant.kind != "static" or variant.route is not None:  # panel serve, the baseline
        return None
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.route("**/js/*", lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(variant.url, wait_until="load", timeout=60_000)
        return AtlasPage(page, "bench").picture_point(FIRST_COUNTRY)
    finally:
        context.close()


def first_interaction(browser: Browser, variant: Variant, profile: str,
                      timeout_ms: float = 240_000) -> dict:
    """A cold visit that clicks FIRST_COUNTRY every FIRST_EVERY_MS from the moment the map is on
    screen (its picture or its Bokeh plot): `answered` is when a chart names it (s from navigation),
    `map` when the map could first be clicked, `clicks` how many clicks it took. Where the page
    paints a picture of the map, the clicks go to the picture's place from the navigation on (a
    click before the picture is painted hits nothing), and `map` is not asked."""
    from tools.atlas_page import AtlasPage

    picture = _picture_point(browser, variant)
    log = Visit()
    context = _new_context(browser, variant, log)
    page = context.new_page()
    _emulate(context.new_cdp_session(page), variant, profile)
    atlas = AtlasPage(page, "bench")
    prefix = f"{atlas.atlas.country_name(FIRST_COUNTRY)}: trend"
    page.add_init_script(f"({_ANSWERED_JS})({json.dumps(prefix)})")
    deadline = time.monotonic() + timeout_ms / 1000
    try:
        page.goto(variant.url, wait_until="commit", timeout=timeout_ms)
        point, drawn = picture, None
        while point is None and time.monotonic() < deadline:
            point = _map_point(atlas)
            if point is None:
                page.wait_for_timeout(20)
            if point is not None:
                drawn = page.evaluate("performance.now()") / 1000
        clicks = 0
        while time.monotonic() < deadline:
            page.mouse.click(*(point if picture else _map_point(atlas) or point))
            clicks += 1
            page.wait_for_timeout(FIRST_EVERY_MS)
            answered = page.evaluate("window.atlasBenchAnswered")
            if answered is not None:
                return {"answered": answered / 1000, "map": drawn, "clicks": clicks}
        return {"failed": f"no chart named {prefix!r} within {timeout_ms / 1000:.0f} s"}
    except Exception as exc:  # noqa: BLE001 - one failed visit is reported, the run goes on
        return {"failed": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    finally:
        context.close()


# -- interactions ------------------------------------------------------------------------------

CLICK_COUNTRIES = ["BRA", "AUS", "USA", "CAN", "RUS", "CHN", "IND", "ARG", "KAZ", "DZA",
                   "COD", "SAU", "MEX", "MNG", "PER", "TCD", "NER", "AGO", "ZAF", "LBY"]


def _measure(page: Page, prefix: str, act) -> dict | None:
    if page.evaluate(ARM_JS, prefix):
        return None  # already showing: nothing would change
    act()
    try:
        page.wait_for_function("window.__benchI.applied !== null && window.__benchI.painted !== null"
                               " && window.__benchI.input !== null", timeout=20_000)
    except Exception:  # noqa: BLE001 - a lost update is reported as missing, not as a time
        return None
    st = page.evaluate("window.__benchI")
    return {"applied": (st["applied"] - st["input"]) / 1000,
            "painted": (st["painted"] - st["input"]) / 1000}


def interactions(page: Page, n: int = 20) -> dict:
    """n map clicks (each selects another country) and n indicator changes, one at a time.
    Points on the map come from the e2e page helpers (either map: plain, or served and projected)."""
    from tools.atlas_page import AtlasPage

    atlas = AtlasPage(page, "bench")
    clicks, changes = [], []
    for iso3 in CLICK_COUNTRIES[:n]:
        try:
            point = atlas.plot_point(*atlas.country_point(iso3), MAP_NAME)
        except Exception:  # noqa: BLE001 - reported as a lost interaction
            clicks.append(None)
            continue
        clicks.append(_measure(page, f"{atlas.atlas.country_name(iso3)}: trend",
                               lambda p=point: page.mouse.click(*p)))
        page.wait_for_timeout(100)
    meta = atlas.atlas.indicator_meta
    codes = list(meta.index)
    select = page.get_by_label("World Bank indicator", exact=True)
    labels = {c: f"{meta.at[c, 'short_name']} ({meta.at[c, 'unit']})" for c in codes}
    for i in range(n):
        current = select.input_value()  # the option's text
        code = next(c for c in codes[i % len(codes):] + codes if labels[c] != current)
        label = labels[code]
        changes.append(_measure(page, f"{meta.at[code, 'short_name']}:",
                                lambda label=label: select.select_option(label=label)))
        page.wait_for_timeout(100)
    return {"click": clicks, "indicator": changes}


# -- baseline routing and the emulation self-check ---------------------------------------------

def baseline_route(mirror: str):
    """Answer every external request with a redirect to the local mirror (see bench/baseline.py)."""
    from bench.baseline import local_path

    def route(route: Route, log: Visit) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
            return
        local = local_path(url)
        log.external.append(url if local is None else f"emulated {urlsplit(url).path}")
        if local is None:
            route.abort()
        else:
            route.fulfill(status=302, headers={"Location": f"{mirror}/{local}",
                                               "Access-Control-Allow-Origin": "*"})
    return route


SELFCHECK_HTML = """<!doctype html><html><body><script>
const w = new Worker('./selfcheck.js');
w.onmessage = (e) => { window.result = e.data; };
</script></body></html>"""
SELFCHECK_JS = """(async () => {
  const t0 = performance.now();
  const r = await fetch('./5mb.bin?' + Math.random());
  const n = (await r.arrayBuffer()).byteLength;
  postMessage({ms: performance.now() - t0, bytes: n});
})();"""
# A service worker that passes every fetch on, as the site's does for a file it does not hold yet.
SELFCHECK_SW_HTML = """<!doctype html><html><body><script>
navigator.serviceWorker.register('./selfcheck_sw.js');
(async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r));
  }
  const t0 = performance.now();
  const n = (await (await fetch('./5mb.bin?' + Math.random())).arrayBuffer()).byteLength;
  window.result = {ms: performance.now() - t0, bytes: n};
})();
</script></body></html>"""
SELFCHECK_SW_JS = """self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => e.respondWith(fetch(e.request)));"""


def selfcheck(browser: Browser, base: str) -> dict:
    """Time a 5 MB fetch from a dedicated worker, and one through a service worker, as the bench
    server's link is shaped now (>= 0.8 s each at 50 Mbit/s)."""
    out = {}
    for name, page_path, workers in (("seconds", "selfcheck.html", "block"),
                                     ("service_worker_seconds", "selfcheck_sw.html", "allow")):
        context = browser.new_context(service_workers=workers)
        page = context.new_page()
        page.goto(f"{base}/bench/{page_path}")
        page.wait_for_function("window.result", timeout=60_000)
        result = page.evaluate("window.result")
        context.close()
        out[name], out["bytes"] = result["ms"] / 1000, result["bytes"]
    return out
