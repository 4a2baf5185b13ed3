"""Playwright harness: one test body, two modes (static site and `panel serve`), network blocked.

Per DESIGN.md section 5: Debian's chromium, host resolution limited to 127.0.0.1, a context route that
aborts and records every other host, and listeners on the context so the Pyodide worker is seen too.
One page is booted per module and mode (a Pyodide boot takes seconds); tests reset it via state they
set themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tools.atlas_page import AtlasPage
from tools.servers import ROOT, panel_serve, static_serve

CHROMIUM = os.environ.get("CLIMATE_ATLAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
BUILD = ROOT / "build"
MODES = ["static", "serve"]
BOOT_TIMEOUT_MS = 90_000


@dataclass
class NetworkLog:
    """Everything the browser context asked for outside 127.0.0.1, and every console error."""

    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield browser
        browser.close()


def _block_external(context: BrowserContext, log: NetworkLog) -> None:
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


def new_context(browser: Browser, log: NetworkLog, **options: object) -> BrowserContext:
    """A context that blocks and records external requests and (unless `service_workers="allow"`
    is passed) service workers, and reports Content-Security-Policy violations as console errors."""
    context = browser.new_context(**{"service_workers": "block", **options})
    _block_external(context, log)
    context.add_init_script(_CSP_VIOLATIONS_JS)
    return context


def watch_console(page: Page, log: NetworkLog) -> None:
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: log.console_errors.append(f"uncaught: {exc}\n{exc.stack}"))


@pytest.fixture(scope="module", params=MODES)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(mode, URL of the dashboard) for each mode, started once per test module."""
    mode = request.param
    if mode == "serve":
        with panel_serve() as app:
            yield mode, app.url
    else:
        if not (BUILD / "index.html").exists():
            pytest.fail("build/ is missing: `make test` builds it first (make build)")
        with static_serve(BUILD) as url:
            yield mode, url


@pytest.fixture(scope="module")
def network() -> NetworkLog:
    return NetworkLog()


@pytest.fixture(scope="module")
def atlas_query() -> str:
    """The query string the module's page opens with: none, unless a module overrides this."""
    return ""


@pytest.fixture(scope="module")
def atlas(browser: Browser, site: tuple[str, str], network: NetworkLog,
          atlas_query: str) -> Iterator[AtlasPage]:
    """The dashboard, booted once per module and mode, ready for interaction."""
    mode, url = site
    context = new_context(browser, network, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watch_console(page, network)
    page.goto(url + atlas_query)
    atlas_page = AtlasPage(page, mode)
    atlas_page.wait_ready(BOOT_TIMEOUT_MS)
    yield atlas_page
    context.close()


@pytest.fixture(autouse=True)
def _no_new_console_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Any test that uses the page fails if the browser logged an error while it ran."""
    if "atlas" not in request.fixturenames:
        yield
        return
    log: NetworkLog = request.getfixturevalue("network")
    before = len(log.console_errors)
    yield
    new = log.console_errors[before:]
    assert new == [], "console errors during the test:\n" + "\n".join(new)


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep a screenshot of the page when a browser test fails, for whoever reads the CI log."""
    report = yield
    page_fixture = item.funcargs.get("atlas") if hasattr(item, "funcargs") else None
    if report.failed and call.when == "call" and page_fixture is not None:
        page_fixture.page.screenshot(path=artifact(f"failed-{item.name}.png"), full_page=True)
    return report
