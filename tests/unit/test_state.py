"""The user's state: how selecting and dropping countries behave."""

from __future__ import annotations

import pytest

from climate_atlas.data import load_atlas
from climate_atlas.state import DEFAULT_COUNTRY, MAX_SELECTED, new_state


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_a_new_state_offers_exactly_the_indicators_in_the_data(atlas) -> None:
    state = new_state(atlas)
    assert state.param.indicator.objects == list(atlas.indicator_meta.index)
    assert state.selection == [DEFAULT_COUNTRY]


def test_a_pick_replaces_unless_clicks_add(atlas) -> None:
    state = new_state(atlas)
    state.pick("FRA")
    assert state.selection == ["FRA"]
    state.click_adds = True
    state.pick("DEU")
    state.pick("FRA")  # picked again: moves to the end, the country the texts describe
    assert state.selection == ["DEU", "FRA"] and state.country == "FRA"


def test_at_most_max_selected_keeping_the_latest(atlas) -> None:
    state = new_state(atlas)
    codes = list(atlas.countries.index[:MAX_SELECTED + 2])
    for code in codes:
        state.pick(code, add=True)
    assert state.selection == codes[-MAX_SELECTED:]


def test_dropping_never_empties_the_selection(atlas) -> None:
    state = new_state(atlas)
    state.selection = ["FRA", "DEU"]
    state.drop("FRA")
    state.drop("DEU")
    assert state.selection == ["DEU"]
