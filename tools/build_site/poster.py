"""Stage: the map painted with the page's HTML, about a second before BokehJS can draw it.

The pre-rendered map is drawn by BokehJS, which first has to load, run and lay out the whole
pre-rendered document (about 1.1-1.4 s after navigation on loopback). The page now opens with a
picture of that map (app/climate_atlas/views/map_svg.py, an inline SVG of the pre-render's map:
the default state) in boxes that copy the layout above it (tools/poster.html): the intro and the
map's caption as Panel renders them, the controls' height, the row of two columns, the figure's
aspect ratio and its frame's place in it. BokehJS then draws the same map in the same place and the
picture is removed. tests/e2e/test_first_paint.py checks that the picture lies where the map is
drawn, at a desktop and a phone width: the numbers below are Panel's and BokehJS's layout of this
page in Chromium, and change when the controls or the figure do.
"""
from __future__ import annotations

import json
from pathlib import Path

from markdown_it import MarkdownIt

from tools.build_site.files import TOOLS
from tools.build_site.panel_patches import open_body_with

CONTROLS_HEIGHT = 321.4  # px: layout.Controls, from the row's top to the map's caption, margins included
# px from the figure's edges to its frame (top, right, bottom, left): the row of title and toolbar,
# the colour bar with its labels and title, the figure's min_border.
FRAME_INSET = (30, 70, 5, 5)
# The link keys whose value changes what the map shows (links.py): the picture is the default state,
# so a link with any of them opens without it. `indicator` changes only the charts.
MAP_KEYS = ("countries", "year", "metric", "season", "base", "embed")


def _markdown(text: str) -> str:
    """Our own text, rendered as Panel's Markdown pane renders it (markdown-it), raw HTML escaped."""
    return MarkdownIt("commonmark", {"html": False}).render(text)


def poster_html() -> str:
    """The poster fragment for the pre-render's default state (tools/poster.html, filled in)."""
    from climate_atlas.data import load_atlas
    from climate_atlas.layout import INTRO, MAP_CAPTION
    from climate_atlas.state import new_state
    from climate_atlas.views.map_svg import map_svg
    from climate_atlas.views.world_map import MAP_NAME, world_map

    atlas = load_atlas()
    figure = world_map(atlas, atlas.geometry, new_state(atlas)).figure
    top, right, bottom, left = FRAME_INSET
    fills = {"__MAP_KEYS__": json.dumps(list(MAP_KEYS)), "__MAP_NAME__": json.dumps(MAP_NAME),
             "__CONTROLS_HEIGHT__": str(CONTROLS_HEIGHT), "__ASPECT_RATIO__": str(figure.aspect_ratio),
             "__TOP__": str(top), "__RIGHT__": str(right), "__BOTTOM__": str(bottom),
             "__LEFT__": str(left), "__INTRO__": _markdown(INTRO),
             "__CAPTION__": _markdown(MAP_CAPTION), "__MAP__": map_svg(figure)}
    fragment = (TOOLS / "poster.html").read_text(encoding="utf-8")
    for mark, value in fills.items():  # the SVG last: no mark is looked for inside it
        if mark not in fragment:
            raise ValueError(f"tools/poster.html has no {mark}")
        fragment = fragment.replace(mark, value)
    return fragment


def add_poster(out: Path) -> int:
    """Open out/index.html's body with the poster; returns its size in bytes."""
    index = out / "index.html"
    fragment = poster_html()
    index.write_text(open_body_with(index.read_text(encoding="utf-8"), fragment), encoding="utf-8")
    return len(fragment.encode())
