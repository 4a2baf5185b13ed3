"""Visitor-controlled text is shown literally: no markup, link, entity or control character in it
has any effect, whatever the text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import panel as pn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from climate_atlas.views.plain_text import plain_text_pane

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<b>bold</b>",
    '"><svg onload=alert(1)>',
    "**bold** _em_ `code` ~~gone~~",
    "[click](javascript:alert(1))",
    "![x](x onerror=alert(1))",
    "www.example.com and https://example.com",
    "# heading\n- item",
    "&lt;b&gt; &amp; &#60;",
    "| a | b |\n|---|---|",
    "$x^2$ \\(y\\)",
]


class _Tags(HTMLParser):
    """The tags, attributes and text of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text += data


def rendered(pane: pn.pane.Markdown) -> _Tags:
    """What the browser is given: Panel's rendered HTML for the pane (unescaped once, as the
    Markdown model's `object` is HTML-escaped for transport)."""
    parsed = _Tags()
    parsed.feed(html.unescape(pane._transform_object(pane.object)["object"]))
    return parsed


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("pane", [pn.pane.Markdown, pn.pane.Alert])
def test_payloads_render_as_their_own_text(payload: str, pane: type) -> None:
    shown = rendered(plain_text_pane(payload, pane))
    assert shown.tags == ["p"] and shown.attrs == []
    assert " ".join(shown.text.split()) == " ".join(payload.replace("\n", "\\u000a").split())


def test_a_bound_value_is_escaped_on_every_change() -> None:
    import param

    class Holder(param.Parameterized):
        text = param.String(default="plain")

    holder = Holder()
    pane = plain_text_pane(holder.param.text)
    holder.text = "<img src=x onerror=alert(1)>"
    assert rendered(pane).tags == ["p"]
    assert "<img" in rendered(pane).text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
               max_size=80))
def test_any_text_is_shown_exactly(text: str) -> None:
    shown = rendered(plain_text_pane(text))
    assert set(shown.tags) <= {"p"} and shown.attrs == []
    assert " ".join(shown.text.split()) == " ".join(text.split())


def test_control_characters_are_made_visible() -> None:
    shown = rendered(plain_text_pane("a\nb\x00c\u202ed"))
    assert shown.text.strip() == "a\\u000ab\\u0000c\\u202ed"
