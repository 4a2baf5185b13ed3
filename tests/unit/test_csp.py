"""The static site's Content-Security-Policy (tools/build_site/csp.py): every inline script the page runs is
allowed by its exact hash and nothing else inline is, and the policy a host sends is the page's."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.unit.test_build_output import BUILD
from tools.build_site import csp


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_only_scripts_the_browser_runs_are_hashed() -> None:
    page = ('<script>one()</script><script type="text/javascript">two("</p>")</script>'
            '<script type="module">three()</script><script src="x.js"></script>'
            '<script type="application/json">{"data": "<script>"}</script>'
            '<script type="esms-options">{}</script><script>one()</script>')
    assert csp.inline_script_hashes(page) == [_hash("one()"), _hash('two("</p>")'),
                                              _hash("three()")]


def test_the_policy_allows_no_inline_script_by_keyword() -> None:
    policy = csp.policy("<script>go()</script>")
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in script_src and _hash("go()") in script_src
    assert "connect-src 'self'" in policy and "object-src 'none'" in policy
    assert "'wasm-unsafe-eval'" in script_src


@pytest.fixture(scope="module")
def page() -> str:
    if not (BUILD / "index.html").exists():
        pytest.fail("build/ is missing or incomplete: run `make build` first")
    return (BUILD / "index.html").read_text(encoding="utf-8")


def test_the_built_page_carries_the_policy_of_its_own_scripts(page: str) -> None:
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta, "index.html has no Content-Security-Policy"
    # hashes of the page as it is now, without its own meta element: the policy is up to date
    assert meta.group(1) == csp.policy(page.replace(meta.group(0), ""))
    assert page.index(meta.group(0)) < page.index("<script"), "the policy must precede every script"
    headers = (BUILD / "_headers").read_text(encoding="utf-8")
    assert headers == f"/*\n  Content-Security-Policy: {meta.group(1)}\n"
