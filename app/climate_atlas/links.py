"""Shareable links: the state as a URL query string, and back, dropping what is not valid.

Pure functions on plain strings, so the same rules hold under `panel serve` and in the browser, where
Panel's own location sync differs (panel #8103, #7231), and so they can be unit-tested.

Reading a link is total: any query string gives the state values it holds validly and a notice for
everything else, and never raises, because one bad value must not lose the rest of a shared link.
Settings other sites add to links they pass on (`utm_*`, `fbclid` ...) are ignored silently.
The rules for a key given more than once: `countries` lists merge, in order; a single-valued key
(`indicator`, `year`, `metric`, `season`, `base`, `embed`) keeps its first valid value and the notice names
the ones ignored.
Notices are plain text that quotes what the link said; the pane that shows them escapes it
(`views.plain_text`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from climate_atlas.data import YOUR_DATA, Atlas
from climate_atlas.state import EMBEDS, MAX_SELECTED, AtlasState
from climate_atlas.views.metrics import METRICS, available

SHOWN_CHARS = 40  # a value quoted in a notice is cut to this length
SHOWN_VALUES = 5  # a notice quotes at most this many values, then counts the rest
# Settings that newsletters, social networks and ad platforms add to any link they pass on
# (utm_source, fbclid, gclid, ...): ignored without a notice, since the visitor did not write them.
ADDED_BY_OTHERS = re.compile(r"utm_\w+|\w*clid|mc_[ce]id|igshid|_ga|_gl", re.ASCII)


# The characters a notice writes as escapes, as repr() does (controls, format characters such as
# bidi overrides and zero-width ones, separators but the space, surrogates, private use), from a
# fixed list rather than the Unicode database of whichever Python or browser runs: the pre-render
# quotes alike before Python (views/prerender.py), and Chromium knows characters that Pyodide's
# Python does not (U+1FAE9, Unicode 16, was shown before Python and escaped after). Inclusive
# ranges of code points: Unicode 15's categories Cc, Cf, Zs, Zl, Zp, Cs and Co, but the space.
ESCAPED = (
    (0x0000, 0x001F), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1680, 0x1680),
    (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F),
    (0x3000, 0x3000), (0xD800, 0xF8FF), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD),
)
_ESCAPED_STARTS = [start for start, _ in ESCAPED]
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    at = bisect_right(_ESCAPED_STARTS, code) - 1
    if at < 0 or code > ESCAPED[at][1]:
        return char
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(value: str) -> str:
    """`value` quoted as repr() quotes a str (the same quotes and backslash escapes), with exactly
    the ESCAPED characters written as escapes."""
    quote = '"' if "'" in value and '"' not in value else "'"
    return quote + "".join("\\" + c if c in (quote, "\\") else _SHORT_ESCAPES.get(c) or _escape(c)
                           for c in value) + quote


def shown(values: list[str], limit: int = SHOWN_VALUES) -> str:
    """Values as a notice quotes them: each cut to SHOWN_CHARS and `quoted` (control characters
    made visible), at most `limit` of them, then how many more."""
    quoted_values = [quoted(v if len(v) <= SHOWN_CHARS else v[:SHOWN_CHARS] + "…") for v in values]
    rest = len(quoted_values) - limit
    return ", ".join(quoted_values[:limit]) + (f" and {rest} more" if rest > 0 else "")


def _group(query: str) -> dict[str, list[str]]:
    """Each key's values in the order the link gives them; keys are matched case-sensitively."""
    grouped: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True, errors="replace")
    except ValueError:  # parse_qsl's only documented failure (too many fields); never expected here
        pairs = []
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


# What a notice says, by kind: one home for the words, which the static site's pre-render shows
# too before Python has started (views/prerender.py reads them through `link_rules`).
UNKNOWN_COUNTRIES = "Unknown country code {values} was ignored."
TOO_MANY = "Only the first {max_selected} countries are compared."
INVALID = {  # per single-valued key, in the order its notices come
    "indicator": "Unknown indicator {values} was ignored.",
    "year": "Year {values} is not a year in {years} and was ignored.",
    "metric": "Unknown map metric {values} was ignored.",
    "season": "Unknown season {values} was ignored.",
    "base": "Unknown base period {values} was ignored.",
    "embed": "Unknown embed {values} was ignored (embed=map or embed=chart).",
}
TWICE = "The link gives {key} more than once: kept {kept}, ignored {ignored}."
UNKNOWN_SETTINGS = "Unknown link setting {values} was ignored."


def accepted(atlas: Atlas) -> dict[str, list[str]]:
    """The values each single-valued key but `year` accepts, as the link spells them."""
    return {
        "indicator": list(atlas.indicator_meta.index),
        "metric": [m for m in METRICS if available(atlas, m)],
        "season": list(atlas.seasons),
        "base": [str(b.period) for b in atlas.periods.bases],
        "embed": [e for e in EMBEDS if e],
    }


def _invalid_words(atlas: Atlas) -> dict[str, str]:
    """INVALID with the atlas's years filled in: each still takes the bad {values}."""
    return {key: words.replace("{years}", str(atlas.periods.years)) for key, words in INVALID.items()}


def link_rules(atlas: Atlas) -> dict[str, object]:
    """`parse_query`'s rules and words as plain data, for the pre-render's port of it (JSON-ready:
    lists, numbers, strings and a regular expression's source)."""
    years = atlas.periods.years
    return {
        "accepted": accepted(atlas), "years": [years.first, years.last],
        "max_selected": MAX_SELECTED, "shown_chars": SHOWN_CHARS, "shown_values": SHOWN_VALUES,
        "escaped": [list(r) for r in ESCAPED],
        "added_by_others": ADDED_BY_OTHERS.pattern,
        "words": {"unknown_countries": UNKNOWN_COUNTRIES,
                  "too_many": TOO_MANY.format(max_selected=MAX_SELECTED),
                  "invalid": _invalid_words(atlas),
                  "twice": TWICE, "unknown_settings": UNKNOWN_SETTINGS},
    }


def _countries(values: list[str], atlas: Atlas, notices: list[str]) -> list[str] | None:
    given = [c.strip() for v in values for c in v.split(",") if c.strip()]
    known = list(dict.fromkeys(c.upper() for c in given if c.upper() in atlas.countries.index))
    # quoted as the link gave them (upper() would turn '<b>' into '<B>' and 'ﬀ' into 'FF')
    unknown = list(dict.fromkeys(c for c in given if c.upper() not in atlas.countries.index))
    if unknown:
        notices.append(UNKNOWN_COUNTRIES.format(values=shown(unknown)))
    if len(known) > MAX_SELECTED:
        notices.append(TOO_MANY.format(max_selected=MAX_SELECTED))
    return known[:MAX_SELECTED] or None


def _year(value: str, atlas: Atlas) -> int | None:
    value = value.strip()
    years = atlas.periods.years
    # ASCII digits only (str.isdigit() also accepts '²', which int() rejects), and short (int()
    # refuses more than 4300 digits)
    if len(value) <= 4 and value.isascii() and value.isdigit() and years.first <= int(value) <= years.last:
        return int(value)
    return None


def _single(key: str, values: list[str], read: Callable[[str], object | None], invalid: str,
            notices: list[str]) -> object | None:
    """The first valid value of a single-valued key; a notice for the invalid and the extra ones."""
    read_values = [(v, read(v)) for v in values]
    bad = [v for v, parsed in read_values if parsed is None]
    good = [(v, parsed) for v, parsed in read_values if parsed is not None]
    if bad:
        notices.append(invalid.format(values=shown(bad)))
    if len(good) > 1:
        notices.append(TWICE.format(key=key, kept=shown([good[0][0]]),
                                    ignored=shown([v for v, _ in good[1:]])))
    return good[0][1] if good else None


def _reader(key: str, atlas: Atlas, ok: list[str]) -> Callable[[str], object | None]:
    if key == "year":
        return lambda v: _year(v, atlas)
    return lambda v: v if v in ok else None


def parse_query(query: str, atlas: Atlas) -> tuple[dict[str, object], list[str]]:
    """State values found valid in `query` (keys of AtlasState: selection, indicator, year, metric,
    season, base, embed)
    and one plain-text notice per kind of value that was dropped. Never raises."""
    grouped = _group(query)
    values: dict[str, object] = {}
    notices: list[str] = []
    if "countries" in grouped and (selection := _countries(grouped.pop("countries"), atlas,
                                                           notices)):
        values["selection"] = selection
    ok = accepted(atlas)
    # each single-valued key of the link is the state's parameter of the same name
    for key, invalid in _invalid_words(atlas).items():
        read = _reader(key, atlas, ok.get(key, []))
        if key in grouped and (value := _single(key, grouped.pop(key), read, invalid,
                                                notices)) is not None:
            values[key] = value
    unknown = [key for key in grouped if not ADDED_BY_OTHERS.fullmatch(key)]
    if unknown:
        notices.append(UNKNOWN_SETTINGS.format(values=shown(unknown)))
    return values, notices


def to_query(state: AtlasState, embed: bool = True) -> str:
    """The query string that restores `state`; with embed=False, the whole atlas at that state (the
    link an embedded view offers back). A visitor's own series stays out: a link cannot carry the
    file, so the indicator and the metric are left out (whoever opens the link sees the defaults)."""
    own_indicator, own_metric = state.indicator == YOUR_DATA, METRICS[state.metric].own
    return "?" + urlencode({
        "countries": ",".join(state.selection),
        **({} if own_indicator else {"indicator": state.indicator}),
        "year": state.year, **({} if own_metric else {"metric": state.metric}),
        "season": state.season, "base": state.base,
        **({"embed": state.embed} if embed and state.embed else {}),
    }, safe=",")
