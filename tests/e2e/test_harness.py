"""Negative controls: the checks the dashboard tests rely on really catch what they claim to."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.e2e.browser import NetworkLog, new_context, watch_console
from tools.servers import static_serve

PAGE = """<!doctype html><html><head><title>control</title></head><body>
<img src="https://example.org/pixel.png">
<script>console.error("control error");
fetch("https://example.com/data.json").catch(() => {});</script></body></html>"""


def test_external_requests_and_console_errors_are_recorded(browser: Browser,
                                                           tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE)
    log = NetworkLog()
    with static_serve(tmp_path) as url:
        context = new_context(browser, log)
        page = context.new_page()
        watch_console(page, log)
        page.goto(url)
        page.wait_for_function("document.readyState === 'complete'")
        page.wait_for_timeout(300)  # let the aborted fetch settle into its console error
        context.close()
    assert sorted(log.external) == ["https://example.com/data.json",
                                    "https://example.org/pixel.png"]
    assert "control error" in log.console_errors
