"""Stage: the static site's Content-Security-Policy: defence in depth behind the app's escaping.

Should a visitor-controlled string ever reach the page as markup, the policy keeps it from running:
scripts run only from the site itself or when their exact text was hashed at build time, nothing is
fetched from another host, and no plugin or foreign form target is allowed. The policy goes into
`index.html` as a `<meta>` element (every host gets it) and into `_headers` for hosts that read that
file; README gives the same header for any other host.

What each relaxation is for:
- `'unsafe-eval'`: BokehJS compiles every `CustomJS` callback with `new Function`; Panel's
  `jscallback` (the page's readiness marker) is a CustomJS.
- `blob:` in `script-src`: in the Python worker (a host's header applies to it too), our runtime
  loader (tools/runtime_fetch.js) inflates the gzipped `pyodide.asm.js` and runs it from a blob
  URL; only script already running on the site can make a blob.
- `'wasm-unsafe-eval'`: Pyodide compiles its WebAssembly runtime and each extension module.
- `style-src 'unsafe-inline'`: BokehJS and Panel style their components with inline `<style>`
  elements and `style` attributes; styles cannot run script.
- `img-src data: blob:` and `font-src data:`: Bokeh's icons and Panel's fonts are inlined as data
  URLs; a saved plot is a blob.
There is no `frame-ancestors`: a `<meta>` policy may not carry it, and the atlas is meant to be
embeddable.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path

from tools.build_site.panel_patches import add_policy_meta

# Script elements the browser runs: no type, or a JavaScript MIME type (data blocks such as
# type="application/json" are never run and need no hash).
_JS_TYPES = {"", "text/javascript", "application/javascript", "module"}


class _InlineScripts(HTMLParser):
    """The text of each inline script the browser would run, split out by the standard library's
    HTML tokenizer (script text ends at the first `</script`, as in a browser)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        found = dict(attrs)
        runs = (found.get("type") or "").strip().lower() in _JS_TYPES
        self._current = [] if runs and "src" not in found else None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(page: str) -> list[str]:
    """CSP sources ('sha256-...') of every inline script the browser would run, in page order."""
    parser = _InlineScripts()
    parser.feed(page)
    parser.close()
    hashes = [base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
              for body in parser.scripts]
    return list(dict.fromkeys(f"'sha256-{h}'" for h in hashes))


def policy(page: str) -> str:
    """The policy for `page` (the text of index.html): see the module docstring."""
    scripts = " ".join(["'self'", *inline_script_hashes(page), "blob:", "'unsafe-eval'",
                        "'wasm-unsafe-eval'"])
    return "; ".join([
        "default-src 'self'", f"script-src {scripts}", "worker-src 'self'", "connect-src 'self'",
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "font-src 'self' data:",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'",
    ])


def add_content_security_policy(out: Path) -> str:
    """Put the policy into out/index.html (first thing in <head>) and out/_headers; return it.

    Run after every other edit of index.html: a changed inline script needs a new hash."""
    index = out / "index.html"
    page = index.read_text(encoding="utf-8")
    csp = policy(page)
    page = add_policy_meta(page, csp)
    index.write_text(page, encoding="utf-8")
    (out / "_headers").write_text(f"/*\n  Content-Security-Policy: {csp}\n", encoding="utf-8")
    return csp
