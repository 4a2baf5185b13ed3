"""The Python heap snapshot (tools/build_site/snapshot.py): a first visit never downloads it, the service
worker fetches it once that visit is live and idle, and the next visit's worker restores it instead of
booting, loading the wheels and importing; HoloViews still loads with the scatter's tab. A damaged
cached snapshot falls back to the normal boot, and is fetched again.

One browser context visits the site four times, in the order of the tests (each visit boots a page:
that is what is tested), with the service worker allowed and requests counted at the server. The
last visit's worker fails before the page's JS has run: a returning visit starts its worker early
(tools/worker_start.js), and the status line must still say why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.browser import (
    BOOT_TIMEOUT_MS,
    BUILD,
    RESTORED,
    NetworkLog,
    new_context,
    watch_console,
)
from tools.atlas_page import SCATTER_TITLE_MARKER, AtlasPage
from tools.build_site.files import BROWSER_CACHE_PREFIX
from tools.build_site.service_worker import site_version
from tools.build_site.snapshot import SNAPSHOT_DIR
from tools.servers import Gate, Traffic, static_serve

PREBUILT = "Sending the page built into the Python heap snapshot"
NOT_CACHED = "Python heap snapshot not cached"
NOT_USED = "Python heap snapshot not used"
CACHED = "body[data-atlas-cached='true']"  # site_status.html: the service worker holds the whole build
HEAP = f"{SNAPSHOT_DIR}/heap.bin.gz"
SCRIPTS = "/js/*"  # the page's JS files: BokehJS, Panel's bridge to the Python worker, the status line

# The cached heap replaced by other bytes, as a damaged disk or an interrupted write would leave it.
_DAMAGE_JS = """async ([cache, url]) => {
  await (await caches.open(cache)).put(url, new Response(new Uint8Array(1000).fill(7)));
}"""
_CACHED_SIZE_JS = """async ([cache, url]) => {
  const hit = await (await caches.open(cache)).match(url);
  return hit ? (await hit.arrayBuffer()).byteLength : null;
}"""


@dataclass
class Site:
    """The served build, one context visiting it, and what the server and the browser saw."""

    url: str
    context: BrowserContext
    page: Page
    traffic: Traffic
    log: NetworkLog
    scripts: Gate  # the page's JS files (BokehJS, Panel's bridge), as the server sends them
    messages: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def visit(self, reload: bool = False, query: str = "") -> AtlasPage:
        """A page load (of the site's address with `query`) until the live dashboard is ready; the
        log, requests and counts start afresh."""
        self.messages.clear()
        self.urls.clear()
        self.traffic.reset()
        if reload:
            self.page.reload()
        else:
            self.page.goto(self.url + query)
        atlas = AtlasPage(self.page, "static")
        atlas.wait_ready(BOOT_TIMEOUT_MS)
        return atlas

    def wheels(self) -> list[str]:
        """Wheels the page's worker asked for (answered by the service worker or the server)."""
        return [u.rsplit("/", 1)[-1] for u in self.urls if u.endswith(".whl")]

    def sent(self, prefix: str) -> list[str]:
        """Paths under the site's `prefix` the server has sent since the visit began."""
        return [p for p in self.traffic.snapshot()["statuses"] if p.startswith(self.url_path + prefix)]

    @property
    def url_path(self) -> str:
        return "/" + self.url.split("/", 3)[3]

    def cache_args(self, path: str) -> list[str]:
        return [f"{BROWSER_CACHE_PREFIX}{site_version(BUILD)}", self.url + path]


@pytest.fixture(scope="module")
def site(browser: Browser) -> Iterator[Site]:
    """build/ served with a traffic count; one context with the service worker allowed. The context
    does not route requests (routing turns the HTTP cache off); the resolver rule still stops every
    host but 127.0.0.1."""
    assert (BUILD / HEAP).exists(), "build/ has no heap snapshot: run `make build`"
    traffic, log, scripts = Traffic(), NetworkLog(), Gate(SCRIPTS)
    scripts.release()  # open until a test shuts it
    context = new_context(browser, log, route=False, service_workers="allow",
                          viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watch_console(page, log)  # the worker's console reaches the page's
    with static_serve(BUILD, "/atlas/", traffic=traffic, gates=(scripts,)) as url:
        found = Site(url, context, page, traffic, log, scripts)
        page.on("console", lambda m: found.messages.append(f"{m.type}: {m.text}"))
        context.on("request", lambda r: found.urls.append(r.url))
        try:
            yield found
        finally:
            context.close()
    assert log.external == [] and log.console_errors == []


def test_a_first_visit_boots_and_never_downloads_the_snapshot_before_it_is_live(site: Site) -> None:
    atlas = site.visit()
    assert site.sent("pyodide/snapshot/") == [], "the snapshot crossed the network before Python was live"
    # a first visit starts its Python worker once BokehJS has run (tools/worker_start.js)
    assert atlas.page.evaluate("window.atlasWorker.early") is False
    assert any(NOT_CACHED in m for m in site.messages), site.messages
    assert any(w.startswith("panel-") for w in site.wheels()), "the normal boot loads the wheels"
    atlas.page.wait_for_selector(CACHED, state="attached", timeout=120_000)
    assert sorted(site.sent("pyodide/snapshot/")) == sorted(
        f"{site.url_path}{SNAPSHOT_DIR}/{name}"
        for name in ("heap.bin.gz", "files.bin.gz", "meta.json", "modules.json"))


def test_the_next_visit_restores_the_snapshot_and_loads_holoviews_on_demand(site: Site) -> None:
    # a link with state: the page built into the heap is the default one, which the link then changes
    atlas = site.visit(query="?countries=BRA,IND")
    assert any(RESTORED in m for m in site.messages), site.messages
    assert any(PREBUILT in m for m in site.messages), site.messages
    atlas.wait_for_heading("IND")
    compared = "Temperature anomaly: Brazil, India"
    atlas.wait_for_title(compared)
    assert atlas.series(compared, "Brazil") and atlas.series(compared, "India")
    atlas.click_country("FRA")  # the live session answers: a click replaces the selection
    atlas.wait_for_heading("FRA")
    assert not any(NOT_USED in m for m in site.messages), site.messages
    # its worker started with the page's head, and the page took it, messages held meanwhile included
    assert atlas.page.evaluate("window.atlasWorker.early") is True
    assert atlas.page.evaluate("document.body.dataset.siteStatus") == "ready"
    assert site.wheels() == [], "wheels asked for at boot although the heap has them"
    atlas.open_tab("Warming vs indicator")
    atlas.wait_for_title(SCATTER_TITLE_MARKER, timeout_ms=60_000)
    assert any(w.startswith("holoviews-") for w in site.wheels()), site.wheels()
    # over the network: only the page's revalidation and the browser's update checks of sw.js
    assert set(site.sent("")) <= {site.url_path, f"{site.url_path}sw.js"}, site.sent("")


def test_a_damaged_snapshot_falls_back_to_the_normal_boot_and_is_fetched_again(site: Site) -> None:
    site.page.evaluate(_DAMAGE_JS, site.cache_args(HEAP))
    atlas = site.visit(reload=True)
    assert any(m.startswith("warning:") and NOT_USED in m and "heap.bin.gz is not this build's" in m
               for m in site.messages), site.messages
    assert not any(RESTORED in m for m in site.messages)
    assert any(w.startswith("panel-") for w in site.wheels()), "the normal boot loads the wheels"
    assert not any(w.startswith("holoviews-") for w in site.wheels()), "HoloViews is on demand"
    atlas.page.wait_for_selector(CACHED, state="attached", timeout=120_000)
    # only the damaged file is fetched again (from the HTTP cache, if it kept so large a file)
    assert set(site.sent("pyodide/snapshot/")) <= {f"{site.url_path}{HEAP}"}
    assert site.page.evaluate(_CACHED_SIZE_JS, site.cache_args(HEAP)) == (BUILD / HEAP).stat().st_size


_BREAK_WORKER_JS = """async ([cache, worker, js_dir]) => {
  const kept = await caches.open(cache);
  await kept.put(worker, new Response("throw new Error('a broken worker');",
                                      {headers: {'Content-Type': 'text/javascript'}}));
  for (const key of await kept.keys()) if (key.url.startsWith(js_dir)) await kept.delete(key);
}"""


def test_a_returning_visit_says_why_its_worker_failed(site: Site) -> None:
    """A returning visit starts its Python worker before the page's bridge exists
    (tools/worker_start.js): an error in it, raised while the page's JS is still held back by the
    server, reaches the status line once that JS has run. Last in this module: it leaves the
    build's cache broken."""
    cache, worker = site.cache_args("main.js")
    site.page.evaluate(_BREAK_WORKER_JS, [cache, worker, site.url + "js/"])
    # and out of the HTTP cache, which may still hold it fresh (Last-Modified, no Cache-Control)
    site.context.new_cdp_session(site.page).send("Network.clearBrowserCache")
    site.scripts.shut()
    site.page.reload(wait_until="commit")
    assert site.scripts.asked.wait(30), "the page did not ask for its JS"
    site.page.wait_for_function("() => window.atlasWorker?.early === true")
    def raised() -> bool:  # the worker's uncaught error, as the page reports it
        return any("a broken worker" in e for e in site.log.console_errors)

    deadline = time.monotonic() + 30
    while not raised() and time.monotonic() < deadline:
        site.page.wait_for_timeout(50)
    assert raised(), "the broken worker never ran"
    assert site.page.evaluate("window.Bokeh === undefined")  # the bridge does not exist yet
    site.scripts.release()
    site.page.wait_for_selector("body[data-site-status='error']", state="attached",
                                timeout=BOOT_TIMEOUT_MS)
    expect(site.page.locator("#site-status")).to_contain_text("a broken worker")
    broken = [e for e in site.log.console_errors if "a broken worker" in e]
    assert broken and broken == site.log.console_errors, site.log.console_errors
    site.log.console_errors.clear()  # the ones this test caused, checked above
