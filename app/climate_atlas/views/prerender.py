"""Live before Python: the static site's pre-rendered page answers its first interactions in BokehJS.

`panel convert` writes the page as a real BokehJS document, drawn about a second after navigation,
while the Python runtime takes several more to start. Only Panel's loading veil keeps that document
inert (DESIGN.md section 8). This module lifts the parts that can answer above the veil and gives
the pre-render one CustomJS callback, generated here from the same tables, titles and trend lines the
Python views draw (every country's series, title and trend line are one data block in the page,
`country_table_block`, which the build writes and the map's picture reads too), which answers:

- a click (tap or double tap) on a country's polygon: the heading, the outline, the chips, the
  temperature chart (series, trend line, legend, title with the trend value) and the indicator chart
  (its per-country series fetched from `build/prerender/`, one small JSON per indicator, written by
  the build stage `tools/build_site/prerender_data.py` from `indicator_files`);
- the year slider: the map shows the anomaly of the chosen year (from the mean, it switches to it, as
  the live page does);
- the link (`?countries=`, `year=`, `metric=`, `indicator=`, `embed=`) as soon as the map is drawn,
  with the notice Python would show for what it drops (links.parse_query, ported: the same words
  where the live page shows them, so the page does not move when Python takes over).

Every answer is also written into the address (`history.replaceState`, as links.to_query writes
it): the live session reads the address once its document is embedded (layout._sync_url), so it
starts from the state the visitor reached. The page keeps the pre-render on screen until the live
session is ready (tools/build_site/panel_patches.py), and from the moment the page hands the
address to Python (`body[data-atlas-handover]`) the callback does nothing and the pre-render takes
no click: for those few hundred ms (Python applying the address) a click is refused rather than
drawn and then lost.

The pre-render always draws the default scope (the year as a whole, against the publishers' base)
and the carried data are that scope's. A link that asks for another season, base period or for the
trend or seed metric is left to Python: the callback stands down for that page, the status line
says so, and the map, the heading and the charts are marked as loading (the default state they show
is not the link's). What needs Python (search, click-to-compare, the other selectors, play, the warming
stripes, the upload, the table, downloads, the scatter) is marked as loading in the pre-render
only; the stripes would otherwise still show the default country after a click.

The callback is attached only when the static build pre-renders (`target.prerendering()`): the live
document in Pyodide, every `panel serve` session and the benchmark's baseline carry none of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import CustomJS, Model
from panel.io.loading import LOADING_INDICATOR_CSS_CLASS

from climate_atlas.a11y import BEFORE_PYTHON_JS, still_when_loading
from climate_atlas.anomalies import default_scope
from climate_atlas.data import ANNUAL, Atlas
from climate_atlas.links import link_rules
from climate_atlas.views.metrics import METRICS, NO_DATA, metric_title, metric_unit
from climate_atlas.views.series import SeriesChart, temperature_title, trend_line
from climate_atlas.views.stripes import Stripes, stripes_height
from climate_atlas.views.world_map import WorldMap, color_limit

# build/prerender/: one JSON per indicator; the pre-render fetches the one it shows once drawn, so a
# click finds it there (the build writes them; connect-src 'self' allows it, integrity is checked).
DATA_DIR = "prerender"
# Lifted above Panel's loading veil (z-index 1000 in its loading.css), in the pre-render only: in the
# live page this z-index would put the map above the search box's dropdown.
LIFT = {"position": "relative", "z-index": "1001"}
# The map metrics whose colours the carried data can redraw (the others stand down).
JS_METRICS = ("mean", "year")
# The page's data block holding `country_table` (the build writes it, `country_table_block`): read
# by the callback and by the map's picture (tools/poster.html), carried once.
TABLE_ID = "atlas-countries"
YEAR_MARK = "{year}"


def year_runs(years: Sequence[int]) -> list[int]:
    """Years as [first, count, first, count, ...], one pair per run of consecutive years: 38
    countries' series have gaps, and a chart draws exactly the years a series has."""
    runs: list[int] = []
    for year in (int(y) for y in years):
        if runs and year == runs[-2] + runs[-1]:
            runs[-1] += 1
        else:
            runs += [year, 1]
    return runs


def expand_runs(runs: Sequence[int]) -> list[int]:
    """The years `year_runs` encoded (the JS path does the same)."""
    return [first + k for first, count in zip(runs[::2], runs[1::2], strict=True)
            for k in range(count)]


def _float(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _series_json(years: Sequence[int], values: Sequence[float]) -> dict[str, list]:
    return {"runs": year_runs(years), "values": [_float(v) for v in values]}


@dataclass(frozen=True)
class HeadingText:
    """The selection heading's model text (Panel's escaped HTML) per country, and how the JS adds
    "Compared with" for a selection of several: the single heading's `end` becomes
    `lead + fragments joined by ", " + end`. Derived from the Markdown pane the page uses, so the
    text is exactly Python's (a unit test compares them for several selections)."""

    single: list[str]
    fragments: list[str]
    lead: str
    end: str


def heading_text(render: Any, heading: Any, atlas: Atlas, codes: list[str]) -> HeadingText:
    """`render(markdown) -> model text`; `heading(atlas, selection, season) -> markdown`. Raises
    RuntimeError when the headings are not composed as HeadingText says (the heading changed)."""
    single = [render(heading(atlas, [c], ANNUAL)) for c in codes]
    marker = "Compared with: "
    probe = render(f"x  \n{marker}Q")
    end = probe[probe.rindex(marker + "Q") + len(marker + "Q"):]  # the paragraph's end
    fragments = []
    for c in codes:
        text = render(f"x  \n{marker}{atlas.country_name(c)}")
        fragments.append(text[text.rindex(marker) + len(marker):len(text) - len(end)])
    first, last = codes[0], codes[1]
    pair, base = render(heading(atlas, [first, last], ANNUAL)), single[1]
    lead = pair[len(base) - len(end):pair.rindex(marker) + len(marker)]
    composed = base[:len(base) - len(end)] + lead + fragments[0] + end
    if not all(h.endswith(end) for h in single) or composed != pair:
        raise RuntimeError("prerender: the selection heading is no longer composed as expected")
    return HeadingText(single, fragments, lead, end)


def _trend(atlas: Atlas, iso3: str, series: Any) -> list[float]:
    """The trend line's two points [x0, x1, y0, y1] as the temperature chart draws them, or []."""
    warming = atlas.warming
    per_decade = warming.at[iso3, "trend_per_decade"] if iso3 in warming.index else np.nan
    if np.isnan(per_decade) or series.empty:
        return []
    line = trend_line(series, float(per_decade), atlas.periods.trend)
    return [float(x) for x in line.index] + [float(y) for y in line.to_numpy()]


@lru_cache(maxsize=2)
def country_table(atlas: Atlas) -> dict[str, list]:
    """Per country of the atlas (the rows the JS looks a selection up in): name, the temperature
    chart's title, its annual series (runs of years and values) and trend line, and what the
    year metric's hover says (σ's standard deviation, the source). The default scope only."""
    scope = default_scope(atlas)
    codes = list(atlas.countries.index)
    warming = atlas.warming
    by_country = {c: g for c, g in atlas.temperature.groupby("iso3")}
    table: dict[str, list] = {k: [] for k in ("codes", "names", "titles", "runs", "values",
                                              "trends", "sd", "sources", "in_warming")}
    for iso3 in codes:
        rows = by_country.get(iso3)
        series = (rows.set_index("year")["anomaly"] if rows is not None
                  else atlas.series(iso3))
        table["codes"].append(iso3)
        table["names"].append(atlas.country_name(iso3))
        table["titles"].append(temperature_title(atlas, [iso3], scope))
        table["runs"].append(year_runs(series.index))
        table["values"].append([float(v) for v in series.to_numpy()])
        table["trends"].append(_trend(atlas, iso3, series))
        known = iso3 in warming.index
        table["in_warming"].append(known)
        table["sd"].append(_float(warming.at[iso3, "sd"]) if known else None)
        source = atlas.countries.at[iso3, "temperature_source"]
        table["sources"].append(source if isinstance(source, str) else "")
    return table


def data_block(element_id: str, data: Any) -> str:
    """`data` as a JSON data block for a page (a script element of type application/json, which
    the page parses with JSON.parse). Every "<" is written as its JSON escape, so no text in it can
    end the element or change how the HTML parser reads it ("</script>", "<!--").
    Raises ValueError on a NaN (JSON has none)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def country_table_block(atlas: Atlas) -> str:
    """`country_table` as the page's data block, id TABLE_ID."""
    return data_block(TABLE_ID, country_table(atlas))


def indicator_json(atlas: Atlas, code: str) -> bytes:
    """What the pre-render fetches for one indicator: its words, the world line and every
    country's published years and values, as the indicator chart draws them."""
    meta = atlas.indicator_meta.loc[code]
    world = atlas.world_indicators[atlas.world_indicators["code"] == code].set_index("year")["value"]
    countries = {}
    for iso3 in atlas.indicator_rows(code)["iso3"].unique():
        series = atlas.indicator_series(code, iso3)
        countries[str(iso3)] = _series_json(series.index, series.to_numpy())
    payload = {"code": code, "short_name": str(meta["short_name"]), "unit": str(meta["unit"]),
               "world": _series_json(world.index, world.to_numpy()), "countries": countries}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def indicator_file(code: str) -> str:
    return f"indicator-{code}.json"


@lru_cache(maxsize=2)
def indicator_files(atlas: Atlas) -> dict[str, bytes]:
    """File name under DATA_DIR -> its bytes, for every indicator (the build writes these)."""
    return {indicator_file(code): indicator_json(atlas, code) for code in atlas.indicator_meta.index}


def _integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@dataclass
class Parts:
    """What the pre-render's callback reads and draws, and what it lifts or marks as loading."""

    world: WorldMap
    temperature: SeriesChart
    indicator: SeriesChart
    heading: pn.pane.Markdown
    year: pn.widgets.IntSlider
    metric: pn.widgets.Select
    indicator_select: pn.widgets.Select
    chips_label: pn.pane.Markdown
    chips: list[pn.widgets.Button]
    # chips_words[n - 1]: the chips' label (Markdown) for n selected; chip_prefix + name: a chip
    chips_words: list[str]
    chip_prefix: str
    render_heading: Any  # (atlas, selection, season) -> the heading's Markdown
    stripes: Stripes  # the warming stripes (marked as loading): emptied at the selection's height
    notice: pn.pane.Alert  # the link's notice (views.plain_text_pane)
    back: pn.pane.HTML  # an embedded view's link to the whole atlas (its one <a>)
    # layout._embeddable's: the parts an embed may hide, and what each embed keeps of them
    embed_parts: list[pn.viewable.Viewable]
    embed_shown: dict[str, list[pn.viewable.Viewable]]
    lifted: list[pn.viewable.Viewable] = field(default_factory=list)
    waiting: list[pn.viewable.Viewable] = field(default_factory=list)
    # What shows a link's state (the map, the heading, the charts): marked as loading when the
    # link is left to Python, rather than show the default state as if it were the link's.
    linked: list[pn.viewable.Viewable] = field(default_factory=list)


def _model(viewable: pn.viewable.Viewable, root: Model) -> Model:
    """The Bokeh model a Panel object drew in `root`'s document (Panel 1.9.4 keeps them in
    `_models` by root id, which its own jslink uses); a missing one fails the build loudly."""
    found = viewable._models.get(root.ref["id"])
    if found is None:
        raise RuntimeError(f"prerender: {type(viewable).__name__} has no model in this root")
    return found[0]


def _select_values(select: Model, labels: list[str]) -> list[str]:
    """What a Select model holds as its value for each option label (Panel 1.9.4 sends options as
    [value, label] pairs): the JS sets the value BokehJS shows."""
    found = {label: value for value, label in select.options}
    missing = [label for label in labels if label not in found]
    if missing:
        raise RuntimeError(f"prerender: no option {missing} in {select.title!r}")
    return [found[label] for label in labels]


def _markdown_text(pane: pn.pane.Markdown) -> Any:
    """markdown -> the model text a Markdown pane like `pane` sends to BokehJS (escaped HTML)."""
    return lambda text: pane._transform_object(text)["object"]


def callback_args(atlas: Atlas, parts: Parts, root: Model) -> dict[str, Any]:
    """Everything the callback reads besides the page's country table (TABLE_ID): models of this
    root, the carried data and the words."""
    table = country_table(atlas)
    render = _markdown_text(parts.heading)
    heading = heading_text(render, parts.render_heading, atlas, table["codes"])
    scope = default_scope(atlas)
    codes = list(atlas.indicator_meta.index)
    files = indicator_files(atlas)
    meta = atlas.indicator_meta
    first = atlas.periods.years.first
    year_title = metric_title(atlas, "year", first, scope)
    if year_title.count(str(first)) != 1:
        raise RuntimeError(f"prerender: cannot find the year in the map title {year_title!r}")
    pair = table["codes"][:2]
    multi = temperature_title(atlas, pair, scope)
    names = ", ".join(atlas.country_name(c) for c in pair)
    if not multi.endswith(names):
        raise RuntimeError(f"prerender: unexpected title for several countries: {multi!r}")
    temperature, indicator = parts.temperature, parts.indicator
    metric_select, indicator_select = _model(parts.metric, root), _model(parts.indicator_select, root)
    return {
        # models of the pre-render document
        "countries": parts.world.countries, "outlines": parts.world.outlines,
        "mapper": parts.world.mapper, "colour_bar": parts.world.colour_bar,
        "map_title": parts.world.figure.title,
        "heading": _model(parts.heading, root), "slider": _model(parts.year, root),
        "waiting": [_model(part, root) for part in parts.waiting],
        "linked": [_model(part, root) for part in parts.linked],
        "loading_classes": [LOADING_INDICATOR_CSS_CLASS, f"pn-{pn.config.loading_spinner}"],
        "metric_select": metric_select, "indicator_select": indicator_select,
        "chip_label": _model(parts.chips_label, root),
        "chip_buttons": [_model(b, root) for b in parts.chips],
        "t_title": temperature.figure.title, "t_series": [s.series for s in temperature.slots],
        "t_trend": [s.trend for s in temperature.slots],
        "t_series_items": [s.series_item for s in temperature.slots],
        "t_trend_items": [s.trend_item for s in temperature.slots],
        "i_title": indicator.figure.title, "i_world": indicator.world,
        "i_yaxis": indicator.figure.yaxis[0], "i_series": [s.series for s in indicator.slots],
        "i_series_items": [s.series_item for s in indicator.slots],
        "s_figure": parts.stripes.figure, "s_bands": parts.stripes.bands,
        "s_text": parts.stripes.text,
        "s_heights": [stripes_height(n) for n in range(1, len(temperature.slots) + 1)],
        # the carried data (default scope): the page's country table (TABLE_ID), and per country
        # of its `codes`, the heading
        "table_id": TABLE_ID,
        "headings": heading.single, "compared": heading.fragments,
        "compared_lead": heading.lead, "heading_end": heading.end,
        "chip_texts": [_markdown_text(parts.chips_label)(w) for w in parts.chips_words],
        "chip_prefix": parts.chip_prefix,
        "multi_title": multi[:len(multi) - len(names)],
        "trend_period": str(atlas.periods.trend),
        "no_data": NO_DATA, "year_unit": metric_unit(atlas, "year", scope),
        "year_title": year_title.replace(str(first), YEAR_MARK),
        "year_limit": color_limit(atlas, "year", np.array([]), scope),
        "year_metric_value": _select_values(metric_select, [METRICS["year"].label(atlas.periods)])[0],
        "indicator_codes": codes,
        "indicator_values": _select_values(indicator_select, [
            f"{meta.at[c, 'short_name']} ({meta.at[c, 'unit']})" for c in codes]),
        "indicator_urls": [f"./{DATA_DIR}/{indicator_file(c)}" for c in codes],
        "indicator_integrity": [_integrity(files[indicator_file(c)]) for c in codes],
        "js_metrics": list(JS_METRICS), "published_base": scope.base,
        # the link's rules and words (links.py), and where its notice and an embed show
        "link_rules": link_rules(atlas), "notice": _model(parts.notice, root),
        "notice_html": _markdown_text(parts.notice)("x"), "back": _model(parts.back, root),
        "embed_parts": [_model(part, root) for part in parts.embed_parts],
        "embed_shown": {view: [parts.embed_parts.index(p) for p in kept]
                        for view, kept in parts.embed_shown.items()},
    }


def answer_before_python(atlas: Atlas, parts: Parts, state: Any) -> list[Any]:
    """Lift what answers above the veil, mark what needs Python as loading, and return the hook
    (for the page's root: `pn.Column(..., hooks=...)`) that attaches the callback once the
    pre-render's models exist. The defaults the JS starts from are `state`'s."""
    for part in parts.lifted:
        part.styles = {**part.styles, **LIFT}
    for part in parts.waiting:
        part.loading = True
    still_when_loading([*parts.waiting, *parts.linked])
    defaults = {"default_selection": list(state.selection), "default_metric": state.metric,
                "default_indicator": state.indicator}
    attached: set[str] = set()

    def attach(viewable: pn.viewable.Viewable, root: Model) -> None:
        if root.ref["id"] in attached:  # Panel runs hooks again when a part changes
            return
        attached.add(root.ref["id"])
        callback = CustomJS(args={**callback_args(atlas, parts, root), **defaults}, code=CODE)
        figure = parts.world.figure
        figure.js_on_event("tap", callback)
        figure.js_on_event("doubletap", callback)  # BokehJS reports a quick second click so
        _model(parts.year, root).js_on_change("value", callback)
        pn.state.curdoc.js_on_event("document_ready", callback)  # the link, once drawn

    return [attach]


# links.parse_query, ported: the values a link holds validly and its notices, word for word
# (`rules`: links.link_rules; `codes`: the ISO3 codes a selection may hold), so a link's notice
# shows with the map, not 20 s later, moving the page. Python's strip(), links.quoted and
# parse_qsl's reading are reproduced; an e2e test compares the two over generated links.
PARSE_LINK_JS = r"""
function parse_link(search, rules, codes) {
  const space = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029'
    + '\\u202f\\u205f\\u3000';  // str.isspace's characters (trim() knows no \x1c-\x1f or \x85)
  const ends = new RegExp(`^[${space}]+|[${space}]+$`, 'g');
  const strip = (text) => text.replace(ends, '');
  const hex = (c, n) => c.toString(16).padStart(n, '0');
  const escaped = (c) => rules.escaped.some(([low, high]) => c >= low && c <= high);
  const quoted = (text) => {  // links.quoted
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    let out = quote;
    for (const ch of text) {
      const c = ch.codePointAt(0);
      if (ch === quote || ch === '\\') out += '\\' + ch;
      else if (ch === '\t') out += '\\t';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (!escaped(c)) out += ch;
      else if (c <= 0xff) out += '\\x' + hex(c, 2);
      else if (c <= 0xffff) out += '\\u' + hex(c, 4);
      else out += '\\U' + hex(c, 8);
    }
    return out + quote;
  };
  const shown = (values) => {  // links.shown
    const all = values.map((v) => [...v].length <= rules.shown_chars ? v
      : [...v].slice(0, rules.shown_chars).join('') + '\u2026').map(quoted);
    const rest = all.length - rules.shown_values;
    return all.slice(0, rules.shown_values).join(', ') + (rest > 0 ? ` and ${rest} more` : '');
  };
  const fill = (words, fields) => words.replace(/\{(\w+)\}/g, (all, name) => fields[name] ?? all);
  const grouped = new Map();
  for (const [key, value] of new URLSearchParams(search.replace(/^\?+/, ''))) {
    if (!grouped.has(key)) grouped.set(key, []);
    grouped.get(key).push(value);
  }
  const {words, accepted} = rules, values = {}, notices = [];
  if (grouped.has('countries')) {
    const known_codes = new Set(codes);
    const given = grouped.get('countries').flatMap((v) => v.split(',')).map(strip).filter((c) => c);
    grouped.delete('countries');
    const known = [...new Set(given.map((c) => c.toUpperCase()).filter((c) => known_codes.has(c)))];
    const unknown = [...new Set(given.filter((c) => !known_codes.has(c.toUpperCase())))];
    if (unknown.length) notices.push(fill(words.unknown_countries, {values: shown(unknown)}));
    if (known.length > rules.max_selected) notices.push(words.too_many);
    if (known.length) values.selection = known.slice(0, rules.max_selected);
  }
  const [first, last] = rules.years;
  const read = (key, value) => {
    if (key !== 'year') return accepted[key].includes(value) ? value : null;
    const year = strip(value);
    return /^[0-9]{1,4}$/.test(year) && Number(year) >= first && Number(year) <= last
      ? Number(year) : null;
  };
  for (const [key, invalid] of Object.entries(words.invalid)) {
    if (!grouped.has(key)) continue;
    const read_values = grouped.get(key).map((v) => [v, read(key, v)]);
    grouped.delete(key);
    const bad = read_values.filter(([, parsed]) => parsed === null).map(([v]) => v);
    const good = read_values.filter(([, parsed]) => parsed !== null);
    if (bad.length) notices.push(fill(invalid, {values: shown(bad)}));
    if (good.length > 1) {
      notices.push(fill(words.twice, {key, kept: shown([good[0][0]]),
                                      ignored: shown(good.slice(1).map(([v]) => v))}));
    }
    if (good.length) values[key] = good[0][1];
  }
  const others = new RegExp(`^(?:${rules.added_by_others})$`);
  const unknown = [...grouped.keys()].filter((key) => !others.test(key));
  if (unknown.length) notices.push(fill(words.unknown_settings, {values: shown(unknown)}));
  return {values, notices};
}
"""


# One callback for every trigger: a tap or double tap on the map (cb_obj: the event), the year
# slider (cb_obj: the slider) and the document being drawn (cb_obj: the document). Its arguments
# are `callback_args` and the state's defaults. The slider answers the keyboard before Python too,
# so it is named as the live page names it, and a link's notice is announced as it is there (a11y.py).
CODE = ("const apply_a11y = (cb_obj) => {" + BEFORE_PYTHON_JS + "};\n"
        + PARSE_LINK_JS + r"""
const body = document.body;
if (body.dataset.atlasHandover != null) return;  // Python has the address: stand down
let S = heading.__atlas_prerender;
if (S == null) {
  const table = JSON.parse(document.getElementById(table_id).textContent);  // country_table
  S = heading.__atlas_prerender = {
    table, index: new Map(table.codes.map((c, i) => [c, i])), selection: default_selection.slice(),
    metric: default_metric, indicator: default_indicator, shown_indicator: default_indicator,
    year: slider.value, fetched: new Map(), off: false, linked_year: null,
  };
}
if (S.off) return;
const {names, titles, runs, values, trends, sd, sources, in_warming} = S.table;
const stood_down = () => body.dataset.atlasHandover != null || S.off;
const row = (iso3) => S.index.get(iso3);
const expand = (runs) => {
  const years = [];
  for (let i = 0; i < runs.length; i += 2) for (let k = 0; k < runs[i + 1]; k++) years.push(runs[i] + k);
  return years;
};
const empty = () => ({year: [], value: [], name: []});
// Python's format(x, '.Nf'): toFixed rounds an exact tie away from zero, Python to even.
const fixed = (x, digits) => {
  const abs = Math.abs(x);
  let text = abs.toFixed(digits);
  const exact = abs.toFixed(digits + 30);
  const kept = exact.slice(0, exact.length - 30);
  if (/^50*$/.test(exact.slice(exact.length - 30)) && Number(kept.slice(-1)) % 2 === 0) text = kept;
  return (x < 0 || Object.is(x, -0) ? '-' : '') + text;
};
const signed = (x, digits) => (x < 0 || Object.is(x, -0) ? '' : '+') + fixed(x, digits);

const LINK_KEYS = ['countries', 'indicator', 'year', 'metric', 'season', 'base', 'embed'];

function link_query(changes) {  // as links.to_query writes it: the link's valid values, changed
  const {values} = parse_link(location.search, link_rules, S.table.codes);
  const state = {...values, countries: values.selection?.join(','), ...changes};
  const query = new URLSearchParams();
  for (const key of LINK_KEYS) if (state[key] != null) query.set(key, String(state[key]));
  return '?' + query.toString().replace(/%2C/gi, ',');
}

function write_link(changes) {  // the address is the state the live session starts from
  // Nothing the link dropped is kept, so Python finds nothing to tell: the notice spoke of the
  // link, which the visitor has moved on from (as layout._sync_url clears it).
  history.replaceState(history.state, '', link_query(changes) + location.hash);
  notice.visible = false;
  if (S.embedded) show_back_link();
}

function read_link() {  // links.parse_query's values and notices, and whether this page can draw them
  const {values, notices} = parse_link(location.search, link_rules, S.table.codes);
  const link = {...values, notices};
  link.unsupported = (values.season != null && values.season !== link_rules.accepted.season[0])
    || (values.base != null && values.base !== published_base)
    || (values.metric != null && !js_metrics.includes(values.metric));
  return link;
}

function show_notice(text) {  // as layout's notice pane: one paragraph, its words set as text
  notice.text = notice_html;
  const paragraph = Bokeh.index.query_one((v) => v.model === notice)?.container?.querySelector('p');
  if (paragraph == null) return;
  paragraph.textContent = text;
  notice.visible = true;
}

function show_back_link() {  // an embedded view's way back: the whole atlas at this view
  const anchor = Bokeh.index.query_one((v) => v.model === back)?.container?.querySelector('a');
  if (anchor != null) anchor.setAttribute('href', link_query({embed: null}));
}

function embed(view) {  // layout._embeddable: only that view and the link back
  const keep = embed_shown[view].map((k) => embed_parts[k]);
  for (const part of embed_parts) part.visible = keep.includes(part);
  back.visible = true;
  S.embedded = true;
  show_back_link();
}

function inside(xs, ys, x, y) {  // even-odd ray casting, as world_map._inside
  let odd = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    const crossing = (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i];
    if ((ys[i] > y) !== (ys[j] > y) && x < crossing) odd = !odd;
  }
  return odd;
}

function country_at(x, y) {  // as world_map.country_at, over the map's own polygons
  const d = countries.data;
  for (let i = 0; i < d.iso3.length; i++) {
    for (let p = 0; p < d.xs[i].length; p++) {
      const xs = d.xs[i][p], ys = d.ys[i][p], ox = xs[0], oy = ys[0];
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (let k = 0; k < ox.length; k++) {
        x0 = Math.min(x0, ox[k]); x1 = Math.max(x1, ox[k]);
        y0 = Math.min(y0, oy[k]); y1 = Math.max(y1, oy[k]);
      }
      if (x < x0 || x > x1 || y < y0 || y > y1 || !inside(ox, oy, x, y)) continue;
      let hole = false;
      for (let h = 1; h < xs.length; h++) if (inside(xs[h], ys[h], x, y)) hole = true;
      if (!hole) return d.iso3[i];
    }
  }
  return null;
}

function select_at(x, y) {  // a click at (x, y) in the map's data units
  const iso3 = country_at(x, y);
  if (iso3 == null) return;
  S.selection = [iso3];  // a click replaces the selection (adding needs Python)
  draw_selection();
  write_link({countries: iso3});
  draw_indicator().catch((error) => console.warn('pre-render: no indicator data', error));
}

function draw_selection() {
  const sel = S.selection, names_of = (list) => list.map((c) => names[row(c)]);
  let text = headings[row(sel[sel.length - 1])];
  if (sel.length > 1) {
    text = text.slice(0, text.length - heading_end.length) + compared_lead
      + sel.slice(0, -1).map((c) => compared[row(c)]).join(', ') + heading_end;
  }
  heading.text = text;
  chip_buttons.forEach((button, i) => {
    if (i < sel.length) {
      button.label = chip_prefix + names[row(sel[i])];
      button.disabled = sel.length === 1;
    }
    button.visible = i < sel.length;
  });
  chip_label.text = chip_texts[sel.length - 1];
  for (let i = 0; i < t_series.length; i++) {
    const r = i < sel.length ? row(sel[i]) : null;
    if (r == null) {
      t_series[i].data = empty(); t_trend[i].data = empty();
      t_series_items[i].visible = false; t_trend_items[i].visible = false;
      continue;
    }
    const name = names[r], years = expand(runs[r]), trend = trends[r];
    t_series[i].data = {year: years, value: values[r].slice(), name: years.map(() => name)};
    t_series_items[i].label = {value: name};
    if (trend.length) {
      t_trend[i].data = {year: [trend[0], trend[1]], value: [trend[2], trend[3]], name: [name, name]};
      t_trend_items[i].label = {value: `${name} trend ${trend_period}`};
    } else {
      t_trend[i].data = empty();
    }
    t_series_items[i].visible = true;
    t_trend_items[i].visible = trend.length > 0;
  }
  t_title.text = sel.length > 1 ? multi_title + names_of(sel).join(', ') : titles[row(sel[0])];
  wait_stripes(sel.length);
  // The outlines last: BokehJS updates a glyph's arrays after its data changes, and a change that
  // lays the page out again (a chip hidden, the stripes' height) repaints the map at once, with the
  // outlines' old indices past their new, shorter data (a TypeError, and the rest of the click lost).
  const d = countries.data, keep = new Set(sel), outline = {xs: [], ys: [], iso3: []};
  d.iso3.forEach((c, i) => {
    if (keep.has(c)) { outline.xs.push(d.xs[i]); outline.ys.push(d.ys[i]); outline.iso3.push(c); }
  });
  outlines.data = outline;
}

// The warming stripes wait for Python: empty, at the height it will draw them for `count`
// countries, so that nothing below them moves when it does (they showed the default country's).
function wait_stripes(count) {
  s_bands.data = {x: [], y: [], color: [], name: [], year: [], label: []};
  s_text.data = {x: [], y: [], text: [], align: []};
  s_figure.height = s_heights[count - 1];
}

function indicator_data(code) {
  let data = S.fetched.get(code);
  if (data == null) {
    const k = indicator_codes.indexOf(code);
    data = fetch(indicator_urls[k], {integrity: indicator_integrity[k]}).then((response) => {
      if (!response.ok) throw new Error(`${response.status} ${response.url}`);
      return response.json();
    });
    S.fetched.set(code, data);
  }
  return data;
}

function draw_indicator() {
  const code = S.indicator, sel = S.selection.slice();
  return indicator_data(code).then((d) => {
    if (stood_down() || code !== S.indicator || sel.join() !== S.selection.join()) return;
    if (S.shown_indicator !== code) {
      const years = expand(d.world.runs);
      i_world.data = {year: years, value: d.world.values, name: years.map(() => 'World')};
      i_yaxis.axis_label = d.unit;
      S.shown_indicator = code;
    }
    const missing = [];
    for (let i = 0; i < i_series.length; i++) {
      if (i >= sel.length) {
        i_series[i].data = empty();
        i_series_items[i].visible = false;
        continue;
      }
      const name = names[row(sel[i])], series = d.countries[sel[i]];
      const years = series ? expand(series.runs) : [];
      if (!years.length) missing.push(name);
      i_series[i].data = {year: years, value: series ? series.values : [], name: years.map(() => name)};
      i_series_items[i].label = {value: name};
      i_series_items[i].visible = true;
    }
    i_title.text = missing.length ? `${d.short_name}: no World Bank data for ${missing.join(', ')}`
      : `${d.short_name}: ${sel.map((c) => names[row(c)]).join(', ')}`;
  });
}

function recolour() {  // the map's colours for the year metric, as views.world_map.colouring
  if (S.metric !== 'year') return;
  const d = countries.data, value = [], label = [];
  for (const iso3 of d.iso3) {
    const r = row(iso3);
    // NaN, not null: BokehJS's colour mapper reads null as 0 (a colour), NaN as no data (grey)
    if (r == null || !in_warming[r]) { value.push(NaN); label.push(no_data); continue; }
    const at = expand(runs[r]).indexOf(S.year), v = at < 0 ? null : values[r][at];
    let text = v == null ? `no value for ${S.year}` : `${signed(v, 2)} ${year_unit} in ${S.year}`;
    if (v != null && sd[r] != null) text += `, ${fixed(v / sd[r], 1)} σ`;
    value.push(v == null ? NaN : v);
    label.push(`${text}, ${sources[r]}`);
  }
  countries.data = Object.assign({}, d, {value, label});
  mapper.low = -year_limit;
  mapper.high = year_limit;
  colour_bar.title = year_unit;
  map_title.text = year_title.replace('{year}', String(S.year));
}

if (cb_obj === slider) {
  S.year = slider.value;
  // BokehJS runs a callback after the change that caused it: the link's own year is not a move
  if (S.linked_year === S.year) {
    S.linked_year = null;
  } else {
    // as AtlasState.choose_year: the map shows the year the visitor chose (the carried metrics
    // that do not change with the year give way to its anomaly)
    if (S.metric !== 'year') {
      S.metric = 'year';
      metric_select.value = year_metric_value;
    }
    write_link({year: S.year, metric: S.metric});
  }
  recolour();
} else if (cb_obj.event_name === 'tap' || cb_obj.event_name === 'doubletap') {
  select_at(cb_obj.x, cb_obj.y);
} else {  // the document is drawn: show the link's state, then a click the map's picture kept
  // What needs Python is under the veil, and out of the keyboard's reach too: a key press there
  // would be dropped when Python takes over, or download a picture named for the default state.
  for (const view of Bokeh.index.query((v) => waiting.includes(v.model))) view.el.inert = true;
  apply_a11y(slider);
  const link = read_link();
  if (link.embed != null) embed(link.embed);
  if (link.notices.length) show_notice(link.notices.join(' '));
  if (link.unsupported) {
    S.off = true;
    if (link.selection) wait_stripes(link.selection.length);
    // the default's map, heading and charts are not the link's: they say they are loading, as
    // Panel marks a part (its loading classes)
    for (const model of linked) model.css_classes = [...model.css_classes, ...loading_classes];
    const note = document.getElementById('site-prerender');
    if (note != null) note.textContent = 'This link asks for a season, base period or map metric '
      + 'that needs Python: the page answers once it has started.';
    return;
  }
  if (link.selection) S.selection = link.selection;
  if (link.indicator != null) {
    S.indicator = link.indicator;
    indicator_select.value = indicator_values[indicator_codes.indexOf(link.indicator)];
  }
  if (link.metric === 'year') {
    S.metric = 'year';
    metric_select.value = year_metric_value;
  }
  if (link.year != null && link.year !== slider.value) {
    S.linked_year = link.year;  // the link may give the year more than once: keep it as it is
    slider.value = link.year;
  }
  S.year = slider.value;
  if (link.selection) draw_selection();
  recolour();
  const picture = document.getElementById('atlas-poster');
  if (picture != null) picture.dataset.answered = '';  // later clicks reach the map (poster.html)
  const kept = window.atlasPosterClick;
  delete window.atlasPosterClick;
  if (kept != null && !link.selection) select_at(kept.x, kept.y);
  else draw_indicator().catch((error) => console.warn('pre-render: no indicator data', error));
}
""")
