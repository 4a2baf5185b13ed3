"""The data and words the pre-render's callback carries or reads from the page are the Python views'
own (views/prerender.py).

The e2e module tests/e2e/test_before_python.py compares what the callback draws with what Python
draws in the browser; these check the inputs for every country, without a browser.
"""

from __future__ import annotations

import json
import math

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import CustomJS
from panel.io.state import set_curdoc

from climate_atlas import layout, target
from climate_atlas.anomalies import anomalies, default_scope
from climate_atlas.data import ANNUAL, load_atlas
from climate_atlas.views import prerender
from climate_atlas.views.series import temperature_title, trend_line


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def table(atlas):
    return prerender.country_table(atlas)


def test_runs_encode_every_sequence_of_years_exactly() -> None:
    for years in ([], [1961], [1961, 1962, 1963], [1961, 1963, 1964, 2000], [2001, 2000]):
        assert prerender.expand_runs(prerender.year_runs(years)) == years
    assert prerender.year_runs([1961, 1962, 1963, 1990]) == [1961, 3, 1990, 1]


def test_every_countrys_series_title_and_trend_are_the_temperature_charts(atlas, table) -> None:
    scope = default_scope(atlas)
    assert table["codes"] == list(atlas.countries.index)
    for i, iso3 in enumerate(table["codes"]):
        series = anomalies(atlas, iso3, scope)
        assert prerender.expand_runs(table["runs"][i]) == list(series.index), iso3
        assert table["values"][i] == list(series.to_numpy()), iso3
        assert table["titles"][i] == temperature_title(atlas, [iso3], scope)
        assert table["names"][i] == atlas.country_name(iso3)
        per_decade = (atlas.warming.at[iso3, "trend_per_decade"] if iso3 in atlas.warming.index
                      else math.nan)
        if math.isnan(per_decade) or series.empty:
            assert table["trends"][i] == [], iso3
        else:
            line = trend_line(series, per_decade, atlas.periods.trend)
            assert table["trends"][i] == [*line.index, *line.to_numpy()], iso3
    assert sum(t == [] for t in table["trends"]) > 0  # some countries have no trend: covered


def test_the_country_table_is_one_data_block_the_page_parses_back(atlas, table, monkeypatch) -> None:
    """The page carries the table once, as a JSON data block (no NaN: a missing value is null) that
    holds every row exactly, and in which no text can end the element or change how HTML is parsed
    (no "<" at all: JSON.parse reads its escape back)."""
    block = prerender.country_table_block(atlas)
    start = f'<script type="application/json" id="{prerender.TABLE_ID}">'
    assert block.startswith(start) and block.endswith("</script>")
    assert json.loads(block[len(start):-len("</script>")]) == table
    names = [*table["names"][:-2], "A</script><script>alert(1)</script>", "B<!--<script>"]
    monkeypatch.setattr(prerender, "country_table", lambda _: {**table, "names": names})
    hostile = prerender.country_table_block(atlas)
    assert "<" not in hostile[len(start):-len("</script>")]
    assert json.loads(hostile[len(start):-len("</script>")])["names"][-2:] == names[-2:]


def _heading_model_text(atlas, selection: list[str]) -> str:
    pane = pn.pane.Markdown(layout.country_heading(atlas, selection, ANNUAL))
    return pane.get_root(Document()).text


@pytest.mark.parametrize("selection", [["IND"], ["TUR", "CIV"], ["CIV", "TUR", "TTO", "BRA"],
                                       ["KOR", "PRK", "COD"]])
def test_the_heading_the_js_composes_is_pythons(atlas, selection: list[str]) -> None:
    """As the callback composes it (CODE's draw_selection), for names with apostrophes and accents."""
    codes = list(atlas.countries.index)
    pane = pn.pane.Markdown()
    text = prerender.heading_text(lambda md: pane._transform_object(md)["object"],
                                  layout.country_heading, atlas, codes)
    row = {c: i for i, c in enumerate(codes)}
    composed = text.single[row[selection[-1]]]
    if len(selection) > 1:
        composed = (composed[:len(composed) - len(text.end)] + text.lead
                    + ", ".join(text.fragments[row[c]] for c in selection[:-1]) + text.end)
    assert composed == _heading_model_text(atlas, selection)


def test_indicator_files_hold_what_the_indicator_chart_draws(atlas) -> None:
    files = prerender.indicator_files(atlas)
    assert set(files) == {prerender.indicator_file(c) for c in atlas.indicator_meta.index}
    data = json.loads(files[prerender.indicator_file("AG.LND.FRST.ZS")])
    assert data["short_name"] == atlas.indicator_meta.at["AG.LND.FRST.ZS", "short_name"]
    for iso3 in ("BRA", "TUR", "CIV"):
        series = atlas.indicator_series("AG.LND.FRST.ZS", iso3)
        drawn = data["countries"][iso3]
        assert prerender.expand_runs(drawn["runs"]) == list(series.index)
        assert drawn["values"] == list(series.to_numpy())
    assert files == {n: prerender.indicator_json(atlas, c) for c in atlas.indicator_meta.index
                     for n in [prerender.indicator_file(c)]}  # the same bytes on every call


def _document(monkeypatch: pytest.MonkeyPatch, answers: str = "answers") -> Document:
    """The pre-render document, built as the static build does (or, answers="", as the benchmark's
    baseline does)."""
    monkeypatch.setenv(target.ENV_VAR, "browser")
    monkeypatch.setenv(target.PRERENDER_VAR, answers)
    doc = Document()
    with set_curdoc(doc):
        doc.add_root(layout.build_dashboard().get_root(doc))
    return doc


def _callbacks(monkeypatch: pytest.MonkeyPatch, answers: str = "answers") -> list[CustomJS]:
    """The pre-render document's document-level callbacks."""
    return _document(monkeypatch, answers).callbacks.js_event_callbacks.get("document_ready", [])


def _tables(doc: Document) -> int:
    return sum(type(m).__name__ == "DataTabulator" for m in doc.models)


def test_the_prerender_leaves_the_table_to_python(monkeypatch) -> None:
    """The pre-render draws no Tabulator (it held BokehJS's first draw of the map back) but says
    the table is coming; Panel's plain page (the baseline, and so the live page) has the table."""
    prerendered = _document(monkeypatch)
    assert _tables(prerendered) == 0
    assert any(layout.TABLE_PENDING in str(getattr(m, "text", "")) for m in prerendered.models)
    assert _tables(_document(monkeypatch, answers="")) == 1


def test_only_the_browsers_prerender_gets_the_callback(atlas, monkeypatch) -> None:
    """One callback on the tap, double tap, slider and the drawn document, with this root's models
    and every indicator file's integrity; none where the app is not pre-rendering for the browser
    (Pyodide and `panel serve` are covered by `prerendering()`)."""
    (callback,) = _callbacks(monkeypatch)
    args = callback.args
    assert args["heading"].document is not None and args["slider"].start == atlas.periods.years.first
    files = prerender.indicator_files(atlas)
    for code, url, integrity in zip(args["indicator_codes"], args["indicator_urls"],
                                    args["indicator_integrity"], strict=True):
        name = prerender.indicator_file(code)
        assert url == f"./{prerender.DATA_DIR}/{name}"
        assert integrity == prerender._integrity(files[name])
    assert args["year_title"] == "Anomaly in {year}, °C vs 1951-1980"
    assert len(args["t_series"]) == len(args["i_series"]) == len(args["chip_buttons"]) == 8
    assert _callbacks(monkeypatch, answers="") == []  # the benchmark's baseline: Panel's plain page
    monkeypatch.setenv(target.PRERENDER_VAR, "answers")
    monkeypatch.setattr(target.sys, "platform", "emscripten")
    assert not target.prerendering()
