"""How the views fit together: widgets write the state, panes redraw from it."""

from __future__ import annotations

import holoviews as hv
import panel as pn
from bokeh.models import CustomJS

from climate_atlas.data import Atlas, load_atlas
from climate_atlas.state import METRICS, AtlasState, new_state
from climate_atlas.target import is_live
from climate_atlas.views.series import (
    indicator_chart,
    indicator_source,
    temperature_chart,
)
from climate_atlas.views.sources import sources_markdown
from climate_atlas.views.world_map import choropleth, part_countries

READY_ATTRIBUTE = "atlasReady"  # body[data-atlas-ready]: the one readiness marker tests wait for


def _country_heading(atlas: Atlas, iso3: str) -> str:
    if iso3 not in atlas.countries.index:
        return f"### {iso3}\nNo country with this code is in the data."
    row = atlas.countries.loc[iso3]
    source = row["temperature_source"]
    if isinstance(source, str) and source:
        note = f"Temperature series: {source}" + (
            " (FAOSTAT's release ends in 2020)" if source == "FAOSTAT" else "")
    else:
        note = "No temperature series in the IMF or FAOSTAT data for this country."
    return f"### Selected: {row['name']} ({iso3})\n{note}"


def _map_pane(atlas: Atlas, state: AtlasState) -> pn.pane.HoloViews:
    """The choropleth, whose polygon clicks select a country."""
    keys = part_countries(atlas)
    dmap = hv.DynamicMap(pn.bind(choropleth, atlas=atlas, metric=state.param.metric))
    selection = hv.streams.Selection1D(source=dmap)

    def select(event: object) -> None:
        if selection.index:
            state.country = keys[selection.index[0]]

    selection.param.watch(select, "index")
    return pn.pane.HoloViews(dmap, sizing_mode="stretch_width", min_height=260)


def _controls(atlas: Atlas, state: AtlasState) -> tuple[pn.widgets.Widget, pn.widgets.Widget]:
    meta = atlas.indicator_meta
    indicator = pn.widgets.Select.from_param(
        state.param.indicator, name="World Bank indicator",
        options={f"{meta.at[c, 'short_name']} ({meta.at[c, 'unit']})": c for c in meta.index})
    metric = pn.widgets.RadioButtonGroup.from_param(
        state.param.metric, name="Map shows", options=METRICS, button_type="default")
    return indicator, metric


def _mark_ready_when_rendered() -> None:
    """Set the readiness marker once the live document is on screen (never in the pre-render)."""
    if is_live() and pn.state.curdoc is not None:
        pn.state.curdoc.js_on_event("document_ready", CustomJS(
            code=f"document.body.dataset.{READY_ATTRIBUTE} = 'true'"))


def build_dashboard() -> pn.viewable.Viewable:
    """The whole page for one session."""
    pn.extension(sizing_mode="stretch_width")
    atlas = load_atlas()
    state = new_state(atlas)
    indicator, metric = _controls(atlas, state)
    heading = pn.pane.Markdown(pn.bind(_country_heading, atlas, state.param.country))
    temperature = pn.pane.HoloViews(pn.bind(temperature_chart, atlas, state.param.country))
    indicator_plot = pn.pane.HoloViews(
        pn.bind(indicator_chart, atlas, state.param.indicator, state.param.country))
    source_line = pn.pane.Markdown(pn.bind(indicator_source, atlas, state.param.indicator))
    _mark_ready_when_rendered()
    return pn.Column(
        pn.pane.Markdown(
            "# Climate Atlas\nHow much each country has warmed, and how that compares with its "
            "emissions, wealth and energy. Click a country on the map."),
        pn.FlexBox(
            pn.Column(pn.widgets.StaticText(value="Map shows:"), metric,
                      _map_pane(atlas, state), min_width=340, styles={"flex": "1 1 560px"}),
            pn.Column(heading, temperature, indicator, indicator_plot, source_line,
                      min_width=340, styles={"flex": "1 1 420px"}),
        ),
        pn.Card(pn.pane.Markdown(sources_markdown(atlas)), title="Sources and licences",
                collapsed=False),
        sizing_mode="stretch_width",
    )
