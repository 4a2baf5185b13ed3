"""What e2e tests share beyond fixtures: the browser, the network log, contexts that block every host
but 127.0.0.1 and report Content-Security-Policy violations, and where failure artefacts go.

Per DESIGN.md section 5: Debian's chromium, host resolution limited to 127.0.0.1, a context route that
aborts and records every other host, and listeners on the context so the Pyodide worker is seen too.
Tests import these from here; conftest.py holds only fixtures and hooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route

from tools.atlas_page import AtlasPage
from tools.build_site.files import BROWSER_CACHE_PREFIX
from tools.build_site.service_worker import site_version
from tools.build_site.snapshot import SNAPSHOT_DIR
from tools.servers import ROOT

ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
BUILD = ROOT / "build"
BOOT_TIMEOUT_MS = 90_000
RESTORED = "Restored the Python heap snapshot"  # tools/snapshot_restore.js, on the console


@dataclass
class NetworkLog:
    """Everything the browser context asked for outside 127.0.0.1, and every console error."""

    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def block_external(context: BrowserContext, log: NetworkLog) -> None:
    """Abort and record every request the context makes to a host other than 127.0.0.1."""
    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            log.external.append(route.request.url)
            route.abort()

    context.route("**/*", route)


# The static site carries a Content-Security-Policy (tools/build_site/csp.py). Chromium reports a violation as
# a console error only for some kinds; this reports every kind, with what was blocked and where, so
# the console-error checks below fail on any of them.
_CSP_VIOLATIONS_JS = """document.addEventListener('securitypolicyviolation', (e) => console.error(
  `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline code'} at ` +
  `${e.sourceFile}:${e.lineNumber} ${e.sample}`));"""


def new_context(browser: Browser, log: NetworkLog, *, route: bool = True,
                **options: object) -> BrowserContext:
    """A context that blocks and records external requests and (unless `service_workers="allow"`
    is passed) service workers, and reports Content-Security-Policy violations as console errors.
    `route=False` records external requests without routing them (the browser's resolver rule
    still stops them): Playwright turns the HTTP cache off in a context that routes requests."""
    context = browser.new_context(**{"service_workers": "block", **options})
    if route:
        block_external(context, log)
    else:
        context.on("request", lambda r: log.external.append(r.url)
                   if urlsplit(r.url).scheme in ("http", "https")  # not blob: or data:
                   and urlsplit(r.url).hostname != "127.0.0.1" else None)
    context.add_init_script(_CSP_VIOLATIONS_JS)
    return context


def watch_console(page: Page, log: NetworkLog) -> None:
    """Record the page's console errors and uncaught exceptions in `log`."""
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: log.console_errors.append(f"uncaught: {exc}\n{exc.stack}"))


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


# Put the given files into the named Cache Storage cache, fetched from the page's own site.
_KEEP_JS = "async ([cache, urls]) => { await (await caches.open(cache)).addAll(urls); }"


def keep_snapshot(context: BrowserContext, site_url: str) -> None:
    """Give the context what a returning visitor's browser holds after a first visit: the build's
    heap snapshot in the site's cache, where the service worker keeps it (tools/sw.js). The next
    visit restores Python from it (tools/snapshot_restore.js reads that cache itself, so this holds
    with service workers blocked too, as on a returning visitor's forced reload)."""
    page = context.new_page()
    page.goto(site_url + "favicon.svg")  # any page of the site: the cache belongs to its origin
    files = sorted(p.name for p in (BUILD / SNAPSHOT_DIR).iterdir())
    page.evaluate(_KEEP_JS, [BROWSER_CACHE_PREFIX + site_version(BUILD),
                             [f"{site_url}{SNAPSHOT_DIR}/{name}" for name in files]])
    page.close()


def open_atlas(browser: Browser, mode: str, url: str, log: NetworkLog, *, returning: bool = False,
               **options: object) -> AtlasPage:
    """The dashboard at `url` in a new blocking context (desktop size, and the context `options`),
    once it is live. `returning`: on the static site, the visit is a returning visitor's, whose
    Python is restored from the heap snapshot (asserted); a third of a first visit's CPU."""
    context = new_context(browser, log, viewport={"width": 1400, "height": 1000}, **options)
    if returning and mode == "static":
        keep_snapshot(context, urlsplit(url)._replace(query="", fragment="").geturl())
    page = context.new_page()
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    watch_console(page, log)
    page.goto(url)
    atlas = AtlasPage(page, mode)
    atlas.wait_ready(BOOT_TIMEOUT_MS)
    if returning and mode == "static":
        assert any(RESTORED in text for text in said), f"not restored from the snapshot: {said}"
    return atlas
