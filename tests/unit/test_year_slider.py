"""The year slider and Play show the chosen year on the map; a link's year moves the slider only."""

from __future__ import annotations

import pytest

from climate_atlas.data import load_atlas
from climate_atlas.layout import _player, _year_slider
from climate_atlas.links import parse_query
from climate_atlas.state import new_state


@pytest.fixture
def state():
    return new_state(load_atlas())


@pytest.mark.parametrize("metric", ["mean", "trend", "seed"])
def test_moving_the_slider_from_a_metric_without_years_shows_that_years_anomaly(state, metric) -> None:
    slider = _year_slider(state.atlas, state)
    state.metric = metric
    slider.value = state.year - 10  # as the visitor's move arrives from the page
    assert (state.metric, state.year) == ("year", slider.value)


def test_the_sliders_echo_of_the_year_shown_keeps_the_metric_chosen_since(state) -> None:
    """The page may send the slider's value again after the visitor has chosen another metric."""
    slider = _year_slider(state.atlas, state)
    slider.value = state.year - 5
    state.metric = "trend"
    slider.param.trigger("value")  # the same value, sent again
    assert (state.metric, state.year) == ("trend", slider.value)


def test_a_year_metric_stays_when_the_slider_moves(state) -> None:
    slider = _year_slider(state.atlas, state)
    state.metric = "year"
    slider.value = state.year - 3
    assert (state.metric, state.year) == ("year", slider.value)


def test_a_links_year_moves_the_slider_and_keeps_the_links_metric(state) -> None:
    slider = _year_slider(state.atlas, state)
    values, notices = parse_query("?metric=trend&year=1999", state.atlas)
    state.param.update(**values)
    assert (state.metric, state.year, slider.value, notices) == ("trend", 1999, 1999, [])


def test_play_from_the_mean_plays_the_years_anomalies(state) -> None:
    button = _player(state)
    state.year = state.param.year.bounds[1]  # at the last year, Play starts from the first
    button.value = True
    try:
        assert (state.metric, state.year) == ("year", state.param.year.bounds[0])
        assert button.name == "❚❚ Pause"
    finally:
        button.value = False
    assert button.name == "▶ Play the years"
