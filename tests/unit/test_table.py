"""The country table, and its rows in the order the browser's table shows them."""

from __future__ import annotations

import math

import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ModelChangedEvent
from bokeh.models import ColumnDataSource
from panel.io.state import set_curdoc

from climate_atlas.data import load_atlas
from climate_atlas.layout import build_dashboard
from climate_atlas.views.table import (
    LABEL,
    VALUE_YEAR,
    as_shown,
    country_table,
    on_screen_table,
    screen_options,
    table_caption,
    value_text,
    with_full_names,
)

ROWS = pd.DataFrame({
    "country": ["Rwanda", "Réunion", "Croatia", "Côte d'Ivoire", "Guinea-Bissau", "Guinea"],
    "value": [1.0, math.nan, 0.5, 1.0, math.nan, 2.0],
})


def test_no_sorter_keeps_the_data_order() -> None:
    assert as_shown(ROWS, []).equals(ROWS)


def test_names_sort_by_letters_before_accents() -> None:
    """As the browser's localeCompare does (checked against Node's ICU): "Côte d'Ivoire" comes
    before "Croatia", "Réunion" before "Rwanda", a shorter name before its longer forms."""
    shown = as_shown(ROWS, [{"field": "country", "dir": "asc"}])
    assert list(shown["country"]) == ["Côte d'Ivoire", "Croatia", "Guinea", "Guinea-Bissau",
                                      "Réunion", "Rwanda"]
    shown = as_shown(ROWS, [{"field": "country", "dir": "desc"}])
    assert list(shown["country"])[:2] == ["Rwanda", "Réunion"]


def test_an_empty_value_is_the_smallest_and_ties_keep_the_data_order() -> None:
    ascending = as_shown(ROWS, [{"field": "value", "dir": "asc"}])
    assert list(ascending["country"]) == ["Réunion", "Guinea-Bissau", "Croatia", "Rwanda",
                                          "Côte d'Ivoire", "Guinea"]
    descending = as_shown(ROWS, [{"field": "value", "dir": "desc"}])
    assert list(descending["country"]) == ["Guinea", "Rwanda", "Côte d'Ivoire", "Croatia",
                                           "Réunion", "Guinea-Bissau"]


def test_the_first_sorter_decides_and_the_next_breaks_ties() -> None:
    shown = as_shown(ROWS, [{"field": "value", "dir": "desc"}, {"field": "country", "dir": "asc"}])
    assert list(shown["country"])[:3] == ["Guinea", "Côte d'Ivoire", "Rwanda"]


def test_the_table_lists_countries_in_the_order_a_sort_by_name_gives() -> None:
    atlas = load_atlas()
    table = country_table(atlas, "mean", 2022, "SP.POP.TOTL")
    assert table.equals(as_shown(table, [{"field": "country", "dir": "asc"}]).reset_index(drop=True))
    assert list(table["country"]).index("Réunion") < list(table["country"]).index("Rwanda")


def test_the_indicator_is_the_years_value_or_the_latest_before_it_with_its_year() -> None:
    """CO2 per capita ends before 2022: the default view shows each country's latest value from the
    5 years before, with that year; population has 2022 and shows it plainly."""
    atlas = load_atlas()
    co2 = country_table(atlas, "mean", 2022, "EN.ATM.CO2E.PC").set_index("iso3")
    value, year = co2.columns[-2:]
    assert (value, year) == ("CO2 emissions per capita (t per person), latest of 2017-2022",
                             "CO2 emissions per capita, year of value")
    india = atlas.indicator_series("EN.ATM.CO2E.PC", "IND")
    assert co2.at["IND", year] == india.index.max() < 2022
    assert co2.at["IND", value] == india.iloc[-1]
    assert co2[value].notna().sum() > 150
    assert co2[year].isna().equals(co2[value].isna())

    shown = on_screen_table(atlas, "mean", 2022, "EN.ATM.CO2E.PC").set_index("iso3")
    assert shown.at["IND", "indicator"] == india.iloc[-1]  # numbers, so it sorts as numbers
    assert shown.at["IND", LABEL] == f"{india.iloc[-1]:.2f} ({india.index.max()})"
    population = on_screen_table(atlas, "mean", 2022, "SP.POP.TOTL").set_index("iso3")
    assert population.at["IND", VALUE_YEAR] == 2022
    assert population.at["IND", LABEL] == f"{atlas.indicator_series('SP.POP.TOTL', 'IND')[2022]:,.0f}"


def test_a_country_with_no_value_in_the_window_shows_none() -> None:
    atlas = load_atlas()
    shown = on_screen_table(atlas, "mean", 2022, "EG.ELC.RNEW.ZS")  # mostly ends in 2015
    by_year = atlas.indicator_rows("EG.ELC.RNEW.ZS").groupby("iso3")["year"].max()
    stale = by_year[by_year < 2017].index
    assert shown.set_index("iso3").loc[stale, "indicator"].isna().all()
    assert (shown.set_index("iso3").loc[stale, LABEL] == "-").all()


def test_on_screen_columns_and_their_types_stay_the_same_across_years_and_indicators() -> None:
    """Tabulator throws if its columns are replaced while it redraws (during play)."""
    atlas = load_atlas()
    tables = [on_screen_table(atlas, metric, year, code) for metric, year, code in
              [("mean", 2022, "EN.ATM.CO2E.PC"), ("year", 1961, "EN.ATM.CO2E.PC"),
               ("trend", 2022, "SP.POP.TOTL"), ("year", 2000, "EG.ELC.RNEW.ZS")]]
    assert len({tuple(t.columns) for t in tables}) == 1
    assert len({tuple(map(str, t.dtypes)) for t in tables}) == 1
    options = screen_options()
    assert options["hidden_columns"] == [VALUE_YEAR, LABEL]
    assert LABEL in options["formatters"]["indicator"].template


@pytest.mark.parametrize(("value", "text"), [
    (0.115281586055672, "0.115"), (1.7759226729520, "1.78"), (24.3598290052099, "24.4"),
    (100.0, "100"), (9160.06365370888, "9,160"), (1417173173.0, "1,417,173,173"), (0.0, "0"),
    (math.nan, "-"),
])
def test_values_show_three_significant_digits_and_every_integer_digit(value: float, text: str) -> None:
    assert value_text(value) == text


def test_the_download_has_the_value_and_its_year_and_no_screen_label() -> None:
    atlas = load_atlas()
    shown = on_screen_table(atlas, "mean", 2022, "EN.ATM.CO2E.PC")
    full = with_full_names(atlas, "mean", 2022, "EN.ATM.CO2E.PC", shown)
    assert LABEL not in full.columns
    assert full.equals(country_table(atlas, "mean", 2022, "EN.ATM.CO2E.PC"))
    assert str(full["CO2 emissions per capita, year of value"].dtype) == "Int64"


def test_the_caption_states_the_rule() -> None:
    caption = table_caption(load_atlas(), "mean", 2022, "EN.ATM.CO2E.PC")
    assert "**indicator**: CO2 emissions per capita in 2022 (t per person)" in caption
    assert "where 2022 has no value, the latest from the 5 years before (2017-2021), with its year" \
        in caption


def test_an_indicator_change_redraws_its_chart_before_the_table() -> None:
    """The chart is what a visitor watches after choosing an indicator: its new series goes out
    before the table's new rows (in the browser the rows took about 80 ms of Python before the
    chart was even computed)."""
    doc = Document()
    with set_curdoc(doc):
        page = build_dashboard()
        doc.add_root(page.get_root(doc))
        sources: list[list[str]] = []

        def changed(event: object) -> None:
            model = getattr(event, "model", None)
            if isinstance(event, ModelChangedEvent | ColumnDataChangedEvent) \
                    and isinstance(model, ColumnDataSource):
                sources.append(sorted(model.data))

        doc.on_change(changed)
        select = next(w for w in page.select(pn.widgets.Select)
                      if w.name == "World Bank indicator")
        select.value = "SP.POP.TOTL"
    chart = next(i for i, columns in enumerate(sources) if columns == ["name", "value", "year"])
    table = next(i for i, columns in enumerate(sources) if "country" in columns)
    assert chart < table, sources
