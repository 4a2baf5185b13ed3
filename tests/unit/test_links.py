"""Shareable links: valid values restore the view, invalid ones are dropped with a notice."""

from __future__ import annotations

import pytest

from climate_atlas.data import load_atlas
from climate_atlas.links import parse_query, to_query
from climate_atlas.state import new_state


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
    state.param.update(selection=["TUR", "CIV"], indicator="SP.POP.TOTL", year=2000, metric="year")
    values, notices = parse_query(to_query(state), atlas)
    assert notices == []
    assert values == {"selection": ["TUR", "CIV"], "indicator": "SP.POP.TOTL", "year": 2000,
                      "metric": "year"}
