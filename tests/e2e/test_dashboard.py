"""The seed's three interactions, as a user sees them, in both modes (static site and panel serve)."""

from __future__ import annotations

from tests.e2e.browser import NetworkLog, artifact
from tools.atlas_page import AtlasPage


def test_map_renders_every_country(atlas: AtlasPage) -> None:
    drawn = atlas.map_column("iso3")
    assert drawn == atlas.drawn_countries()
    assert {"FRA", "NOR", "SSD", "PSE", "ESH"} <= set(drawn)
    atlas.page.screenshot(path=artifact(f"dashboard-{atlas.mode}.png"), full_page=True)


def test_clicking_a_polygon_selects_its_country(atlas: AtlasPage) -> None:
    target = "AUS" if "(AUS)" in atlas.heading() else "BRA"
    name = atlas.atlas.country_name(target)
    atlas.click_country(target)
    assert f"({target})" in atlas.heading()
    atlas.wait_for_title(f"{name}: trend")


def test_changing_the_indicator_redraws_its_chart(atlas: AtlasPage) -> None:
    meta = atlas.atlas.indicator_meta
    current = atlas.page.get_by_label("World Bank indicator").input_value()
    gdp = atlas.indicator_label("NY.GDP.PCAP.PP.KD")
    code = "NY.GDP.PCAP.PP.KD" if current != gdp else "AG.LND.FRST.ZS"
    atlas.choose("World Bank indicator", atlas.indicator_label(code))
    atlas.wait_for_title(f"{meta.at[code, 'short_name']}:")


def test_no_request_leaves_loopback(atlas: AtlasPage, network: NetworkLog) -> None:
    assert network.external == []
