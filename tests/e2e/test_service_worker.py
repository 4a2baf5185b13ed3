"""The static site's service worker (tools/sw.js): a first visit sends each file over the network once,
after it the site works with no server at all, and a redeploy never strands a tab that is already open.

The other e2e contexts block service workers (a worker answers requests the context route never sees);
these allow it, still block every host but 127.0.0.1, and serve the site under a sub-path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.browser import BOOT_TIMEOUT_MS, BUILD, NetworkLog, new_context, watch_console
from tools.atlas_page import SCATTER_TITLE_MARKER, AtlasPage
from tools.build_site.files import sha256, sri
from tools.build_site.panel_patches import replace_once
from tools.build_site.service_worker import add_service_worker, site_version
from tools.servers import Traffic, static_serve

NEW_VERSION_NOTICE = "A new version of the atlas is available — reload to update"

_CACHED_JS = """async (name) => {
  const reg = await navigator.serviceWorker.ready;   // installed (every file cached) and active
  const cache = (await caches.keys()).includes(name) ? await caches.open(name) : null;
  return {controlled: navigator.serviceWorker.controller !== null, scope: reg.scope,
          files: cache ? (await cache.keys()).length : 0};
}"""

# The build's service worker has taken over: nothing installing or waiting, and its cache is there.
_TOOK_OVER_JS = """async (name) => {
  const reg = await navigator.serviceWorker.getRegistration();
  return !!reg && !reg.installing && !reg.waiting && reg.active && reg.active.state === 'activated'
    && (await caches.keys()).includes(name);
}"""

CACHED = "body[data-atlas-cached='true']"  # site_status.html: the service worker holds the whole build
_HAS_CACHE_JS = "async (name) => (await caches.keys()).includes(name)"
_NO_CACHE_JS = "async (name) => !(await caches.keys()).includes(name)"


def _cache(site: Path) -> str:
    """The name of the site's cache in the browser (tools/sw.js)."""
    return f"climate-atlas-{site_version(site)}"


def _wait_until(page: Page, condition_js: str, arg: str, timeout_s: float = 60) -> None:
    """Poll an async condition (Playwright's wait_for_function takes a returned promise as truthy)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(condition_js, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {condition_js}"
        page.wait_for_timeout(500)


def _context(browser: Browser, log: NetworkLog, route: bool = True) -> BrowserContext:
    return new_context(browser, log, route=route, service_workers="allow",
                       viewport={"width": 1400, "height": 1000})


def _open(context: BrowserContext, url: str, log: NetworkLog) -> AtlasPage:
    page = context.new_page()
    watch_console(page, log)
    page.goto(url)
    atlas = AtlasPage(page, "static")
    atlas.wait_ready(BOOT_TIMEOUT_MS)
    return atlas


def _wait_cached(atlas: AtlasPage) -> None:
    """Until the service worker says it holds every file of the page's build."""
    atlas.page.wait_for_selector(CACHED, state="attached", timeout=120_000)


def _sw_files(site: Path) -> dict[str, str]:
    """What the site's service worker keeps: URL relative to it -> integrity."""
    sw = (site / "sw.js").read_text(encoding="utf-8")
    return json.loads(re.search(r"const FILES = (\{.*?\n\});", sw, re.S).group(1))


def _rebuild_with_other_holoviews(site: Path, dest: Path) -> None:
    """A copy of `site` as a rebuild would make it if only the HoloViews wheel had changed: the wheel
    (loaded lazily, by the scatter's tab) gets other bytes, the lock its new sha256, the worker's
    runtime list the lock's new integrity, and the service worker the version the build derives."""
    shutil.copytree(site, dest)
    lock_path = dest / "pyodide" / "pyodide-lock.json"
    old_lock_integrity = sri(lock_path)
    lock = json.loads(lock_path.read_text())
    entry = lock["packages"]["holoviews"]
    wheel = dest / "pyodide" / entry["file_name"]
    with zipfile.ZipFile(wheel, "a") as archive:  # harmless to Python, but every byte hash changes
        archive.comment = b"build B"
    entry["sha256"] = sha256(wheel)
    lock_path.write_text(json.dumps(lock))
    fetcher = dest / "pyodide" / "runtime_fetch.js"
    fetcher.write_text(replace_once(fetcher.read_text(), old_lock_integrity, sri(lock_path),
                                    "runtime_fetch.js"))
    add_service_worker(dest)


def _open_scatter(atlas: AtlasPage) -> None:
    """Open the tab whose plot needs HoloViews, which the worker loads only then."""
    atlas.page.get_by_text("Warming vs indicator", exact=True).click()
    atlas.wait_for_title(SCATTER_TITLE_MARKER, timeout_ms=60_000)


def test_an_open_tab_keeps_its_build_after_a_redeploy(browser: Browser, tmp_path: Path) -> None:
    """Tab 1 runs build A; the host switches to B; tab 2 opens (B); then tab 1 opens the scatter,
    whose HoloViews wheel differs between A and B. Tab 1 must get A's wheel, and be told of B."""
    build_b = tmp_path / "b"
    _rebuild_with_other_holoviews(BUILD, build_b)
    cache_a, cache_b = _cache(BUILD), _cache(build_b)
    assert cache_a != cache_b
    root = tmp_path / "site"  # what the host serves: flipped from A to B, as a redeploy does
    root.symlink_to(BUILD)
    log = NetworkLog()
    context = _context(browser, log)
    try:
        with static_serve(root, "/atlas/") as url:
            tab1 = _open(context, url, log)
            _wait_cached(tab1)  # A's HoloViews wheel too, which tab 1 has not loaded yet
            _wait_until(tab1.page, _TOOK_OVER_JS, cache_a)

            flipped = tmp_path / "flipped"
            flipped.symlink_to(build_b)
            os.replace(flipped, root)
            tab2 = _open(context, url, log)
            _wait_until(tab2.page, _TOOK_OVER_JS, cache_b)

            _open_scatter(tab1)
            notice = tab1.page.get_by_role("status").filter(has_text=NEW_VERSION_NOTICE)
            expect(notice).to_be_visible()
            assert tab2.page.locator('meta[name="atlas-build"]').get_attribute("content") \
                == site_version(build_b)
            _open_scatter(tab2)
            expect(tab2.page.get_by_text(NEW_VERSION_NOTICE)).to_have_count(0)
            assert tab1.page.evaluate(_HAS_CACHE_JS, cache_a), "A's cache went while tab 1 ran A"

            # Reloading from the notice brings tab 1 to B; then no tab runs A, and A's cache goes.
            with tab1.page.expect_navigation():
                notice.get_by_role("button", name="Reload").click()
            tab1.wait_ready(BOOT_TIMEOUT_MS)
            _wait_until(tab1.page, _NO_CACHE_JS, cache_a, timeout_s=30)
            expect(tab1.page.get_by_text(NEW_VERSION_NOTICE)).to_have_count(0)
    finally:
        context.close()
    assert log.external == []
    assert log.console_errors == []


def _changed(old: Path, new: Path) -> set[str]:
    """The files of `new` (relative paths) whose bytes `old` does not have at the same path."""
    return {p.relative_to(new).as_posix() for p in new.rglob("*") if p.is_file()
            and not ((old / p.relative_to(new)).is_file() and sha256(old / p.relative_to(new)) == sha256(p))}


def test_a_first_visit_sends_each_file_once_a_redeploy_only_what_changed_and_then_offline_works(
        browser: Browser, tmp_path: Path) -> None:
    """Build A was deployed a month ago: an ordinary host's Last-Modified makes the browser deem its
    copies of A's files fresh for days.
    1. A first visit: the service worker takes over while the page loads and keeps each file as it
       passes; once Python is live and the page idle it fetches the rest, and what the page fetched
       before it took over comes from the browser's HTTP cache. So the server sends each file of
       the build once (a request again is a revalidation, 304 with no body), and then the service
       worker holds all of it.
    2. The tab is closed and the host now serves B, which differs from A in a few files, some under
       the same name (the HoloViews wheel, the lock). The visitor's new tab runs B (it used to run
       A, the page from the HTTP cache), and gets the bodies of the page, its worker (named for its
       build) and the files whose bytes changed, each once; the rest is A's, from A's cache or
       revalidated (304), and the snapshot is not sent at all. The service worker then holds all
       of B (it used to stop at the wheel: the HTTP cache's copy was A's, which the integrity check
       refused), and A's cache goes once it does.
    3. The server is gone: a reload still starts the app, from the service worker alone.
    The context does not route requests: routing would turn the HTTP cache off (the resolver rule
    still stops every host but 127.0.0.1)."""
    assert (BUILD / "sw.js").exists(), "build/sw.js is missing: run `make build`"
    build_a, build_b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(BUILD, build_a)
    month_ago = time.time() - 30 * 86400
    for path in build_a.rglob("*"):
        os.utime(path, (month_ago, month_ago))
    _rebuild_with_other_holoviews(build_a, build_b)
    changed = _changed(build_a, build_b)
    assert {"sw.js", "index.html", "pyodide/pyodide-lock.json"} <= changed and len(changed) < 10, changed
    root = tmp_path / "site"
    root.symlink_to(build_a)
    traffic, log = Traffic(), NetworkLog()
    context = _context(browser, log, route=False)
    try:
        with static_serve(root, "/atlas/", traffic=traffic) as url:
            traffic.reset()  # the server's readiness check
            first = _open(context, url, log)
            _wait_cached(first)
            cached = first.page.evaluate(_CACHED_JS, _cache(build_a))
            sent = traffic.snapshot()["statuses"]
            first.page.close()
            shipped = {"/atlas/" + p.relative_to(build_a).as_posix()
                       for p in build_a.rglob("*") if p.is_file()}
            # index.html is the page, "/atlas/"; _headers is for the host, never served (csp.py)
            expected = {path: [200] for path in shipped - {"/atlas/index.html", "/atlas/_headers"}}
            expected["/atlas/"] = [200]
            # Each file's body is sent once. A request again is answered 304 Not Modified, no body
            # (the browser's own update checks of sw.js, for example).
            assert all(statuses[:1] == [200] and set(statuses[1:]) <= {304}
                       for statuses in sent.values()), sent
            assert {path: statuses[:1] for path, statuses in sent.items()} == expected
            assert cached == {"controlled": True, "scope": url, "files": len(_sw_files(build_a))}

            flipped = tmp_path / "flipped"
            flipped.symlink_to(build_b)
            os.replace(flipped, root)
            traffic.reset()
            second = _open(context, url, log)
            assert second.page.locator('meta[name="atlas-build"]').get_attribute("content") \
                == site_version(build_b)
            _wait_cached(second)
            sent = traffic.snapshot()["statuses"]
            _wait_until(second.page, _NO_CACHE_JS, _cache(build_a), timeout_s=30)
            assert second.page.evaluate(_CACHED_JS, _cache(build_b))["files"] == len(_sw_files(build_b))
        assert all(set(statuses) <= {200, 304} for statuses in sent.values()), sent
        bodies = {path: statuses.count(200) for path, statuses in sent.items() if 200 in statuses}
        expected = {"/atlas/" + path for path in changed - {"index.html"}} | {"/atlas/", "/atlas/main.js"}
        assert bodies == dict.fromkeys(expected, 1)
        assert not [path for path in sent if "/snapshot/" in path]
        # The server is gone: only the service worker can answer now.
        second.page.reload()
        second.wait_ready(BOOT_TIMEOUT_MS)
        assert second.page.evaluate("document.body.dataset.siteStatus") == "ready"
        assert second.page.locator('meta[name="atlas-build"]').get_attribute("content") \
            == site_version(build_b)
    finally:
        context.close()
    assert log.external == [] and log.console_errors == []


def test_a_file_the_host_misses_is_named_and_the_next_visit_keeps_the_site(
        browser: Browser, tmp_path: Path) -> None:
    """The host serves the site without one file (a deploy that uploads the 28 MB heap snapshot
    last): the visit works, and once it is idle the page says that the atlas could not be saved for
    offline use, naming the file (Dismiss, from the keyboard, gives the focus back to where it was).
    With the file in place, the next visit keeps all of it (the browser's copy of the missing answer
    is not taken for the file), and the notice is gone."""
    site = tmp_path / "site"
    shutil.copytree(BUILD, site)
    heap, away = site / "pyodide" / "snapshot" / "heap.bin.gz", tmp_path / "heap.bin.gz"
    heap.rename(away)
    log = NetworkLog()
    context = _context(browser, log, route=False)
    try:
        with static_serve(site, "/atlas/") as url:
            atlas = _open(context, url, log)
            notice = atlas.page.locator("#site-offline")
            expect(notice).to_contain_text(
                "The atlas could not be saved for offline use (/atlas/pyodide/snapshot/heap.bin.gz did "
                "not download)", timeout=120_000)
            assert atlas.page.evaluate("document.body.dataset.atlasCached") is None
            # Dismissed from the keyboard, the notice gives the focus back to where it was
            search = atlas.page.get_by_placeholder("Name, ISO3 code")
            search.focus()
            atlas.page.get_by_role("button", name="Dismiss").focus()
            atlas.page.keyboard.press("Enter")
            expect(notice).to_be_empty()
            expect(search).to_be_focused()
            away.rename(heap)
            atlas.page.reload()
            atlas.wait_ready(BOOT_TIMEOUT_MS)
            _wait_cached(atlas)
            expect(notice).to_be_empty()
    finally:
        context.close()
    assert log.external == [] and log.console_errors == []
