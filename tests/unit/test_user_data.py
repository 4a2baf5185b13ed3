"""A visitor's own CSV: what is read, what is refused (naming the line), and how it joins the atlas."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from climate_atlas.anomalies import default_scope
from climate_atlas.data import YOUR_DATA, load_atlas
from climate_atlas.downloads import series_download, sources_table
from climate_atlas.links import parse_query, to_query
from climate_atlas.search import country_lookup
from climate_atlas.state import new_state
from climate_atlas.user_data import MAX_BYTES, UserDataError, read_user_csv
from climate_atlas.views.metrics import OWN, metric_options, metric_table
from climate_atlas.views.ranking import ranking
from climate_atlas.views.series import indicator_chart, indicator_source
from climate_atlas.views.table import country_table

ATLAS = load_atlas()
LOOKUP = country_lookup(ATLAS)
GOOD = ("country,year,value,name,unit\n"
        "France,2010,1.5,Cars per person,cars\n"
        "DE,2010,2.5,,\n"  # ISO2
        "Ivory Coast,2011,3,,\n"  # a reviewed alias, as the search box has it
        "esp,2012,4,,\n"  # ISO3, any case
        "Atlantis,2010,9,,\n"
        "cote d'ivoire,2012,5,,\n")  # accents ignored


def read(text: str | bytes):
    return read_user_csv(text.encode() if isinstance(text, str) else text, LOOKUP)


def refused(text: str | bytes) -> str:
    with pytest.raises(UserDataError) as caught:
        read(text)
    return str(caught.value)


def test_a_file_is_matched_by_name_alias_iso2_and_iso3_and_unknown_countries_are_listed() -> None:
    user = read(GOOD)
    assert user.name == "Cars per person" and user.unit == "cars"
    assert list(user.rows.itertuples(index=False, name=None)) == [
        ("CIV", 2011, 3.0), ("CIV", 2012, 5.0), ("DEU", 2010, 2.5), ("ESP", 2012, 4.0),
        ("FRA", 2010, 1.5)]
    assert user.notes == ("1 unknown country left out: 'Atlantis'.",)


def test_unknown_countries_quote_the_first_ten_and_count_the_rest() -> None:
    rows = "".join(f"Nowhere {i},2010,1\n" for i in range(14))
    note = read("country,year,value\nFRA,2010,1\n" + rows).notes[0]
    assert note.startswith("14 unknown countries left out: 'Nowhere 0', ")
    assert "'Nowhere 9'" in note and "'Nowhere 10'" not in note and note.endswith(" and 4 more.")


@pytest.mark.parametrize("text, words", [
    ("", "The file is empty."),
    ("  \n\n", "The file is empty."),
    ("country,year,value\n", "No data rows after the header."),
    ("FRA,2010,1.5\nDEU,2010,2\n", "Line 1: no country or year or value column. The header reads "
                                   "'FRA', '2010', '1.5'"),
    ("country,value\nFRA,1\n", "Line 1: no year column."),
    ("country,year,value\nFRA,2010,1\nDEU,2011\n", "Line 3: 2 columns, but the header has 3."),
    ("country,year,value\nFRA,2010,1\nDEU,2010,1.2.3\n", "Line 3: the value '1.2.3' is not a number."),
    ("country,year,value\nFRA,2010,inf\n", "Line 2: the value 'inf' is not a number."),
    ("country,year,value\nFRA,twenty,1\n", "Line 2: the year 'twenty' is not a year."),
    ("country,year,value\nFRA,2010.5,1\n", "Line 2: the year '2010.5' is not a year."),
    ("country,year,value\nFRA,2010,1\nFrance,2010,2\n",
     "Line 3: a second value for 'France' (FRA) in 2010 (the first is on line 2)."),
    ("country,year,value\nAtlantis,2010,1\n", "No row names a known country with a value. "
                                              "1 unknown country left out: 'Atlantis'."),
])
def test_a_bad_file_is_refused_with_the_line_and_the_problem(text: str, words: str) -> None:
    assert words in refused(text)


def test_a_spreadsheet_or_binary_file_is_named_as_such() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as xlsx:  # an .xlsx is a zip
        xlsx.writestr("[Content_Types].xml", "<Types/>")
    assert "spreadsheet (.xlsx" in refused(buffer.getvalue())
    assert "not a text file" in refused(b"\xff\x00\xfe\x00binary\x00\x80")


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    assert refused(b"x" * (MAX_BYTES + 1)).startswith("The file is 5.0 MB; the limit is 5 MB.")


def test_other_separators_encodings_and_decimal_commas_are_read_and_said() -> None:
    text = "Country;Year;Value\nCôte d'Ivoire;2010;1,5\nFRA;2011;2,5\n"
    user = read(text.encode("cp1252"))
    assert list(user.rows["value"]) == [1.5, 2.5] and list(user.rows["iso3"]) == ["CIV", "FRA"]
    assert user.notes == ("Read as Windows-1252, not UTF-8: check accented names.",
                          "Columns separated by ';'.", "Decimal commas read as decimal points.")
    assert read(text.replace(";", "\t").encode("utf-16")).rows.shape == (2, 3)
    assert read(text.encode("utf-16-le")).rows.shape == (2, 3)  # no byte-order mark
    assert read(("\n\n" + text).replace("Côte d'Ivoire", "Côte d’Ivoire")).rows.shape == (2, 3)


@pytest.mark.parametrize("text, values", [
    ("iso3;year;value\nFRA;2010;1,5\nDEU;2010;1,234\n", [1.234, 1.5]),  # the file's decimal commas
    ("iso3;year;value\nFRA;2010;1.5\nDEU;2010;1.234\n", [1.234, 1.5]),  # its decimal points
    ("iso3\tyear\tvalue\nFRA\t2010\t1 234,5\nDEU\t2010\t2\u202f000,25\n", [2000.25, 1234.5]),
    ('iso3,year,value\nFRA,2010,1.234\nDEU,2010,"12,5e1"\n', None),  # a comma in a comma file
])
def test_decimal_marks_are_read_from_the_file_or_refused(text: str, values: list | None) -> None:
    if values is None:
        assert "Line 3: the value '12,5e1' is not a number." in refused(text)
    else:
        assert read(text).rows["value"].tolist() == values


@pytest.mark.parametrize("text", [
    "country;year;value\nFRA;2010;1,234\n",  # thousands, or 1.234?
    "country;year;value\nFRA;2010;1,5\nDEU;2010;1.234\n",  # 1.234 in a file of decimal commas
    'country,year,value\nFRA,2010,"1,234"\n',
])
def test_a_value_that_reads_two_ways_is_refused(text: str) -> None:
    assert "could be read two ways" in refused(text)


def test_an_open_quote_is_named_on_its_line_in_small_and_large_files() -> None:
    text = 'country,year,value\nFRA,2010,"1\nDEU,2010,2\nESP,2010,3\n'
    assert refused(text).startswith("Line 2: a quote (\") opens a cell that runs over several")
    big = text + "".join(f"ESP,{1000 + i % 1000},{i}\n" for i in range(20_000))
    assert refused(big).startswith("Line 2: ")


@pytest.mark.parametrize("year", ["inf", "1e999", "nan"])
def test_a_year_that_is_no_number_is_refused(year: str) -> None:
    assert f"Line 2: the year '{year}' is not a year." in refused(f"country,year,value\nFRA,{year},1\n")


def test_a_line_of_a_million_columns_is_refused_at_once() -> None:
    assert refused("a," * 1_000_000 + "\n").startswith("Line 1: 1,000,001 columns")


def test_eurostats_shape_is_read_with_its_own_codes_and_its_aggregates_listed() -> None:
    """Eurostat writes EL for Greece and UK for the United Kingdom (ISO 3166's GR and GB), the World
    Bank XK for Kosovo (no ISO code); an aggregate such as EU27_2020 is no country."""
    user = read("DATAFLOW,freq,geo,TIME_PERIOD,OBS_VALUE\nX,A,FR,2020,1.5\nX,A,EL,2020,2\n"
                "X,A,UK,2019,3\nX,A,XK,2020,4\nX,A,EU27_2020,2020,5\n")
    assert user.rows["iso3"].tolist() == ["FRA", "GBR", "GRC", "XKX"]
    assert user.notes == ("1 unknown country left out: 'EU27_2020'.",)


def test_our_world_in_datas_shape_names_the_series_by_its_value_column() -> None:
    user = read("Entity,Code,Year,GDP per capita\nFrance,FRA,2010,40000\nAfrica,,2010,2000\n")
    assert user.name == "GDP per capita" and len(user.rows) == 1
    assert user.notes == ("1 unknown country left out: 'Africa'.",)


def test_empty_values_are_left_out_and_counted() -> None:
    user = read("country,year,value\nFRA,2010,\nFRA,2011,NA\nFRA,2012,3\n")
    assert len(user.rows) == 1 and user.notes == ("2 rows without a value left out.",)


def test_names_and_units_lose_every_character_markup_could_use() -> None:
    user = read("country,year,value,name,unit\nFRA,2010,1,<img src=x onerror=alert(1)> **b** "
                "[l](javascript:x),`t`|#\n")
    for text in (user.name, user.unit):
        assert not set(text) & set("<>&*_[]`|#\\."), text
    assert user.name.startswith("img src x onerror alert(1)")
    dotted = read("country,year,value,unit\nFRA,2010,1,km per www.example.com\n").unit
    assert dotted == "km per www\u2024example\u2024com"  # looks the same, links to nothing


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_data_or_a_named_problem_never_another_error(raw: bytes) -> None:
    try:
        user = read(raw)
    except UserDataError as exc:
        assert str(exc)
    else:
        assert not user.rows.duplicated(["iso3", "year"]).any()


def test_the_series_joins_one_sessions_atlas_as_an_indicator_and_a_map_metric() -> None:
    user = read(GOOD)
    mine = ATLAS.with_user_data(user)
    assert YOUR_DATA not in ATLAS.indicator_meta.index and ATLAS.user is None  # others never see it
    assert "own" not in metric_options(ATLAS).values() and "own" in metric_options(mine).values()
    assert mine.indicator_series(YOUR_DATA, "CIV").to_dict() == {2011: 3.0, 2012: 5.0}
    on_map = metric_table(mine, "own", 2012)
    assert on_map.at["ESP", "value"] == 4.0 and on_map.at["FRA", "value"] == 1.5  # 2010: latest
    assert on_map.at["FRA", "label"] == "1.5 cars in 2010, your data"
    ranked = ranking(mine, "mean", 2022, default_scope(mine)).set_index("code")
    assert ranked.at[YOUR_DATA, "indicator"] == "Your data: Cars per person (cars)"
    assert ranked.at[YOUR_DATA, "n"] == 4
    chart = indicator_chart(mine, YOUR_DATA, ["FRA", "CIV"])
    assert chart.figure.title.text == "Cars per person: France, Côte d'Ivoire"
    assert "Source: your data, from your file (5 values, 4 countries)" in indicator_source(
        mine, YOUR_DATA)
    table = country_table(mine, "own", 2012, YOUR_DATA).set_index("iso3")
    assert table.loc["CIV"].iloc[-2:].tolist() == [5.0, 2012]
    sources = sources_table(mine, [YOUR_DATA], OWN)
    assert list(sources["publisher"]) == ["your data, from your file"]
    with zipfile.ZipFile(io.BytesIO(series_download(mine, ["CIV"], YOUR_DATA))) as archive:
        series = pd.read_csv(archive.open("climate-atlas-series.csv"))
    assert series[series["series"] == "Cars per person (cars)"]["value"].tolist() == [3.0, 5.0]


def test_a_link_never_carries_the_visitors_series() -> None:
    state = new_state(ATLAS)
    state.use_own_data(ATLAS.with_user_data(read(GOOD)))
    state.metric = "own"
    query = to_query(state)
    assert "your-data" not in query and "metric=" not in query and "indicator=" not in query
    values, notices = parse_query("?metric=own&indicator=your-data", ATLAS)
    assert values == {} and len(notices) == 2


def test_the_upload_shows_a_good_file_and_leaves_the_page_as_it_was_after_a_bad_one() -> None:
    from climate_atlas.views.own_data import own_data_panel

    state = new_state(ATLAS)
    panel = own_data_panel(state, LOOKUP, "browser")
    box, error, success = panel[1], panel[2], panel[3]
    box.param.update(filename="twice.csv", value=b"country,year,value\nFRA,2010,1\nFRA,2010,2\n")
    assert state.atlas is ATLAS and state.indicator != YOUR_DATA and error.visible
    assert "Line 3\\: a second value" in error.object and not success.visible
    box.param.update(filename="mine.csv", value=GOOD.encode())
    assert state.indicator == YOUR_DATA and state.atlas.user.name == "Cars per person"
    assert not error.visible and success.visible and "Read your file\\: Cars" in success.object


def test_once_forgotten_no_cache_keeps_the_visitors_series() -> None:
    import gc
    import weakref

    from climate_atlas.views.own_data import forget_own_data

    mine = ATLAS.with_user_data(read(GOOD))
    metric_table(mine, "own", 2012)
    ranking(mine, "mean", 2022, default_scope(mine))
    country_table(mine, "own", 2012, YOUR_DATA)
    alive = weakref.ref(mine.user)
    del mine
    gc.collect()
    assert alive() is not None  # the caches hold it
    forget_own_data()
    gc.collect()
    assert alive() is None


def test_the_ranking_never_sets_the_visitors_series_against_itself() -> None:
    mine = ATLAS.with_user_data(read(GOOD))
    assert YOUR_DATA not in set(ranking(mine, "own", 2012, default_scope(mine))["code"])
