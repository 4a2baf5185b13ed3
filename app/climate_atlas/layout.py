"""How the views fit together: widgets, map clicks and the URL write the state; panes redraw from it."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import pandas as pd
import panel as pn
import param
from bokeh.models import NumberFormatter

from climate_atlas.a11y import LIVE_PAGE_JS, make_accessible
from climate_atlas.anomalies import Scope, anomalies
from climate_atlas.data import ANNUAL, YOUR_DATA, Atlas, load_atlas
from climate_atlas.downloads import series_download, table_download
from climate_atlas.links import parse_query, to_query
from climate_atlas.panel_fixes import apply_panel_fixes
from climate_atlas.pictures import (
    indicator_picture,
    map_picture,
    picture_button,
    temperature_picture,
)
from climate_atlas.search import country_lookup, search_terms
from climate_atlas.session_log import log_session, release_on_discard
from climate_atlas.state import MAX_SELECTED, AtlasState, new_state
from climate_atlas.target import load_on_demand, prerendering, target
from climate_atlas.views.metrics import metric_options
from climate_atlas.views.own_data import own_data_panel
from climate_atlas.views.plain_text import plain_text_pane
from climate_atlas.views.ranking import ranking, ranking_caption
from climate_atlas.views.scatter import scatter_chart, scatter_summary, scatter_table
from climate_atlas.views.series import (
    INDICATOR_NAME,
    TEMPERATURE_NAME,
    SeriesChart,
    indicator_chart,
    indicator_source,
    reserve_slots,
    show_indicator,
    show_temperature,
    temperature_chart,
)
from climate_atlas.views.sources import sources_markdown
from climate_atlas.views.stripes import (
    Stripes,
    png_credit,
    show_stripes,
    stripes_caption,
    stripes_chart,
    stripes_png,
)
from climate_atlas.views.table import (
    as_shown,
    on_screen_table,
    screen_options,
    table_caption,
    with_full_names,
)
from climate_atlas.views.world_map import MAP_NAME, LiveMap, WorldMap, world_map

DISCONNECTED = ("Connection to the server lost. Reload the page to continue: the link keeps "
                "your selection.")
# body[data-atlas-ready]: the one readiness marker tests and benchmarks wait for, set by the live
# session once the URL's state is applied (the static site's pre-render never sets it). On the static
# site the page first swaps its pre-render for the live view (`atlasHandOver`, defined by
# tools/build_site/panel_patches.py) once that view has drawn the state; elsewhere there is none.
READY_JS = """
const ready = () => { document.body.dataset.atlasReady = 'true'; };
if (typeof window.atlasHandOver === 'function') window.atlasHandOver(ready); else ready();
"""
CHIP_PREFIX = "✕ "  # a selected country's button: pressing it removes the country
PLAY_INTERVAL_MS = 700
# A chart clips what it cannot fit (a long title on a phone) instead of widening the page; long
# words such as indicator codes in links wrap.
CLIP = {"overflow": "hidden"}
WRAP = {"overflow-wrap": "anywhere"}
INTRO = ("# Climate Atlas\nHow much each country has warmed, and how that compares with its "
         "emissions, wealth and energy. Click a country on the map, or find it by name.")
# Above the map; the static site's picture of the map (tools/build_site/poster.py) copies both texts
# to lay the picture out where the map will be.
MAP_CAPTION = ("Grey: no data. Click a country to select it; hover for its value, years, source and "
               "σ (how unusual the anomaly is, in FAOSTAT's standard deviations).")


def country_heading(atlas: Atlas, selection: list[str], season: str) -> str:
    iso3 = selection[-1]
    row = atlas.countries.loc[iso3]
    chosen = atlas.seasons[season]
    source = row["temperature_source"] if season == ANNUAL else chosen.source
    if iso3 not in atlas.warming_for(season).index:
        note = "No temperature series in the IMF or FAOSTAT data for this country" + (
            "." if season == ANNUAL else f" for {chosen.label}.")
    elif season == ANNUAL:
        faostat = next(s.years for s in atlas.seasons.values() if s.source == "FAOSTAT")
        note = f"Temperature series: {source}" + (
            f" (FAOSTAT's release ends in {faostat.last})" if source == "FAOSTAT" else "")
    else:
        note = f"Temperature series: {chosen.label}, {source} ({chosen.years})"
    others = ", ".join(atlas.country_name(c) for c in selection[:-1])
    compared = f"  \nCompared with: {others}" if others else ""
    return f"## Selected: {row['name']} ({iso3})\n{note}{compared}"


def _map(atlas: Atlas, state: AtlasState) -> tuple[pn.Column, WorldMap]:
    """The choropleth, updated in place; a click selects the country under it."""
    world = world_map(atlas, atlas.geometry, state)
    LiveMap(state, world)  # kept by the state, whose watchers it registers
    return pn.Column(pn.pane.Markdown(MAP_CAPTION),
                     pn.pane.Bokeh(world.figure, sizing_mode="stretch_width", styles=CLIP)), world


def _series(atlas: Atlas, state: AtlasState) -> tuple[SeriesChart, SeriesChart, list[pn.Column],
                                                     list[pn.widgets.Button]]:
    """The temperature and indicator charts, updated in place when the selection or indicator
    changes, the columns that show them and their PNG buttons."""
    temperature = temperature_chart(atlas, state.selection, state.scope)
    indicator = indicator_chart(atlas, state.indicator, state.selection)
    state.param.watch(lambda *_: show_temperature(temperature, atlas, state.selection, state.scope),
                      ["selection", "season", "base"])
    state.param.watch(lambda *_: show_indicator(indicator, state.atlas, state.indicator,
                                                state.selection),
                      ["selection", "indicator", "atlas"])
    pictures = [picture_button("Download the temperature chart (PNG)", TEMPERATURE_NAME,
                               temperature_picture, atlas, state),
                picture_button("Download the indicator chart (PNG)", INDICATOR_NAME,
                               indicator_picture, atlas, state)]
    # The clip sits on a wrapper: on the figure itself it would not stop a long title from
    # widening the figure past a phone's screen.
    return temperature, indicator, [
        pn.Column(pn.pane.Bokeh(chart.figure, sizing_mode="stretch_width"), picture,
                  sizing_mode="stretch_width", styles=CLIP)
        for chart, picture in zip((temperature, indicator), pictures, strict=True)], pictures


def _stripes_rows(atlas: Atlas, state: AtlasState) -> list[tuple[str, pd.Series]]:
    """What the warming stripes draw: per selected country, its name and anomaly (°C) by year, of
    the chosen season against the chosen base, as the temperature chart draws it."""
    return [(atlas.country_name(iso3), anomalies(atlas, iso3, state.scope))
            for iso3 in state.selection]


def _stripes_words(atlas: Atlas, state: AtlasState) -> str:
    """The base (and season) the stripes are measured against, as the caption and PNG name it."""
    season = "" if state.season == ANNUAL else f"{atlas.seasons[state.season].label}, "
    return f"{season}{state.base}"


def _stripes(atlas: Atlas, state: AtlasState) -> tuple[pn.Column, Stripes]:
    """Warming stripes of the selected countries, updated in place, with their credit and a PNG
    download of the same picture; they follow the selection, the season and the base."""
    stripes = stripes_chart()
    show_stripes(stripes, _stripes_rows(atlas, state))
    state.param.watch(lambda *_: show_stripes(stripes, _stripes_rows(atlas, state)),
                      ["selection", "season", "base"])

    def png() -> io.BytesIO:
        return io.BytesIO(stripes_png(_stripes_rows(atlas, state),
                                      png_credit(_stripes_words(atlas, state))))

    async def png_on_demand() -> io.BytesIO:
        await load_on_demand("pillow")  # the static site loads Pillow's wheel at the first click
        return png()

    download = pn.widgets.FileDownload(
        callback=png_on_demand if target() == "browser" else png,
        filename="climate-atlas-warming-stripes.png", label="Download the stripes (PNG)",
        max_width=260)  # no fixed width: a minimum width here would widen the page on a phone
    caption = pn.bind(lambda *_: stripes_caption(_stripes_words(atlas, state)),
                      state.param.season, state.param.base)
    return pn.Column(pn.pane.Bokeh(stripes.figure, sizing_mode="stretch_width"),
                     pn.pane.Markdown(caption, styles=WRAP), download,
                     sizing_mode="stretch_width", styles=CLIP), stripes


def _map_view(atlas: Atlas, state: AtlasState) -> tuple[pn.Column, WorldMap | None,
                                                       pn.widgets.Button]:
    """The map with its PNG button (also returned). The served map adds projections, tiles and
    50m detail; the browser's map is plain (and its figure is returned for the pre-render's
    callback)."""
    picture = picture_button("Download the map (PNG)", MAP_NAME, map_picture, atlas, state)
    if target() == "server":
        from climate_atlas.server_extras import server_map  # the one import of cartopy, GeoViews

        return pn.Column(server_map(state), picture), None, picture
    view, world = _map(atlas, state)
    return pn.Column(view, picture), world, picture


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


def _chips_words(count: int, click_adds: bool) -> str:
    effect = "adds to" if click_adds else "replaces"
    return f"**Selected** ({count} of at most {MAX_SELECTED}; a map click {effect} this):"


def _selected_chips(atlas: Atlas, state: AtlasState) -> tuple[pn.Row, pn.pane.Markdown,
                                                              list[pn.widgets.Button]]:
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
                button.param.update(name=CHIP_PREFIX + name, disabled=len(selection) == 1,
                                    visible=True)
            else:
                button.visible = False
        label.object = _chips_words(len(selection), state.click_adds)

    for i, button in enumerate(buttons):
        button.on_click(remover(i))
    show()
    state.param.watch(show, ["selection", "click_adds"])
    return pn.Row(label, *buttons, styles={"flex-wrap": "wrap"}), label, buttons


@dataclass(frozen=True)
class Controls:
    """The widgets above the map, in their order on the page."""

    search: pn.widgets.AutocompleteInput
    click: pn.widgets.RadioButtonGroup
    metric: pn.widgets.Select
    scope: pn.Row
    year: pn.widgets.IntSlider
    play: pn.widgets.Toggle
    indicator: pn.widgets.Select

    def column(self) -> pn.Column:
        return pn.Column(self.search, self.click, self.metric, self.scope,
                         pn.Row(self.year, self.play), self.indicator)


def _indicator_options(atlas: Atlas) -> dict[str, str]:
    meta = atlas.indicator_meta
    return {("Your data: " if c == YOUR_DATA else "") + f"{meta.at[c, 'short_name']} "
            f"({meta.at[c, 'unit']})": c for c in meta.index}


def _controls(atlas: Atlas, state: AtlasState) -> Controls:
    indicator = pn.widgets.Select.from_param(state.param.indicator, name="World Bank indicator",
                                             options=_indicator_options(atlas))
    metric = pn.widgets.Select.from_param(state.param.metric, name="Map shows",
                                          options=metric_options(atlas))

    def offer(*_: object) -> None:  # a visitor's own series joins both choices
        indicator.options = _indicator_options(state.atlas)
        metric.options = metric_options(state.atlas)

    state.param.watch(offer, "atlas")
    click = pn.widgets.RadioButtonGroup.from_param(
        state.param.click_adds, name="A click on the map",
        options={"Click replaces selection": False, "Click adds to comparison": True})
    return Controls(_search(atlas, state), click, metric, _scope_controls(atlas, state),
                    _year_slider(atlas, state), _player(state), indicator)


def _year_slider(atlas: Atlas, state: AtlasState) -> pn.widgets.IntSlider:
    """The year slider. A year the visitor moves it to is shown on the map (AtlasState.choose_year:
    from a mean or a trend, the map switches to that year's anomaly); a year the state gets
    otherwise (a link, Play) moves the slider and nothing else."""
    slider = pn.widgets.IntSlider(name="Year", value=state.year, start=atlas.periods.years.first,
                                  end=atlas.periods.years.last)
    def follow(event: param.parameterized.Event) -> None:
        slider.value = event.new

    def moved(event: param.parameterized.Event) -> None:
        # the year the state already has (its own, followed; or the page's echo of it): no move
        if event.new != state.year:
            state.choose_year(event.new)

    state.param.watch(follow, "year")
    slider.param.watch(moved, "value")
    return slider


def _scope_controls(atlas: Atlas, state: AtlasState) -> pn.Row:
    """Season (or month) and base period: every anomaly on the page follows them. A season names
    its source and years, since FAOSTAT's release ends before the IMF's."""
    seasons = {(s.label if s.key == ANNUAL else f"{s.label} ({s.source}, {s.years})"): s.key
               for s in atlas.seasons.values()}
    bases = {f"{b.period} ({b.note})": str(b.period) for b in atlas.periods.bases}
    faostat = next(s for s in atlas.seasons.values() if s.source == "FAOSTAT")
    published, normal = atlas.periods.bases[0], atlas.periods.bases[-1]
    return pn.Row(
        pn.widgets.Select.from_param(
            state.param.season, name="Season or month", options=seasons,
            description=f"The year as a whole, a meteorological season or a month. Seasons and "
                        f"months come from FAOSTAT, {faostat.years}."),
        pn.widgets.Select.from_param(
            state.param.base, name="Base period", options=bases,
            description=f"Anomalies are differences from each series' mean over this period. The "
                        f"publishers use {published.period}; {normal.period} is "
                        f"{normal.note}. Trends do not change with it."),
        styles={"flex-wrap": "wrap"})


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
            state.choose_year(first if state.year >= last else state.year)
            running.append(pn.state.add_periodic_callback(step, period=PLAY_INTERVAL_MS))
        else:
            while running:
                running.pop().stop()
        # U+275A, not the pause sign U+23F8: fonts without emoji (Debian's DejaVu) draw that as a box
        button.name = "❚❚ Pause" if button.value else "▶ Play the years"

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


def _analysis(state: AtlasState) -> pn.Column:
    """Scatter of warming against the indicator, with its rank correlation and caveat; both drawn
    when the tab is first opened (lazy): until then an indicator change does not compute them (the
    summary was a third of an indicator change's Python time). The server has HoloViews installed: no
    need to wait for it (and an async view there would resolve Panel's stylesheets to its CDN)."""
    view = _clickable_scatter_on_demand if target() == "browser" else _clickable_scatter
    points = pn.param.ParamFunction(pn.bind(view, state.param.atlas, state, state.param.indicator),
                                    lazy=True)
    summary = pn.param.ParamFunction(pn.bind(_scatter_summary, state.param.atlas,
                                             state.param.indicator), lazy=True)
    return pn.Column(*_ranking(state), summary, points)


def _scatter_summary(atlas: Atlas, code: str) -> pn.pane.Markdown:
    return pn.pane.Markdown(scatter_summary(atlas, code))


# Tables' columns as wide as their texts (the rows filling the page's width): on a phone the table
# scrolls sideways rather than cut every name to a few letters ("fit_columns" did).
TABLE_LAYOUT = "fit_data_fill"


def _ranking(state: AtlasState) -> list[pn.viewable.Viewable]:
    """Every indicator ranked by its rank correlation with the map's metric; a click on a row
    shows that indicator (its scatter below, its chart above). Computed when the tab is first
    opened (lazy), not with the page: the bootstrap is a fraction of a second per metric."""
    choice = (state.param.atlas, state.param.metric, state.param.year, state.param.season,
              state.param.base)

    def table(atlas: Atlas, metric: str, year: int, season: str,
              base: str) -> pn.widgets.Tabulator:
        rows = ranking(atlas, metric, year, Scope(season, base))
        shown = rows.rename(columns={"indicator": "Indicator", "rho": "ρ", "low": "95% low",
                                     "high": "95% high"})
        widget = pn.widgets.Tabulator(
            shown[["Indicator", "ρ", "n", "95% low", "95% high"]], show_index=False,
            disabled=True, selectable=False, sizing_mode="stretch_width", layout=TABLE_LAYOUT,
            formatters={c: NumberFormatter(format="0.00", nan_format="–")  # "–": fewer than 3
                        for c in ("ρ", "95% low", "95% high")})

        def opened(event: object) -> None:
            state.indicator = rows["code"].iat[event.row]

        widget.on_click(opened)
        return widget

    caption = pn.bind(lambda *c: ranking_caption(c[0], c[1], c[2], Scope(c[3], c[4])), *choice)
    return [pn.pane.Markdown(caption),
            pn.param.ParamFunction(pn.bind(table, *choice), lazy=True)]


TABLE_PENDING = "The table of every country opens once Python has started."
TABLE_HEIGHT = 560  # px: about what the table's page of 15 rows takes, so the page does not jump


def _table_tab(state: AtlasState) -> pn.Column:
    """The country table, with downloads of exactly the rows it shows (its header filters and sort
    order applied) and of the selected countries' series."""
    args = (state.param.atlas, state.param.metric, state.param.year, state.param.indicator,
            state.param.season, state.param.base)

    def rows() -> pd.DataFrame:
        return on_screen_table(*(getattr(state, a.name) for a in args))

    table = pn.widgets.Tabulator(rows(), show_index=False, header_filters=True,
                                 pagination="local", page_size=15, disabled=True,
                                 sizing_mode="stretch_width", layout=TABLE_LAYOUT,
                                 **screen_options())
    # A plain watcher, registered after the charts' and the map's, not a bound reference: param
    # resolves references before plain watchers, so the table's new rows (about 80 ms of Python in
    # the browser) went out before an indicator's new series, and the chart changed last.
    state.param.watch(lambda *_: setattr(table, "value", rows()),
                      [a.name for a in args])

    def table_zip() -> io.BytesIO:
        # current_view: the header filters applied (and Panel's sort, undone by sort_index)
        rows = as_shown(table.current_view.sort_index(), table.sorters)
        shown = with_full_names(state.atlas, state.metric, state.year, state.indicator, rows,
                                state.season, state.base)
        return io.BytesIO(table_download(state.atlas, shown, state.indicator, state.metric,
                                         state.scope))

    def series_zip() -> io.BytesIO:
        return io.BytesIO(series_download(state.atlas, state.selection, state.indicator,
                                          state.scope))

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
        pn.pane.Markdown(pn.bind(table_caption, *args)),
        # The pre-render leaves the table to Python: drawing its Tabulator (under the loading veil,
        # below the map) held BokehJS's first draw of the map back (2.9 s -> 2.5 s median here).
        pn.pane.Markdown(TABLE_PENDING, min_height=TABLE_HEIGHT) if prerendering() else table)


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

        state.param.watch(follow, ["selection", "indicator", "year", "metric", "season", "base"])
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
    chips, chips_label, chip_buttons = _selected_chips(atlas, state)
    heading = pn.pane.Markdown(pn.bind(country_heading, atlas, state.param.selection,
                                       state.param.season))
    temperature, indicator, series_views, chart_pictures = _series(atlas, state)
    source = pn.pane.Markdown(pn.bind(indicator_source, state.param.atlas, state.param.indicator),
                              styles=WRAP)
    stripes, stripes_chart_ = _stripes(atlas, state)
    charts = pn.Column(heading, chips, series_views[0], stripes, series_views[1],
                       source, styles={"flex": "2 1 300px"})
    # A wrapping Row, not pn.FlexBox: FlexBox is ReactiveHTML, whose sanitizer needs nh3, which has
    # no wasm wheel for the browser build.
    widgets = _controls(atlas, state)
    controls, (world, world_map_, map_png) = widgets.column(), _map_view(atlas, state)
    own = own_data_panel(state, country_lookup(atlas), target())
    main = pn.Column(controls, world, own, styles={"flex": "3 1 300px"})
    intro = pn.pane.Markdown(INTRO)
    tabs = pn.Tabs(
        ("Table", _table_tab(state)),
        ("Warming vs indicator", _analysis(state)),
        ("Sources", pn.pane.Markdown(sources_markdown(atlas), styles={"overflow-x": "auto"})),
        # Browser: a tab is drawn when first opened (the scatter brings HoloViews then).
        # Server: all at once; Panel 1.9.4 re-renders a dynamic tab outside the session's
        # resource settings and points its stylesheets at the CDN.
        dynamic=not server)
    back = _full_atlas_link(state)
    # The map's column goes with what it holds: an embedded chart takes the whole width.
    embed_shown = {"map": [main, world], "chart": [charts]}
    embed_parts = [intro, main, controls, world, own, charts, chips, tabs]
    _embeddable(state, embed_shown, embed_parts, back)
    _sync_url(atlas, state, ready)
    if server:
        log_session(state)
        release_on_discard()
    hooks = []
    if prerendering() and world_map_ is not None:
        from climate_atlas.views.prerender import Parts, answer_before_python

        for chart in (temperature, indicator):
            reserve_slots(chart, MAX_SELECTED)
        hooks = answer_before_python(atlas, Parts(
            world=world_map_, temperature=temperature, indicator=indicator, heading=heading,
            year=widgets.year, metric=widgets.metric, indicator_select=widgets.indicator,
            chips_label=chips_label, chips=chip_buttons,
            chips_words=[_chips_words(n, False) for n in range(1, MAX_SELECTED + 1)],
            chip_prefix=CHIP_PREFIX, render_heading=country_heading, notice=notice, back=back,
            embed_parts=embed_parts, embed_shown=embed_shown, stripes=stripes_chart_,
            lifted=[intro, notice, back, world, heading, *series_views, source, widgets.year],
            waiting=[widgets.search, widgets.click, widgets.metric, widgets.scope, widgets.play, own,
                     widgets.indicator, chips, stripes, tabs, map_png, *chart_pictures],
            linked=[world, heading, *series_views]), state)
    return make_accessible(pn.Column(
        back, intro, notice, pn.Row(main, charts, styles={"flex-wrap": "wrap"}), tabs, ready,
        sizing_mode="stretch_width", hooks=hooks))


def _full_atlas_link(state: AtlasState) -> pn.pane.HTML:
    """An embedded view's way back: the whole atlas at the state the view shows, in the top
    window (out of the iframe). The query holds only validated state values; escaped all the same."""
    link = pn.pane.HTML(visible=False, margin=(5, 10))

    def show(*_: object) -> None:
        href = html.escape(to_query(state, embed=False), quote=True)
        link.object = (f'<a href="{href}" target="_top" rel="noopener">Open the full Climate '
                       "Atlas at this view</a>")

    show()
    state.param.watch(show, ["selection", "indicator", "year", "metric", "season", "base"])
    return link


def _embeddable(state: AtlasState, shown: dict[str, list[pn.viewable.Viewable]],
                parts: list[pn.viewable.Viewable], back: pn.pane.HTML) -> None:
    """`?embed=map` or `?embed=chart` (for an iframe): only that view and the link back stay
    visible. The link is read once the page's URL is known, so the parts are hidden then."""
    def embed(*_: object) -> None:
        keep = shown.get(state.embed)
        for part in parts:
            part.visible = keep is None or part in keep
        back.visible = keep is not None

    state.param.watch(embed, "embed")
