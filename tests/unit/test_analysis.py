"""Warming against indicator: the rank correlation, checked against an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.model import Model

from climate_atlas.data import load_atlas
from climate_atlas.latest import latest_within
from climate_atlas.layout import _analysis
from climate_atlas.search import search_terms
from climate_atlas.state import new_state
from climate_atlas.views.scatter import (
    latest_values,
    rank_correlation,
    reference_year,
    scatter_summary,
    scatter_table,
)


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _spearman_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman via the textbook formula on average ranks (ties shared), computed with numpy."""
    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(1, len(v) + 1)
        for value in np.unique(v):
            tied = v == value
            r[tied] = r[tied].mean()
        return r
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx**2).sum() * (ry**2).sum()))


def test_rank_correlation_matches_an_independent_computation(atlas) -> None:
    table = scatter_table(atlas, "EN.ATM.CO2E.PC")
    rho, n = rank_correlation(table)
    assert n == len(table) > 100
    assert rho == pytest.approx(_spearman_by_hand(table["value"].to_numpy(),
                                                  table["trend_per_decade"].to_numpy()))


def test_rank_correlation_of_a_monotone_relation_is_one() -> None:
    table = pd.DataFrame({"value": [1.0, 10, 100, 1000], "trend_per_decade": [0.1, 0.2, 0.25, 0.9]})
    assert rank_correlation(table) == (pytest.approx(1.0), 4)


def test_search_knows_aliases_and_codes(atlas) -> None:
    terms = search_terms(atlas)
    by_words = {term.split(":")[0].split(" (")[0]: iso3 for term, iso3 in terms.items()}
    assert by_words["USA"] == "USA"
    assert by_words["Turkey"] == by_words["Türkiye"] == "TUR"
    assert by_words["Ivory Coast"] == "CIV"
    assert by_words["EL"] == "GRC" and by_words["XK"] == "XKX"  # Eurostat's and the World Bank's
    assert any(term.endswith("(FRA)") for term in terms)


@pytest.mark.parametrize("code", ["EN.ATM.CO2E.PC", "EG.USE.PCAP.KG.OE", "EG.ELC.RNEW.ZS"])
def test_the_scatter_takes_the_tables_rule_from_the_indicators_last_year(atlas, code: str) -> None:
    """Each point's value is the latest from the indicator's last year and the 5 before: energy use
    per capita drops its 2007 values; renewable electricity, one of whose countries runs to 2019
    while the rest end in 2015, keeps them all."""
    rows = atlas.indicator_rows(code)
    last = int(rows["year"].max())
    assert reference_year(atlas, code) == last
    latest = latest_values(atlas, code)
    assert latest.equals(latest_within(rows, last))
    assert latest["year"].between(last - 5, last).all()
    kept = rows[rows["year"] >= last - 5]["iso3"].unique()
    assert sorted(latest.index) == sorted(kept)
    assert set(scatter_table(atlas, code)["year"]) <= set(range(last - 5, last + 1))


def test_the_scatter_summary_states_the_rule(atlas) -> None:
    summary = scatter_summary(atlas, "EN.ATM.CO2E.PC")
    assert "latest from 2014-2019: the indicator's last year, 2019, or up to 5 years before" in summary
    assert "the hover gives its year" in summary


def _shown_text(model: object) -> str:
    """Every text the Bokeh models under `model` carry (Markdown panes render to HTML text)."""
    return " ".join(str(m.text) for m in model.references() if isinstance(m, Model)
                    and isinstance(getattr(m, "text", None), str))


def test_the_scatter_tab_summarises_the_indicator_chosen_before_it_was_opened(atlas) -> None:
    """The tab is computed when first opened (layout._analysis): an indicator chosen while it was
    closed is the one its summary names, and a later choice updates it."""
    state = new_state(atlas)
    tab = _analysis(state)
    state.indicator = "NY.GDP.PCAP.PP.KD"
    model = tab.get_root(Document())
    gdp = atlas.indicator_meta.at["NY.GDP.PCAP.PP.KD", "short_name"]
    assert f"Rank correlation (Spearman) between {gdp} and" in _shown_text(model)
    state.indicator = "SP.POP.TOTL"
    population = atlas.indicator_meta.at["SP.POP.TOTL", "short_name"]
    assert f"between {population} and" in _shown_text(model)
