"""Stage: the map painted with the page's HTML, about a second before BokehJS can draw it.

The pre-rendered map is drawn by BokehJS, which first has to load, run and lay out the whole
pre-rendered document (about 1.1-1.4 s after navigation on loopback). The page now opens with a
picture of that map (app/climate_atlas/views/map_svg.py, an inline SVG of the pre-render's map:
the default state) in boxes that copy the layout above it (tools/poster.html): the intro and the
map's caption as Panel renders them, the controls' height, the row of two columns, the figure's
aspect ratio and its frame's place in it. BokehJS then draws the same map in the same place and the
picture is removed. tests/e2e/test_first_paint.py checks that the picture lies where the map is
drawn, and the chart a click on it draws where BokehJS draws that chart, at a desktop and a phone
width: the numbers below are Panel's and BokehJS's layout of this page in Chromium, and change when
the controls, the figure or the boxes below it do.

A click on the picture is answered on it too, about two seconds before BokehJS can: the clicked
country's temperature chart (its series, trend line and title with the trend, the world's line),
drawn in the side column where BokehJS will draw that chart, from the page's country table (the
pre-render's data block, views/prerender.TABLE_ID: the default scope) and the chart's words and
world series read from the figure Python draws. The pre-render then answers the same click (it is
kept) and draws its chart over this one.
"""
from __future__ import annotations

import json
from pathlib import Path

from markdown_it import MarkdownIt

from tools.build_site.files import TOOLS
from tools.build_site.panel_patches import open_page_body_with

CONTROLS_HEIGHT = 321.4  # px: layout.Controls, from the row's top to the map's caption, margins included
# px, margins included: the map's PNG button (layout._map_view) and the file input of "Your data"
# (views/own_data.py), the fixed-height boxes of the map's column below it; the text between them
# is copied (upload_intro), so it wraps alike.
MAP_BUTTON_HEIGHT = 41.14
FILE_INPUT_HEIGHT = 58.28
# px from the figure's edges to its frame (top, right, bottom, left): the row of title and toolbar,
# the colour bar with its labels and title, the figure's min_border.
FRAME_INSET = (30, 70, 5, 5)
# The picture is the default state with no notice above it: only a link that changes neither the map
# nor the page's layout opens with it, one whose keys are the settings other sites add
# (links.ADDED_BY_OTHERS) and at most one known `indicator` (which changes only the charts). Any
# other key changes the map or brings a notice that moves the map down (links.py).
def picture_link(atlas) -> dict:
    """What poster.html reads a link by: {"indicators": the known codes, "added_by_others": the
    regular expression's source}."""
    from climate_atlas.links import ADDED_BY_OTHERS, accepted

    return {"indicators": accepted(atlas)["indicator"], "added_by_others": ADDED_BY_OTHERS.pattern}


# px, margins included: the label of the row of chips above the temperature chart in the side
# column (layout.py; its words for one country). The heading above it and the chip beside it are
# copied as text (tools/poster.html), so they wrap alike: the chip below the label where the column
# is narrower than both (a window about 600-850 px wide), a long name's heading on two lines.
CHIPS_LABEL_BOX = (284.1, 57.1)
# px from the chart's edges to its frame (top, right, bottom, left: the title row, the figure's
# border, the x axis with its label, the y axis with its label), the y axis's widest tick label
# being CHART_LEFT_LABEL: BokehJS's axis is as wide as its widest label, so the picture's frame
# moves by the difference (Bosnia and Herzegovina's, "1.5", 7 px left)
CHART_FRAME_INSET = (30, 5, 45, 59)
CHART_LEFT_LABEL = "\N{MINUS SIGN}0.5"
# px from the frame's left edge to the centre of the y axis's label (BokehJS draws it at the
# chart's left edge), with CHART_LEFT_LABEL the widest tick label
CHART_Y_LABEL_GAP = 46
CHART_DATA_ID = "atlas-poster-chart"


def _markdown(text: str) -> str:
    """Our own text, rendered as Panel's Markdown pane renders it (markdown-it), raw HTML escaped."""
    return MarkdownIt("commonmark", {"html": False}).render(text)


def _heading(atlas, codes: list[str]) -> dict:
    """The selection heading above the chart, for the picture to lay out alike (layout.py
    `country_heading`, for one country, annual): {"title": its h2's text with "{name}" and "{iso3}"
    marks, "notes": the distinct lines below it, "note_of": each country's (in `codes`' order)}.
    Raises ValueError when the heading is no longer a title line and one note line."""
    from climate_atlas.data import ANNUAL
    from climate_atlas.layout import country_heading

    notes: list[str] = []
    note_of: list[int] = []
    title = None
    for iso3 in codes:
        name = atlas.country_name(iso3)
        head, _, note = country_heading(atlas, [iso3], ANNUAL).partition("\n")
        if not head.startswith("## ") or "\n" in note or f"{name} ({iso3})" not in head:
            raise ValueError(f"poster: the heading for {iso3} is no longer a title and a note")
        mine = head[3:].replace(f"{name} ({iso3})", "{name} ({iso3})")
        if title not in (None, mine):
            raise ValueError(f"poster: the heading's title differs for {iso3}: {mine!r}")
        title = mine
        if note not in notes:
            notes.append(note)
        note_of.append(notes.index(note))
    return {"title": title, "notes": notes, "note_of": note_of}


def _chart_data(atlas, selection: list[str]) -> str:
    """What the chart a click draws needs beyond the page's country table (views/prerender.py
    TABLE_ID), as the poster's data block: {"world": {"runs", "values"}, "x_label", "y_label",
    "trend_suffix", "heading": _heading, "chip_prefix"} (runs: [first year, count, ...]; values in
    °C), read from the chart Python draws for `selection` (the default)."""
    from climate_atlas.layout import CHIP_PREFIX
    from climate_atlas.views.prerender import country_table, data_block, year_runs
    from climate_atlas.views.series import temperature_chart

    chart = temperature_chart(atlas, selection)
    name = atlas.country_name(selection[0])
    trend_label = chart.slots[0].trend_item.label.value
    if not trend_label.startswith(name):
        raise ValueError(f"poster: the trend's legend {trend_label!r} does not start with {name!r}")
    world = chart.world.data
    data = {"world": {"runs": year_runs(world["year"]), "values": [float(v) for v in world["value"]]},
            "x_label": chart.figure.xaxis[0].axis_label, "y_label": chart.figure.yaxis[0].axis_label,
            "trend_suffix": trend_label[len(name):],
            "heading": _heading(atlas, country_table(atlas)["codes"]), "chip_prefix": CHIP_PREFIX}
    return data_block(CHART_DATA_ID, data)


def poster_html() -> str:
    """The poster fragment for the pre-render's default state (tools/poster.html, filled in)."""
    from climate_atlas.data import load_atlas
    from climate_atlas.layout import INTRO, MAP_CAPTION
    from climate_atlas.state import new_state
    from climate_atlas.views.map_svg import map_svg
    from climate_atlas.views.own_data import upload_intro
    from climate_atlas.views.prerender import TABLE_ID
    from climate_atlas.views.series import CHART_HEIGHT, PALETTE, WORLD_COLOR
    from climate_atlas.views.world_map import MAP_NAME, world_map

    atlas = load_atlas()
    state = new_state(atlas)
    figure = world_map(atlas, atlas.geometry, state).figure
    top, right, bottom, left = FRAME_INSET
    chart_top, chart_right, chart_bottom, chart_left = CHART_FRAME_INSET
    fills = {"__PICTURE_LINK__": json.dumps(picture_link(atlas)), "__MAP_NAME__": json.dumps(MAP_NAME),
             "__CONTROLS_HEIGHT__": str(CONTROLS_HEIGHT), "__ASPECT_RATIO__": str(figure.aspect_ratio),
             "__TOP__": str(top), "__RIGHT__": str(right), "__BOTTOM__": str(bottom),
             "__LEFT__": str(left), "__INTRO__": _markdown(INTRO),
             "__CAPTION__": _markdown(MAP_CAPTION),
             "__CHIPS_LABEL_WIDTH__": str(CHIPS_LABEL_BOX[0]),
             "__CHIPS_LABEL_HEIGHT__": str(CHIPS_LABEL_BOX[1]),
             "__MAP_BUTTON_HEIGHT__": str(MAP_BUTTON_HEIGHT),
             "__FILE_INPUT_HEIGHT__": str(FILE_INPUT_HEIGHT),
             "__UPLOAD_INTRO__": _markdown(upload_intro("browser")),
             "__CHART_HEIGHT__": str(CHART_HEIGHT), "__CHART_TOP_INSET__": str(chart_top),
             "__CHART_RIGHT__": str(chart_right), "__CHART_BOTTOM__": str(chart_bottom),
             "__CHART_LEFT__": str(chart_left), "__CHART_LEFT_LABEL__": json.dumps(CHART_LEFT_LABEL),
             "__CHART_Y_LABEL_GAP__": str(CHART_Y_LABEL_GAP),
             "__COLOUR__": PALETTE[0],
             "__WORLD_COLOUR__": WORLD_COLOR, "__TABLE_ID__": json.dumps(TABLE_ID),
             "__CHART_DATA_ID__": json.dumps(CHART_DATA_ID),
             "__CHARTS__": _chart_data(atlas, state.selection),
             "__MAP__": map_svg(figure)}
    fragment = (TOOLS / "poster.html").read_text(encoding="utf-8")
    for mark, value in fills.items():  # the data and the SVG last: no mark is looked for inside them
        if mark not in fragment:
            raise ValueError(f"tools/poster.html has no {mark}")
        fragment = fragment.replace(mark, value)
    return fragment


def add_poster(out: Path) -> int:
    """Open out/index.html's body with the poster; returns its size in bytes."""
    return open_page_body_with(out, poster_html())
