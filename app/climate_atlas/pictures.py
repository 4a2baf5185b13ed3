"""PNG pictures of the map and the charts, each downloaded by one plain button click.

Bokeh's own save tool does not download on a click: BokehJS 3.9.2's SaveToolView asks for a file
name with `window.prompt` (the tool has no `filename`), and a test browser, like a visitor who
dismisses the box, answers nothing. So each picture has a button whose BokehJS callback draws the
figure on screen into a PNG (`PlotView.export("png")`, the canvas the save tool uses too) and
hands it to the browser as a link with a `download` name: no Python, no round trip, the same in
the static site and under `panel serve`. The PNG has the figure's pixels as the page shows them,
on white, at the screen's pixel ratio.

The file name says what the picture shows. Python keeps it in the button's `tags` (one string),
updated with the state, so it changes together with the figure it names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import panel as pn

from climate_atlas.anomalies import is_published
from climate_atlas.data import ANNUAL, Atlas
from climate_atlas.state import AtlasState
from climate_atlas.views.metrics import metric_title

PREFIX = "climate-atlas"
# The state a picture's name can follow (the link's keys: what the page shows).
SHOWN = ["selection", "indicator", "year", "metric", "season", "base"]

# What a visitor reads when no PNG can be made: the served map's tiles come from a server that does
# not allow a page to copy them, or (not seen so far) anything else.
TAINTED = ("No PNG of the map: the server of its tile basemap does not let other sites copy its "
           "tiles into a picture (its CORS headers). Turn the tile basemap off, then download the "
           "map again.")
FAILED = "No PNG could be made of this figure:"

# `source`: the button (Panel's name for the model a js_on_click callback hangs on; its tags[0] is
# the file name); `plot`: the figure's name; `tainted`, `failed`: the words above. The figure is
# looked up by name in the button's own document when clicked: the served map is replaced by a new
# figure when its projection changes, and the static site's page holds a second document (the
# pre-render).
DOWNLOAD_JS = """
const doc = source.document;
const view = Bokeh.index.query_one((v) => v.model.document === doc && v.model.name === plot
                                          && v.canvas_view != null && v.el.isConnected);
if (view == null) {
  console.warn(`no plot named ${plot} on the page`);
  return;
}
const layer = view.export('png');
// Flattened onto the page's white: the edges of the plot's fills, at fractional pixels, are
// partly transparent, and would show as lines where the picture is viewed on a dark background.
const ctx = layer.ctx;
ctx.save();
ctx.setTransform(1, 0, 0, 1, 0, 0);
ctx.globalCompositeOperation = 'destination-over';
ctx.fillStyle = 'white';
ctx.fillRect(0, 0, layer.canvas.width, layer.canvas.height);
ctx.restore();
layer.to_blob().then((blob) => {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = source.tags[0];
  document.body.append(link);
  link.click();
  link.remove();
  // The download reads the URL after this task: let it go only once the browser has it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}).catch((error) => {
  // A canvas holding images from a server that does not allow this page to copy them (by its CORS
  // headers; BokehJS then loads the tiles without asking) cannot be read back.
  window.alert(error != null && error.name === 'SecurityError' ? tainted : `${failed} ${error}`);
});
"""


def slug(text: str) -> str:
    """Words as a file name's part: ASCII letters and digits, lower case, joined by hyphens
    ("Anomaly in 2010, Jun–Jul–Aug, °C vs 1991-2020" -> "anomaly-in-2010-jun-jul-aug-c-vs-1991-2020")."""
    letters = unicodedata.normalize("NFKD", text.replace("'", ""))  # "ô" -> "o" + its accent
    plain = "".join(c for c in letters if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _scope_part(atlas: Atlas, state: AtlasState) -> str:
    """"-jja", "-vs-1991-2020": the season and base of the anomalies, when not the defaults."""
    season = "" if state.season == ANNUAL else f"-{state.season}"
    base = "" if is_published(atlas, state.scope) else f"-vs-{state.base}"
    return season + base


def map_picture(atlas: Atlas, state: AtlasState) -> str:
    """The map's PNG: named after the map's title (metric, years, season, unit and base)."""
    title = metric_title(atlas, state.metric, state.year, state.scope)
    return f"{PREFIX}-map-{slug(title)}.png"


def temperature_picture(atlas: Atlas, state: AtlasState) -> str:
    """The temperature chart's PNG: the countries' ISO3 codes, then season and base if chosen."""
    return f"{PREFIX}-temperature-{'-'.join(state.selection)}{_scope_part(atlas, state)}.png"


def indicator_picture(atlas: Atlas, state: AtlasState) -> str:
    """The indicator chart's PNG: the World Bank's indicator code and the countries' ISO3 codes."""
    return f"{PREFIX}-{state.indicator}-{'-'.join(state.selection)}.png"


def picture_button(label: str, plot: str, name: Callable[[Atlas, AtlasState], str], atlas: Atlas,
                   state: AtlasState) -> pn.widgets.Button:
    """A button labelled `label` that downloads the figure named `plot` as a PNG called
    `name(atlas, state)`."""
    button = pn.widgets.Button(label=label, tags=[name(atlas, state)], max_width=300)

    def rename(*_: object) -> None:
        button.tags = [name(atlas, state)]  # an unchanged name sends nothing

    state.param.watch(rename, SHOWN)
    button.js_on_click(args={"plot": plot, "tainted": TAINTED, "failed": FAILED}, code=DOWNLOAD_JS)
    return button
