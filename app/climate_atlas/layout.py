"""How the views fit together: widgets, map clicks and the URL write the state; panes redraw from it."""

from __future__ import annotations

import io

import panel as pn

from climate_atlas.a11y import LIVE_PAGE_JS, make_accessible
from climate_atlas.data import Atlas, load_atlas
from climate_atlas.downloads import series_download, table_download
from climate_atlas.links import parse_query, to_query
from climate_atlas.panel_fixes import apply_panel_fixes
from climate_atlas.search import search_terms
from climate_atlas.session_log import log_session, release_on_discard
from climate_atlas.state import MAX_SELECTED, AtlasState, new_state
from climate_atlas.target import load_on_demand, target
from climate_atlas.views.metrics import metric_options
from climate_atlas.views.plain_text import plain_text_pane
from climate_atlas.views.scatter import scatter_chart, scatter_summary, scatter_table
from climate_atlas.views.series import (
    indicator_chart,
    indicator_source,
    show_indicator,
    show_temperature,
    temperature_chart,
)
from climate_atlas.views.sources import sources_markdown
from climate_atlas.views.table import as_shown, on_screen_table, table_caption, with_full_names
from climate_atlas.views.world_map import LiveMap, world_map

DISCONNECTED = ("Connection to the server lost. Reload the page to continue: the link keeps "
                "your selection.")
# body[data-atlas-ready]: the one readiness marker tests and benchmarks wait for, set by the live
# session once the URL's state is applied (the static site's pre-render never sets it).
READY_JS = "document.body.dataset.atlasReady = 'true'"
PLAY_INTERVAL_MS = 700
# A chart clips what it cannot fit (a long title on a phone) instead of widening the page; long
# words such as indicator codes in links wrap.
CLIP = {"overflow": "hidden"}
WRAP = {"overflow-wrap": "anywhere"}
INTRO = ("# Climate Atlas\nHow much each country has warmed, and how that compares with its "
         "emissions, wealth and energy. Click a country on the map, or find it by name.")


def _country_heading(atlas: Atlas, selection: list[str]) -> str:
    iso3 = selection[-1]
    row = atlas.countries.loc[iso3]
    source = row["temperature_source"]
    if isinstance(source, str) and source:
        note = f"Temperature series: {source}" + (
            " (FAOSTAT's release ends in 2020)" if source == "FAOSTAT" else "")
    else:
        note = "No temperature series in the IMF or FAOSTAT data for this country."
    others = ", ".join(atlas.country_name(c) for c in selection[:-1])
    compared = f"  \nCompared with: {others}" if others else ""
    return f"## Selected: {row['name']} ({iso3})\n{note}{compared}"


def _map(atlas: Atlas, state: AtlasState) -> pn.Column:
    """The choropleth, updated in place; a click selects the country under it."""
    world = world_map(atlas, atlas.geometry, state.metric, state.year, state.selection)
    LiveMap(atlas, state, world)  # kept by the state, whose watchers it registers
    return pn.Column(pn.pane.Markdown("Grey: no data. Click a country to select it; hover for "
                                      "its value, years and source."),
                     pn.pane.Bokeh(world.figure, sizing_mode="stretch_width", styles=CLIP))


def _series(atlas: Atlas, state: AtlasState) -> list[pn.Column]:
    """The temperature and indicator charts, updated in place when the selection or indicator
    changes."""
    temperature = temperature_chart(atlas, state.selection)
    indicator = indicator_chart(atlas, state.indicator, state.selection)
    state.param.watch(lambda *_: show_temperature(temperature, atlas, state.selection), "selection")
    state.param.watch(lambda *_: show_indicator(indicator, atlas, state.indicator, state.selection),
                      ["selection", "indicator"])
    # The clip sits on a wrapper: on the figure itself it would not stop a long title from
    # widening the figure past a phone's screen.
    return [pn.Column(pn.pane.Bokeh(chart.figure, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", styles=CLIP)
            for chart in (temperature, indicator)]


def _map_view(atlas: Atlas, state: AtlasState) -> pn.viewable.Viewable:
    """The served map adds projections, tiles and 50m detail; the browser's map is plain."""
    if target() == "server":
        from climate_atlas.server_extras import server_map  # the one import of cartopy, GeoViews

        return server_map(atlas, state)
    return _map(atlas, state)


def _search(atlas: Atlas, state: AtlasState) -> pn.widgets.AutocompleteInput:
    terms = search_terms(atlas)
    box = pn.widgets.AutocompleteInput(
        name="Find a country", options=list(terms), case_sensitive=False,
        search_strategy="includes", min_characters=1, restrict=True,
        placeholder="Name, ISO3 code or other name, e.g. USA, Türkiye, Ivory Coast")

    def chosen(event: object) -> None:
        if box.value in terms:
            state.pick(terms[box.value])

    box.param.watch(chosen, "value")
    return box


def _selected_chips(atlas: Atlas, state: AtlasState) -> pn.Row:
    """One button per selected country; pressing it removes that country from the comparison.

    A fixed set of MAX_SELECTED buttons, shown, hidden and relabelled in place: new buttons on every
    click would make Panel walk the whole page's models (about half of a click's server time)."""
    label = pn.pane.Markdown(sizing_mode="fixed", margin=(8, 5))
    buttons = [pn.widgets.Button(button_type="light", sizing_mode="fixed", height=32, visible=False)
               for _ in range(MAX_SELECTED)]

    def remover(i: int):
        return lambda event: state.drop(state.selection[i]) if i < len(state.selection) else None

    def show(*_: object) -> None:
        selection = state.selection
        for i, button in enumerate(buttons):
            if i < len(selection):
                name = atlas.country_name(selection[i])
                # no per-country `description`: it is a tooltip model, and a new model per click
                # costs the same page walk
                button.param.update(name=f"✕ {name}", disabled=len(selection) == 1, visible=True)
            else:
                button.visible = False
        effect = "adds to" if state.click_adds else "replaces"
        label.object = (f"**Selected** ({len(selection)} of at most {MAX_SELECTED}; "
                        f"a map click {effect} this):")

    for i, button in enumerate(buttons):
        button.on_click(remover(i))
    show()
    state.param.watch(show, ["selection", "click_adds"])
    return pn.Row(label, *buttons, styles={"flex-wrap": "wrap"})


def _controls(atlas: Atlas, state: AtlasState) -> list[pn.viewable.Viewable]:
    meta = atlas.indicator_meta
    indicator = pn.widgets.Select.from_param(
        state.param.indicator, name="World Bank indicator",
        options={f"{meta.at[c, 'short_name']} ({meta.at[c, 'unit']})": c for c in meta.index})
    metric = pn.widgets.Select.from_param(state.param.metric, name="Map shows",
                                          options=metric_options(atlas.periods))
    click = pn.widgets.RadioButtonGroup.from_param(
        state.param.click_adds, name="A click on the map",
        options={"Click replaces selection": False, "Click adds to comparison": True})
    year = pn.widgets.IntSlider.from_param(state.param.year, name="Year",
                                           start=atlas.periods.years.first,
                                           end=atlas.periods.years.last)
    play = _player(state)
    return [_search(atlas, state), click, metric,
            pn.Row(year, play), indicator]


def _player(state: AtlasState) -> pn.widgets.Toggle:
    """A labelled play/pause button that steps the year once per interval until the last year."""
    button = pn.widgets.Toggle(name="▶ Play the years", button_type="primary", width=150,
                               align="end")
    running: list = []
    first, last = state.param.year.bounds

    def step() -> None:
        if state.year >= last:
            button.value = False
        else:
            state.year += 1

    def toggled(event: object) -> None:
        if button.value:
            if state.year >= last:
                state.year = first
            running.append(pn.state.add_periodic_callback(step, period=PLAY_INTERVAL_MS))
        else:
            while running:
                running.pop().stop()
        button.name = "⏸ Pause" if button.value else "▶ Play the years"

    button.param.watch(toggled, "value")
    return button


def _clickable_scatter(atlas: Atlas, state: AtlasState, code: str) -> pn.pane.HoloViews:
    """A fresh scatter per indicator (its axis may switch between log and linear), whose clicked
    point selects that country. HoloViews comes with the tab, not with the page: see scatter_chart."""
    import holoviews as hv

    chart = scatter_chart(atlas, code)
    codes = list(scatter_table(atlas, code)["iso3"])

    def select(index: list[int]) -> None:
        if index:
            state.pick(codes[index[0]])

    hv.streams.Selection1D(source=chart).add_subscriber(select)
    return pn.pane.HoloViews(chart, sizing_mode="stretch_width", styles=CLIP)


async def _clickable_scatter_on_demand(atlas: Atlas, state: AtlasState,
                                      code: str) -> pn.pane.HoloViews:
    """The browser's scatter: the static site loads HoloViews' wheel when the tab is first opened."""
    await load_on_demand("holoviews")
    return _clickable_scatter(atlas, state, code)


def _analysis(atlas: Atlas, state: AtlasState) -> pn.Column:
    """Scatter of warming against the indicator, with its rank correlation and caveat; drawn when
    its tab is first opened (lazy). The server has HoloViews installed: no need to wait for it (and
    an async view there would resolve Panel's stylesheets to its CDN)."""
    view = _clickable_scatter_on_demand if target() == "browser" else _clickable_scatter
    points = pn.param.ParamFunction(pn.bind(view, atlas, state, state.param.indicator), lazy=True)
    return pn.Column(pn.pane.Markdown(pn.bind(scatter_summary, atlas, state.param.indicator)),
                     points)


def _table_tab(atlas: Atlas, state: AtlasState) -> pn.Column:
    """The country table, with downloads of exactly the rows it shows (its header filters and sort
    order applied) and of the selected countries' series."""
    args = (atlas, state.param.metric, state.param.year, state.param.indicator)
    table = pn.widgets.Tabulator(pn.bind(on_screen_table, *args), show_index=False,
                                 header_filters=True, pagination="local", page_size=15,
                                 disabled=True, sizing_mode="stretch_width", layout="fit_columns")

    def table_zip() -> io.BytesIO:
        # current_view: the header filters applied (and Panel's sort, undone by sort_index)
        rows = as_shown(table.current_view.sort_index(), table.sorters)
        shown = with_full_names(atlas, state.metric, state.year, state.indicator, rows)
        return io.BytesIO(table_download(atlas, shown, state.indicator, state.metric))

    def series_zip() -> io.BytesIO:
        return io.BytesIO(series_download(atlas, state.selection, state.indicator))

    return pn.Column(
        pn.pane.Markdown("Each download is a zip: a plain CSV and `sources.csv` (publisher, "
                         "licence, source page and release of every series in it). The table's "
                         "download holds the rows the table shows, filtered and sorted as shown "
                         "(all pages)."),
        pn.Row(pn.widgets.FileDownload(callback=table_zip, filename="climate-atlas-table.zip",
                                       label="Download the table as shown"),
               pn.widgets.FileDownload(callback=series_zip, filename="climate-atlas-series.zip",
                                       label="Download the selected series"),
               styles={"flex-wrap": "wrap"}),
        pn.pane.Markdown(pn.bind(table_caption, *args)), table)


def _sync_url(atlas: Atlas, state: AtlasState, ready: pn.widgets.StaticText) -> None:
    """Apply the link's state once the page's URL is known, then keep the link current.

    Under `panel serve` the URL is known when the page has loaded (onload). In the Pyodide worker,
    onload runs at once, before the page has sent its URL; the URL arrives later as a change of
    `location.href`. The pre-render never gets a URL, so it never applies state or marks ready.
    """
    location = pn.state.location
    applied = []

    def apply(*_: object) -> None:
        if applied or location is None or not location.href:
            return
        applied.append(True)
        values, notices = parse_query(location.search or "", atlas)  # total: never raises
        state.param.update(**values)
        state.notice = " ".join(notices)
        def follow(*_: object) -> None:
            location.search = to_query(state)
            state.notice = ""  # it spoke of the link, which the visitor has now moved on from

        state.param.watch(follow, ["selection", "indicator", "year", "metric"])
        ready.value = "ready"

    pn.state.onload(apply)
    if location is not None:
        location.param.watch(apply, "href")


def build_dashboard() -> pn.viewable.Viewable:
    """The whole page for one session."""
    apply_panel_fixes()  # before pn.state.location is first read (in _sync_url)
    server = target() == "server"
    # Under `panel serve` a page outlives its server process (a redeploy, a restarted dyno, an
    # instance behind a router going away): Panel's notification area then says so and asks for
    # a reload, which the link's state (?countries=...) survives. The static site has no server.
    pn.extension("tabulator", sizing_mode="stretch_width", notifications=server,
                 **({"disconnect_notification": DISCONNECTED} if server else {}))
    atlas = load_atlas()
    state = new_state(atlas)
    ready = pn.widgets.StaticText(value="", visible=False)
    ready.jscallback(value=LIVE_PAGE_JS + READY_JS)
    notice = plain_text_pane(state.param.notice, pn.pane.Alert, alert_type="warning",
                             visible=pn.bind(bool, state.param.notice))
    # The chips sit beside the charts, not above the map: a selection that grows never moves the map
    # under the pointer.
    chips = _selected_chips(atlas, state)
    charts = pn.Column(
        pn.pane.Markdown(pn.bind(_country_heading, atlas, state.param.selection)), chips,
        *_series(atlas, state),
        pn.pane.Markdown(pn.bind(indicator_source, atlas, state.param.indicator), styles=WRAP),
        styles={"flex": "2 1 300px"})
    # A wrapping Row, not pn.FlexBox: FlexBox is ReactiveHTML, whose sanitizer needs nh3, which has
    # no wasm wheel for the browser build.
    main = pn.Column(*_controls(atlas, state), _map_view(atlas, state),
                     styles={"flex": "3 1 300px"})
    _sync_url(atlas, state, ready)
    if server:
        log_session(state)
        release_on_discard()
    return make_accessible(pn.Column(
        pn.pane.Markdown(INTRO), notice, pn.Row(main, charts, styles={"flex-wrap": "wrap"}),
        pn.Tabs(("Table", _table_tab(atlas, state)),
                ("Warming vs indicator", _analysis(atlas, state)),
                ("Sources", pn.pane.Markdown(sources_markdown(atlas), styles={"overflow-x": "auto"})),
                # Browser: a tab is drawn when first opened (the scatter brings HoloViews then).
                # Server: all at once; Panel 1.9.4 re-renders a dynamic tab outside the session's
                # resource settings and points its stylesheets at the CDN.
                dynamic=not server),
        ready, sizing_mode="stretch_width"))
