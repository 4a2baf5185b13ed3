"""The opt-in Python heap snapshot (CLIMATE_ATLAS_SNAPSHOT=1, tools/build_site/snapshot.py): the worker
restores it instead of loading the boot's wheels, the scatter tab still loads HoloViews on demand, and a
snapshot that does not fit falls back to the normal boot.

build/ has no snapshot (the default build): this module builds its own site with one, once, into a
temporary folder outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import BOOT_TIMEOUT_MS, NetworkLog, new_context, watch_console
from tools.atlas_page import SCATTER_TITLE_MARKER, AtlasPage
from tools.servers import ROOT, static_serve

RESTORED = "Restored the Python heap snapshot"
NOT_USED = "Python heap snapshot not used"
BUILD_TIMEOUT_S = 1200


@pytest.fixture(scope="module")
def snapshot_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m tools.build_site` with CLIMATE_ATLAS_SNAPSHOT=1 into a temporary folder."""
    out = tmp_path_factory.mktemp("snapshot-site") / "build"
    result = subprocess.run(
        [sys.executable, "-m", "tools.build_site", "--out", str(out)],
        cwd=ROOT, env={**os.environ, "CLIMATE_ATLAS_SNAPSHOT": "1"}, capture_output=True,
        text=True, timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, f"snapshot build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert (out / "pyodide" / "snapshot" / "meta.json").exists(), result.stdout[-3000:]
    return out


class Visit:
    """One page on a served site, with what it logged and fetched."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.log, self.messages, self.urls = NetworkLog(), [], []
        self.context = new_context(browser, self.log, viewport={"width": 1400, "height": 1000})
        self.context.on("request", lambda r: self.urls.append(r.url))
        self.page = self.context.new_page()
        watch_console(self.page, self.log)  # the worker's console reaches the page's
        self.page.on("console", lambda m: self.messages.append(f"{m.type}: {m.text}"))
        self.page.goto(url)
        self.atlas = AtlasPage(self.page, "static")
        self.atlas.wait_ready(BOOT_TIMEOUT_MS)

    def wheels(self) -> list[str]:
        return [u.rsplit("/", 1)[-1] for u in self.urls if u.endswith(".whl")]


def test_the_worker_restores_the_snapshot_and_loads_holoviews_on_demand(
        browser: Browser, snapshot_site: Path) -> None:
    with static_serve(snapshot_site) as url:
        v = Visit(browser, url)
        try:
            assert any(RESTORED in m for m in v.messages), v.messages
            assert not any(NOT_USED in m for m in v.messages), v.messages
            assert v.wheels() == [], "wheels fetched at boot although the heap has them"
            v.atlas.open_tab("Warming vs indicator")
            v.atlas.wait_for_title(SCATTER_TITLE_MARKER, timeout_ms=60_000)
            assert any(w.startswith("holoviews-") for w in v.wheels()), v.wheels()
            assert v.log.external == [] and v.log.console_errors == []
        finally:
            v.context.close()


def test_a_mismatched_snapshot_falls_back_to_the_normal_boot(
        browser: Browser, snapshot_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(snapshot_site, site, copy_function=os.link)  # hard links: replace, never edit
    meta_path = site / "pyodide" / "snapshot" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["buildId"] = "0" * 64  # as if the runtime had been upgraded without a new snapshot
    meta_path.unlink()
    meta_path.write_text(json.dumps(meta))
    with static_serve(site) as url:
        v = Visit(browser, url)
        try:
            assert any(m.startswith("warning:") and NOT_USED in m and "another runtime" in m
                       for m in v.messages), v.messages
            assert not any(RESTORED in m for m in v.messages)
            assert any(w.startswith("panel-") for w in v.wheels()), "the normal boot loads the wheels"
            assert not any(w.startswith("holoviews-") for w in v.wheels()), "HoloViews is on demand"
            assert v.log.external == [] and v.log.console_errors == []
        finally:
            v.context.close()
