"""The static site's service worker (tools/sw.js): after one visit the site works with no server at all.

The other e2e contexts block service workers (a worker answers requests the context route never sees);
this one allows it, still blocks every host but 127.0.0.1, and serves the site under a sub-path.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.e2e.atlas_page import AtlasPage
from tests.e2e.conftest import BOOT_TIMEOUT_MS, BUILD, NetworkLog, _block_external, watch_console
from tests.e2e.servers import static_serve

_CACHED_JS = """async () => {
  const reg = await navigator.serviceWorker.ready;   // installed (every file cached) and active
  const keys = await caches.keys();
  const cache = await caches.open(keys.find(k => k.startsWith('climate-atlas-')));
  return {controlled: navigator.serviceWorker.controller !== null, scope: reg.scope,
          files: (await cache.keys()).length};
}"""


def test_site_loads_offline_after_one_visit(browser: Browser) -> None:
    assert (BUILD / "sw.js").exists(), "build/sw.js is missing: run `make build`"
    log = NetworkLog()
    context = browser.new_context(service_workers="allow", viewport={"width": 1400, "height": 1000})
    _block_external(context, log)
    page = context.new_page()
    watch_console(page, log)
    try:
        with static_serve(BUILD, "/atlas/") as url:
            page.goto(url)
            AtlasPage(page, "static").wait_ready(BOOT_TIMEOUT_MS)
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
            cached = page.evaluate(_CACHED_JS)
        assert cached["controlled"] and cached["scope"] == url
        assert cached["files"] > 40  # runtime, wheels, page, Panel's assets
        # The server is gone: only the service worker can answer now.
        page.reload()
        AtlasPage(page, "static").wait_ready(BOOT_TIMEOUT_MS)
        assert page.evaluate("document.body.dataset.siteStatus") == "ready"
    finally:
        context.close()
    assert log.external == []
    assert log.console_errors == []
