"""The one way text that a visitor, a link or an uploaded file controls enters a pane.

Panel's Markdown and Alert panes render their object as Markdown with raw HTML allowed, so a link
value such as `<img src=x onerror=...>` would run script and `**x**` would turn bold. Such text is
plain text by contract (see `AtlasState.notice`), and only `plain_text_pane` shows it: the text is
HTML-escaped, Markdown punctuation is backslash-escaped, control characters are made visible, and the
pane's Markdown renderer is told to allow no HTML and to make no links, so an escape missed here would
still not become markup.

A few such strings are shown as labels rather than quoted: the name and unit of a visitor's own
series (user_data.py) stand in chart titles, selectors and the captions of the ranking and the
table beside our own words. `safe_label` keeps from them only characters that mean nothing to HTML
or Markdown, so they can go wherever an indicator's name goes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import panel as pn

# markdown-it options of the pane: raw HTML is escaped, bare URLs are not turned into links
LOCKED_RENDERER = {"html": False, "linkify": False, "typographer": False}
# every ASCII punctuation mark CommonMark lets a backslash escape, except & < > (html.escape turns
# them into entities, which a backslash would break)
_MARKDOWN_PUNCTUATION = re.compile(r"""([!"#$%'()*+,\-./:;=?@\[\\\]^_`{|}~])""")


LABEL_CHARS = 48  # a series' name or unit longer than this is cut: it heads the map's title
# A label's full stop, written as U+2024 ONE DOT LEADER, which looks the same: Markdown panes turn
# "example.com" into a link (linkify), and a label is no link.
DOT = "\u2024"
# letters, digits, spaces and the punctuation units and names need; no <, &, *, _, [, `, # or |
_LABEL_PUNCTUATION = set(" ()-,.%/°'’+:²³µ")


def safe_label(text: str) -> str:
    """`text` with every character HTML or Markdown could read as markup (and every control
    character) left out, spaces collapsed, cut to LABEL_CHARS, and no full stop a link could
    be made of (DOT)."""
    kept = "".join(c if c.isalnum() or c in _LABEL_PUNCTUATION else " " for c in text)
    return " ".join(kept.split())[:LABEL_CHARS].strip().replace(".", DOT)


def _visible(char: str) -> str:
    """A control or format character (newline, NUL, bidi override ...) as its escape, e.g. \\x0a."""
    return f"\\u{ord(char):04x}" if unicodedata.category(char) in {"Cc", "Cf"} else char


def markdown_literal(text: str) -> str:
    """Markdown source that displays `text` exactly, as one paragraph of plain characters."""
    visible = "".join(_visible(c) for c in text)
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", visible), quote=False)


def plain_text_pane(text: Any, pane: type[pn.pane.Markdown] = pn.pane.Markdown,
                    **params: Any) -> pn.pane.Markdown:
    """A Markdown pane (or subclass such as Alert) showing `text` (a string or a param reference
    to one) literally."""
    shown = pn.bind(markdown_literal, text) if not isinstance(text, str) else markdown_literal(text)
    return pane(shown, renderer="markdown-it", renderer_options=LOCKED_RENDERER, **params)
