"""Query strings a shared link might carry, for property tests of the link reader (links.py) and of
its port in the pre-render: our keys, other sites' keys, unknown keys and hostile values."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

_KEYS = st.sampled_from(["countries", "indicator", "year", "metric", "season", "base", "embed",
                         "Year", "", "x", "countries ", "utm_source", "fbclid", "\u202ekey"])
_SAMPLES = st.sampled_from([
    "FRA", "fra,DEU", "IND,,", " nor ,\x85swe\x1c", "1999", " 1999\x1f", "²", "٢٠٠٠", "1e3", "-1",
    "trend", "year", "own", "SP.POP.TOTL", "<b>x</b>", "%", "%zz", "%C2", "%00", "%E2%82", "\x00\r\n",
    "", "jja", "annual", "1991-2020", "1951-1980 ", "map", "chart", "x'y", "x\"y", "x'\"y", "a\\b",
    "\u202eRTL", "\u200bZW", "\xa0", "ß,ſ,ı,ﬀ", "\U0001f600", "\x7f\x80\x9f",
])


ANY_CHARS = st.characters(codec="utf-8")  # any character but surrogates


def queries(chars: st.SearchStrategy[str] = ANY_CHARS) -> st.SearchStrategy[str]:
    """Query strings (without "?"): key=value pairs, percent-encoded or not, or any text at all.
    `chars`: the characters free text is made of."""
    values = st.one_of(
        st.text(chars, max_size=60),
        _SAMPLES,
        st.text(alphabet="0123456789%,&=;+", max_size=30),
        st.text(chars, min_size=1000, max_size=5000).map(lambda s: s * 3),
    )
    return st.one_of(
        st.lists(st.tuples(_KEYS, values), max_size=12).map(
            lambda pairs: "&".join(f"{quote(k)}={quote(v, safe=',%')}" for k, v in pairs)),
        st.text(chars, max_size=200),  # anything at all, percent-encoding junk included
    )
