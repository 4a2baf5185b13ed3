"""Suite-wide rule: a skipped test is not a pass. Any skip fails the run, so CI cannot go green
with the browser tests silently left out."""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped; skips are not allowed here",
                            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
