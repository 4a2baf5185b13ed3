"""Playwright harness: one test body, two modes (static site and `panel serve`), network blocked.

The browser is Debian's chromium with host resolution limited to 127.0.0.1; contexts and the network
log come from tests/e2e/browser.py. One page is booted per module and mode (a Pyodide boot takes
seconds); tests reset it via state they set themselves. On the static site that page is a returning
visitor's, its Python restored from the build's heap snapshot: a third of a first visit's CPU, on
the two cores CI has. A first visit's boot, from the page before Python to the live session, is
what test_before_python (two of its tests), test_service_worker, test_snapshot and test_links's
link-restoring test boot each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from xdist.scheduler import LoadFileScheduling

from tests.e2e.browser import (
    BUILD,
    NetworkLog,
    artifact,
    open_atlas,
)
from tools.atlas_page import AtlasPage
from tools.chromium import CHROMIUM, LAUNCH_ARGS
from tools.servers import panel_serve, static_serve

MODES = ["static", "serve"]

# Seconds each module took (summed over its tests, 2 test processes on 2 cores, 2026-12-03 at a fast
# hour), for the order in which the modules are handed out: only the order matters, and a module
# not listed goes last. pytest-xdist hands out the modules with the most tests first; the ones that
# boot a first visit several times have few tests, came last, and left one process running them
# alone for three minutes while the other had finished.
MODULE_SECONDS = {
    "test_links.py": 176, "test_service_worker.py": 165, "test_features.py": 140,
    "test_before_python.py": 126, "test_first_paint.py": 100, "test_accessibility.py": 93,
    "test_server_map.py": 93, "test_bench_smoke.py": 90, "test_snapshot.py": 78,
    "test_climate_views.py": 54, "test_own_data.py": 49, "test_pictures.py": 43,
    "test_ranking.py": 33,
}


class SlowestModuleFirst(LoadFileScheduling):
    """`--dist loadfile`, handing out the slowest modules first (longest processing time first),
    so that both test processes finish at about the same time."""

    _ordered = False

    def _assign_work_unit(self, node) -> None:  # noqa: ANN001 - xdist's WorkerController
        if not self._ordered:
            self._ordered = True
            self.workqueue = OrderedDict(sorted(
                self.workqueue.items(),
                key=lambda unit: -MODULE_SECONDS.get(unit[0].rsplit("/", 1)[-1], 0)))
        super()._assign_work_unit(node)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadFileScheduling | None:
    """The scheduler for `make e2e`'s `--dist loadfile` (any other mode: xdist's own)."""
    return SlowestModuleFirst(config, log) if config.getvalue("dist") == "loadfile" else None

# Assertions wait as long as AtlasPage's own waits for what Python draws (30 s), not Playwright's
# 5 s: with two test processes booting Python on two cores, the static site's scatter tab (HoloViews
# loaded on demand) once took longer than 5 s to show its caption.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def served_url() -> Iterator[str]:
    """`panel serve`, started once per test process: each page is a session of its own, as each
    visitor's is, so modules share the server as visitors do (its start costs seconds of CPU)."""
    with panel_serve() as app:
        yield app.url


@pytest.fixture(scope="module", params=MODES)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(mode, URL of the dashboard) for each mode: the static site served once per test module,
    `panel serve` once per test process."""
    mode = request.param
    if mode == "serve":
        yield mode, request.getfixturevalue("served_url")
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
def atlas_screen() -> dict[str, object]:
    """Browser context options of the module's page besides the desktop viewport (for example
    `device_scale_factor`): none, unless a module overrides this."""
    return {}


@pytest.fixture(scope="module")
def atlas(browser: Browser, site: tuple[str, str], network: NetworkLog,
          atlas_query: str, atlas_screen: dict[str, object]) -> Iterator[AtlasPage]:
    """The dashboard, booted once per module and mode (a returning visit on the static site), ready
    for interaction."""
    mode, url = site
    atlas_page = open_atlas(browser, mode, url + atlas_query, network, returning=True,
                            **atlas_screen)
    yield atlas_page
    atlas_page.page.context.close()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep a screenshot of the page when a browser test fails, for whoever reads the CI log."""
    report = yield
    page_fixture = item.funcargs.get("atlas") if hasattr(item, "funcargs") else None
    if report.failed and call.when == "call" and page_fixture is not None:
        page_fixture.page.screenshot(path=artifact(f"failed-{item.name}.png"), full_page=True)
    return report
