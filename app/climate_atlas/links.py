"""Shareable links: the state as a URL query string, and back, dropping what is not valid.

Pure functions on plain strings, so the same rules hold under `panel serve` and in the browser, where
Panel's own location sync differs (panel #8103, #7231), and so they can be unit-tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from climate_atlas.data import Atlas
from climate_atlas.state import FIRST_YEAR, LAST_YEAR, MAX_SELECTED, METRICS, AtlasState

KEYS = ("countries", "indicator", "year", "metric")


def parse_query(query: str, atlas: Atlas) -> tuple[dict[str, object], list[str]]:
    """State values found valid in `query`, and one notice per value that was dropped."""
    params: Mapping[str, str] = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    values: dict[str, object] = {}
    notices: list[str] = []
    if "countries" in params:
        codes = [c.strip().upper() for c in params["countries"].split(",") if c.strip()]
        known = [c for c in codes if c in atlas.countries.index]
        unknown = [c for c in codes if c not in atlas.countries.index]
        if unknown:
            notices.append(f"Unknown country code {', '.join(unknown)} was ignored.")
        if len(known) > MAX_SELECTED:
            notices.append(f"Only the first {MAX_SELECTED} countries are compared.")
        if known:
            values["selection"] = list(dict.fromkeys(known))[:MAX_SELECTED]
    if "indicator" in params:
        if params["indicator"] in atlas.indicator_meta.index:
            values["indicator"] = params["indicator"]
        else:
            notices.append(f"Unknown indicator {params['indicator']!r} was ignored.")
    if "year" in params:
        year = params["year"]
        if year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR:
            values["year"] = int(year)
        else:
            notices.append(f"Year {year!r} is outside {FIRST_YEAR}-{LAST_YEAR} and was ignored.")
    if "metric" in params:
        if params["metric"] in METRICS.values():
            values["metric"] = params["metric"]
        else:
            notices.append(f"Unknown map metric {params['metric']!r} was ignored.")
    return values, notices


def to_query(state: AtlasState) -> str:
    """The query string that restores `state`."""
    return "?" + urlencode({
        "countries": ",".join(state.selection), "indicator": state.indicator,
        "year": state.year, "metric": state.metric,
    }, safe=",")
