"""PNG pictures' file names: what each picture shows, following the state (the download itself is
BokehJS's, tested in tests/e2e/test_pictures.py)."""

from __future__ import annotations

import pytest

from climate_atlas.data import load_atlas
from climate_atlas.pictures import (
    indicator_picture,
    map_picture,
    picture_button,
    slug,
    temperature_picture,
)
from climate_atlas.state import new_state
from climate_atlas.views.series import TEMPERATURE_NAME


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_names_say_what_each_picture_shows(atlas) -> None:
    state = new_state(atlas)
    state.param.update(selection=["FRA", "CIV"], indicator="SP.POP.TOTL")
    assert map_picture(atlas, state) == "climate-atlas-map-mean-anomaly-2018-2022-c-vs-1951-1980.png"
    assert temperature_picture(atlas, state) == "climate-atlas-temperature-FRA-CIV.png"
    assert indicator_picture(atlas, state) == "climate-atlas-SP.POP.TOTL-FRA-CIV.png"
    state.param.update(metric="year", year=2010, season="jja", base="1991-2020")
    assert map_picture(atlas, state) == ("climate-atlas-map-anomaly-in-2010-jun-jul-aug-c-vs-"
                                         "1991-2020.png")
    assert temperature_picture(atlas, state) == "climate-atlas-temperature-FRA-CIV-jja-vs-1991-2020.png"
    state.metric = "seed"
    assert map_picture(atlas, state) == "climate-atlas-map-change-1901-2012-c-seed-projects-data.png"


def test_slugs_are_plain_ascii_words() -> None:
    assert slug("Anomaly in 2010, Dec–Jan–Feb, °C vs 1961-1990") == \
        "anomaly-in-2010-dec-jan-feb-c-vs-1961-1990"
    assert slug("  Côte d'Ivoire!  ") == "cote-divoire"


def test_the_button_carries_the_current_name(atlas) -> None:
    state = new_state(atlas)
    button = picture_button("Download the temperature chart (PNG)", TEMPERATURE_NAME,
                            temperature_picture, atlas, state)
    model = button.get_root()
    assert model.label == "Download the temperature chart (PNG)"
    assert model.tags == [f"climate-atlas-temperature-{state.country}.png"]
    state.selection = ["NOR", "KEN"]
    assert model.tags == ["climate-atlas-temperature-NOR-KEN.png"]
