"""Shareable links: valid values restore the view, invalid ones are dropped with a notice."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from climate_atlas.data import load_atlas
from climate_atlas.links import ESCAPED, parse_query, quoted, to_query
from climate_atlas.state import new_state
from tests.link_queries import queries


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_a_full_link_restores_every_value(atlas) -> None:
    values, notices = parse_query(
        "?countries=FRA,deu&indicator=AG.LND.FRST.ZS&year=1990&metric=trend", atlas)
    assert values == {"selection": ["FRA", "DEU"], "indicator": "AG.LND.FRST.ZS", "year": 1990,
                      "metric": "trend"}
    assert notices == []


@pytest.mark.parametrize(("query", "kept", "words"), [
    ("countries=FRA,XXX", {"selection": ["FRA"]}, "XXX"),
    ("countries=ZZZ", {}, "ZZZ"),
    ("year=1900", {}, "1900"),
    ("year=abc", {}, "abc"),
    ("indicator=NOPE", {}, "NOPE"),
    ("metric=rainfall", {}, "rainfall"),
    ("season=monsoon", {}, "monsoon"),
    ("season=Annual", {}, "Annual"),
    ("base=1981-2010", {}, "1981-2010"),
    ("base=<b>1991</b>", {}, "<b>1991</b>"),
    ("embed=table", {}, "table"),
    ("embed=", {}, "''"),
])
def test_invalid_values_are_dropped_with_a_notice(atlas, query, kept, words) -> None:
    values, notices = parse_query(query, atlas)
    assert values == kept
    assert len(notices) == 1 and words in notices[0]


def test_at_most_eight_countries(atlas) -> None:
    codes = ["FRA", "DEU", "ITA", "ESP", "PRT", "BEL", "NLD", "AUT", "CHE"]
    values, notices = parse_query("countries=" + ",".join(codes), atlas)
    assert values["selection"] == codes[:8]
    assert notices


def test_round_trip(atlas) -> None:
    state = new_state(atlas)
    state.param.update(selection=["TUR", "CIV"], indicator="SP.POP.TOTL", year=2000, metric="year",
                       season="jja", base="1991-2020")
    values, notices = parse_query(to_query(state), atlas)
    assert notices == []
    assert values == {"selection": ["TUR", "CIV"], "indicator": "SP.POP.TOTL", "year": 2000,
                      "metric": "year", "season": "jja", "base": "1991-2020"}


def test_an_embed_link_keeps_its_view_and_links_back_without_it(atlas) -> None:
    values, notices = parse_query("?embed=chart&countries=NOR", atlas)
    assert values == {"embed": "chart", "selection": ["NOR"]} and notices == []
    state = new_state(atlas)
    state.param.update(**values)
    assert "embed=chart" in to_query(state)
    assert "embed" not in to_query(state, embed=False)
    assert parse_query(to_query(state, embed=False), atlas)[0]["selection"] == ["NOR"]


def test_a_link_carries_season_and_base(atlas) -> None:
    values, notices = parse_query("?countries=FRA&season=jan&base=1961-1990", atlas)
    assert values == {"selection": ["FRA"], "season": "jan", "base": "1961-1990"}
    assert notices == []


def test_a_unicode_digit_year_drops_only_the_year(atlas) -> None:
    """'²' passes str.isdigit() and int() rejects it: the countries must survive."""
    values, notices = parse_query("?countries=FRA&year=%C2%B2", atlas)
    assert values == {"selection": ["FRA"]}
    assert len(notices) == 1 and "'²'" in notices[0] and "Year" in notices[0]


def test_a_year_of_many_digits_is_a_notice_not_an_error(atlas) -> None:
    values, notices = parse_query("countries=FRA&year=" + "1" * 5000, atlas)
    assert values == {"selection": ["FRA"]} and "Year" in notices[0]


def test_repeated_countries_merge_in_order(atlas) -> None:
    values, notices = parse_query("countries=TUR&countries=CIV,tur", atlas)
    assert values == {"selection": ["TUR", "CIV"]}
    assert notices == []


@pytest.mark.parametrize(("query", "kept", "ignored"), [
    ("year=1990&year=2000", {"year": 1990}, "'2000'"),
    ("year=abc&year=2000&year=2001", {"year": 2000}, "'2001'"),
    ("metric=trend&metric=year", {"metric": "trend"}, "'year'"),
    ("indicator=SP.POP.TOTL&indicator=AG.LND.FRST.ZS", {"indicator": "SP.POP.TOTL"},
     "'AG.LND.FRST.ZS'"),
])
def test_a_repeated_single_key_keeps_its_first_valid_value(atlas, query, kept, ignored) -> None:
    values, notices = parse_query(query, atlas)
    assert values == kept
    assert any("more than once" in n and ignored in n for n in notices), notices


def test_unknown_keys_are_named(atlas) -> None:
    values, notices = parse_query("countries=FRA&country=DEU", atlas)
    assert values == {"selection": ["FRA"]}
    assert notices == ["Unknown link setting 'country' was ignored."]


def test_a_notice_cuts_long_values_and_counts_the_rest(atlas) -> None:
    codes = [f"Q{i:02d}" for i in range(12)] + ["X" * 500]
    _, notices = parse_query("countries=" + ",".join(codes), atlas)
    assert len(notices) == 1 and "and 8 more" in notices[0]
    assert len(notices[0]) < 200


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries(), valid=st.sampled_from(["countries=FRA", "year=1999", "metric=trend"]))
def test_any_query_gives_a_state_and_keeps_the_valid_parts(atlas, query, valid) -> None:
    """Parsing is total, every kept value is valid for the state, and a valid part survives junk
    before or after it."""
    for link in (f"{query}&{valid}", f"{valid}&{query}", query):
        values, notices = parse_query(link, atlas)
        state = new_state(atlas)
        state.param.update(**values)  # raises if a kept value is not valid for the state
        assert all(isinstance(n, str) and len(n) < 1000 for n in notices)
        assert len(notices) <= 8
    values, _ = parse_query(f"{valid}&{query}", atlas)
    field, expected = {"countries=FRA": ("selection", "FRA"), "year=1999": ("year", 1999),
                       "metric=trend": ("metric", "trend")}[valid]
    kept = values[field][0] if field == "selection" else values[field]
    assert kept == expected


def test_settings_other_sites_add_are_ignored_quietly(atlas) -> None:
    values, notices = parse_query(
        "countries=FRA&utm_source=newsletter&utm_medium=email&fbclid=IwAR0abc&gclid=x&ref2=1", atlas)
    assert values == {"selection": ["FRA"]}
    assert notices == ["Unknown link setting 'ref2' was ignored."]


def test_unknown_codes_are_quoted_as_the_link_gave_them(atlas) -> None:
    values, notices = parse_query("countries=fra,<b>cc</b>,ﬀ", atlas)
    assert values == {"selection": ["FRA"]}
    assert notices == ["Unknown country code '<b>cc</b>', 'ﬀ' was ignored."]


# Characters of Unicode 14 (this Python's database) that repr() shows as they are
_ORDINARY = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S"))


@given(text=st.text(st.one_of(_ORDINARY, st.sampled_from("'\"\\ \t\n\r\x00\x7f\xa0\u202e\u200b"))))
def test_a_notice_quotes_as_repr_does(text: str) -> None:
    """links.quoted is repr() with a fixed list of escaped characters: the same quotes, backslashes
    and escapes for every character repr() writes as it is and for the controls and separators."""
    assert quoted(text) == repr(text)


def test_the_escaped_characters_do_not_depend_on_the_unicode_database() -> None:
    """A character newer than the running Python's Unicode (U+1FAE9, Unicode 16) is shown as it is,
    as the browser shows it before Python; a bidi override and a private-use character are escaped."""
    assert quoted("\U0001fae9") == "'\U0001fae9'"
    assert quoted("\u202e\ue000") == "'\\u202e\\ue000'"
    assert all(low <= high for low, high in ESCAPED)
    assert all(a[1] < b[0] for a, b in zip(ESCAPED, ESCAPED[1:], strict=False))
