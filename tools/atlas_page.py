"""What a test or a benchmark can do with the dashboard, in user terms: wait, click a country, pick
an indicator.

Chart titles and data live in Bokeh's canvas and models, not the DOM, so they are read from the live
(last) Bokeh document. Positions on a chart come from Bokeh's own scales, so a click lands on the
country's polygon (or point) at its on-screen position in any mode, size or layout.
"""

from __future__ import annotations

from playwright.sync_api import Frame, Page

from climate_atlas.data import load_atlas
from climate_atlas.views.stripes import STRIPES_NAME
from climate_atlas.views.world_map import MAP_NAME

_LIVE_DOC = "const doc = Bokeh.documents[Bokeh.documents.length - 1];"

# Titles of the plots on screen now (a replaced plot's models can linger in the document).
_TITLE_STARTS_JS = f"""text => {{ {_LIVE_DOC}
  return Bokeh.index.query_one(v => v.model.document === doc && v.model.type === 'Title'
                                    && String(v.model.text).startsWith(text)) != null;
}}"""

# Page coordinates of a data point on the plot named `marker`, or whose title contains it.
_PLOT_POINT_JS = f"""([x, y, marker]) => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.frame != null
    && (v.model.name === marker
        || v.model.title != null && String(v.model.title.text).includes(marker)));
  if (view == null) return null;
  view.canvas_view.el.scrollIntoView({{block: 'center'}});  // a mouse click needs it on screen
  const canvas = view.canvas_view.el.getBoundingClientRect();
  return [canvas.left + view.frame.x_scale.compute(x), canvas.top + view.frame.y_scale.compute(y)];
}}"""

# The static site's picture of the map (tools/poster.html) while it is up, before BokehJS has drawn
# the map: the page coordinates of a point in the map's data units (the picture's y points down).
_PICTURE_POINT_JS = """([x, y]) => {
  const svg = document.querySelector("html[data-atlas-poster='up'] #atlas-poster .figure svg");
  if (svg == null) return null;
  const point = new DOMPoint(x, -y).matrixTransform(svg.getScreenCTM());
  return [point.x, point.y];
}"""

# Everything below reads the plots on screen now: a replaced plot's models linger in the document.
# The choropleth's data source: one row per country, with iso3, value and hover label.
_MAP_COLUMN_JS = f"""column => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.model.data_source
    && v.model.data_source.data.iso3 && v.model.data_source.data.label);
  return view ? Array.from(view.model.data_source.data[column],
                           v => Number.isNaN(v) ? null : v) : null;
}}"""

# The map's tags: the served map says which projection, detail and centre it draws.
_MAP_TAGS_JS = f"""name => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.model.name === name);
  return view ? view.model.tags.map(String) : null;
}}"""

# The plot named `marker`, or whose title contains it: its box on the page (x, y, width, height).
_PLOT_BOX_JS = f"""marker => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.frame != null
    && (v.model.name === marker
        || v.model.title != null && String(v.model.title.text).includes(marker)));
  if (view == null) return null;
  const box = view.el.getBoundingClientRect();
  return [box.left + window.scrollX, box.top + window.scrollY, box.width, box.height];
}}"""

# The plot named `marker`, or whose title contains it: its canvas's box in the viewport (x, y,
# width, height, with the plot scrolled to the middle of the screen) and the screen's pixel ratio.
_CANVAS_BOX_JS = f"""marker => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.frame != null
    && (v.model.name === marker
        || v.model.title != null && String(v.model.title.text).includes(marker)));
  if (view == null) return null;
  view.canvas_view.el.scrollIntoView({{block: 'center'}});
  const box = view.canvas_view.el.getBoundingClientRect();
  return [box.left, box.top, box.width, box.height, window.devicePixelRatio];
}}"""

# The warming stripes' rows, top to bottom: the country names written over the bands.
_STRIPES_ROWS_JS = f"""name => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.model.name === name);
  if (view == null) return null;
  const text = view.model.renderers.map(r => r.data_source.data).find(d => d.align != null);
  return Array.from(text.text).filter((t, i) => text.align[i] === 'center');
}}"""

_LEGEND_JS = f"""() => {{ {_LIVE_DOC}
  return [...Bokeh.index.query(v => v.model.document === doc && v.model.type === 'Legend')]
    .flatMap(v => v.model.items).filter(m => m.visible)
    .map(m => m.label && typeof m.label === 'object' ? m.label.value : m.label);
}}"""

# The longest series a chart titled with `marker` draws for the country called `name`: [years,
# values] (its line, not its two-point trend line).
_SERIES_JS = f"""([marker, name]) => {{ {_LIVE_DOC}
  const views = [...Bokeh.index.query(v => v.model.document === doc && v.model.data_source
    && v.parent != null && v.parent.model.title != null
    && String(v.parent.model.title.text).includes(marker)
    && v.model.data_source.data.name && v.model.data_source.data.name[0] === name)];
  const data = views.map(v => v.model.data_source.data)
    .sort((a, b) => b.year.length - a.year.length)[0];
  return data ? [Array.from(data.year), Array.from(data.value)] : null;
}}"""

# Every line a chart titled with `marker` draws for the country called `name`, longest first: its
# series, then its trend line (two points), each as [years, values].
_LINES_JS = f"""([marker, name]) => {{ {_LIVE_DOC}
  return [...Bokeh.index.query(v => v.model.document === doc && v.model.data_source
    && v.parent != null && v.parent.model.title != null
    && String(v.parent.model.title.text).includes(marker)
    && v.model.data_source.data.name && v.model.data_source.data.name[0] === name)]
    .map(v => v.model.data_source.data).filter((d, i, all) => all.indexOf(d) === i)
    .sort((a, b) => b.year.length - a.year.length)
    .map(d => [Array.from(d.year), Array.from(d.value)]);
}}"""

# The titles of the plots a visitor can see now, in any Bokeh document on the page (the static
# site's pre-render, or the live view once it has replaced it).
SHOWN_TITLES_JS = """() => [...Bokeh.index.query(v => v.model.type === 'Title' && v.parent != null
    && v.parent.el != null && v.parent.el.isConnected
    && v.parent.el.checkVisibility({opacityProperty: true, visibilityProperty: true}))]
  .map(v => String(v.model.text))"""

# The outline layer over the map: which countries it draws.
_HIGHLIGHT_JS = f"""() => {{ {_LIVE_DOC}
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.model.data_source
    && v.model.data_source.data.iso3 && !v.model.data_source.data.label
    && v.model.data_source.data.xs);
  return view ? [...new Set(view.model.data_source.data.iso3)].sort().join(',') : null;
}}"""


SCATTER_TITLE_MARKER = "Warming trend against"


class AtlasPage:
    """The dashboard in one browser page (or the frame of a page that embeds it)."""

    def __init__(self, page: Page | Frame, mode: str) -> None:
        self.page = page
        self.mode = mode
        self.atlas = load_atlas()

    def wait_ready(self, timeout_ms: float) -> None:
        self.page.wait_for_selector("body[data-atlas-ready='true']", state="attached",
                                    timeout=timeout_ms)

    def heading(self) -> str:
        return self.page.get_by_text("Selected:").inner_text()

    def wait_for_title(self, start: str, timeout_ms: float = 30_000) -> None:
        """Wait until some chart's title starts with `start`."""
        self.page.wait_for_function(_TITLE_STARTS_JS, arg=start, timeout=timeout_ms)

    def wait_for_heading(self, iso3: str) -> None:
        self.page.get_by_role("heading", name=f"({iso3})").wait_for(timeout=30_000)

    def map_column(self, column: str) -> list:
        return self.page.evaluate(_MAP_COLUMN_JS, column)

    def wait_for_highlight(self, codes: list[str]) -> None:
        """Wait until the map outlines exactly these countries."""
        self.page.wait_for_function(f"expected => ({_HIGHLIGHT_JS})() === expected",
                                    arg=",".join(sorted(codes)), timeout=30_000)

    def plot_box(self, marker: str) -> tuple[float, float, float, float]:
        """(x, y, width, height) on the page of the plot named `marker` or whose title contains it."""
        box = self.page.evaluate(_PLOT_BOX_JS, marker)
        if box is None:
            raise LookupError(f"no plot named or titled '...{marker}...' on the page")
        return box[0], box[1], box[2], box[3]

    def canvas_box(self, marker: str) -> tuple[float, float, float, float, float]:
        """(x, y, width, height) in the viewport of the canvas of the plot named `marker` or whose
        title contains it, scrolled to the middle of the screen, and the screen's pixel ratio."""
        box = self.page.evaluate(_CANVAS_BOX_JS, marker)
        if box is None:
            raise LookupError(f"no plot named or titled '...{marker}...' on the page")
        return box[0], box[1], box[2], box[3], box[4]

    def download(self, button: str, timeout_ms: float = 30_000) -> tuple[str, bytes]:
        """Click the button named `button`; return the file it downloads: (name, bytes)."""
        with self.page.expect_download(timeout=timeout_ms) as info:
            self.page.get_by_role("button", name=button).click()
        return info.value.suggested_filename, info.value.path().read_bytes()

    def stripes_rows(self) -> list[str] | None:
        """The warming stripes' row labels, top to bottom (a country without data: "...: no ...")."""
        return self.page.evaluate(_STRIPES_ROWS_JS, STRIPES_NAME)

    def wait_for_stripes(self, names: list[str]) -> None:
        """Wait until the warming stripes show exactly these rows, in this order."""
        self.page.wait_for_function(f"expected => JSON.stringify(({_STRIPES_ROWS_JS})"
                                    f"({STRIPES_NAME!r})) === JSON.stringify(expected)",
                                    arg=names, timeout=30_000)

    def legend(self) -> list[str]:
        return self.page.evaluate(_LEGEND_JS)

    def plot_point(self, x: float, y: float, marker: str) -> tuple[float, float]:
        point = self.page.evaluate(_PLOT_POINT_JS, [x, y, marker])
        if point is None:
            raise LookupError(f"no plot titled '...{marker}...' on the page")
        return point[0], point[1]

    def picture_point(self, iso3: str) -> tuple[float, float] | None:
        """A point inside the country on the map's picture (page coordinates), or None when the
        page shows no picture (BokehJS has drawn the map, a link changed it, or `panel serve`).
        The picture is the plain map's: no Bokeh model is read, there may be none yet."""
        point = self.page.evaluate(_PICTURE_POINT_JS, list(self._plain_label(iso3)))
        return None if point is None else (point[0], point[1])

    def _served_map(self):
        """The projected map that `panel serve` draws (server_extras), or None for the plain one."""
        tags = self.page.evaluate(_MAP_TAGS_JS, MAP_NAME) or []
        tag = next((t for t in tags if t.startswith("server-map|")), None)
        if tag is None:
            return None
        from climate_atlas import server_extras  # cartopy: only when the page draws that map

        _, projection, detail, center = tag.split("|")
        lon, lat = (float(v) for v in center.split(","))
        return server_extras.projected(detail, projection, (lon, lat))

    def drawn_countries(self) -> list[str]:
        """The countries the map should draw, in the order of its data source."""
        served = self._served_map()
        geometry = served.geometry if served is not None else self.atlas.geometry
        return [c["iso3"] for c in geometry["countries"]]

    def country_point(self, iso3: str) -> tuple[float, float]:
        """A point inside the country, in the coordinates of the map on the page."""
        served = self._served_map()
        if served is not None:
            from tools.map_points import point_in  # server_extras: only for the served map

            return point_in(served, iso3)
        return self._plain_label(iso3)

    def _plain_label(self, iso3: str) -> tuple[float, float]:
        """The plain map's label point of the country (inside its polygon), in the map's data units."""
        x, y = next(c for c in self.atlas.geometry["countries"] if c["iso3"] == iso3)["label"]
        return x, y

    def click_country(self, iso3: str) -> None:
        """Click inside the country's polygon, then wait until the heading names it."""
        self.page.mouse.click(*self.plot_point(*self.country_point(iso3), MAP_NAME))
        self.page.get_by_text(f"({iso3})").first.wait_for(timeout=30_000)

    def series(self, marker: str, name: str) -> dict[int, float]:
        """The values by year a chart titled with `marker` draws for the country called `name`
        (empty when it draws none)."""
        found = self.page.evaluate(_SERIES_JS, [marker, name])
        return {} if found is None else {int(y): v for y, v in zip(*found, strict=True)}

    def lines(self, marker: str, name: str) -> list[tuple[list[float], list[float]]]:
        """Every line a chart titled with `marker` draws for the country called `name`: its
        series, then (the temperature chart) its two-point trend line, as (years, values)."""
        return [(years, values) for years, values in self.page.evaluate(_LINES_JS, [marker, name])]

    def titles(self) -> list[str]:
        """The titles of every plot on screen now."""
        return self.page.evaluate(SHOWN_TITLES_JS)

    def year(self) -> int:
        """The year the slider shows."""
        return round(float(self.page.get_by_role("slider").first.get_attribute("aria-valuenow")))

    def open_tab(self, name: str) -> None:
        """Click the tab labelled `name` (Table, Warming vs indicator or Sources)."""
        self.page.get_by_text(name, exact=True).click()

    def choose(self, label: str, option: str) -> None:
        """Pick `option` (its visible text) in the select box labelled `label`."""
        self.page.get_by_label(label, exact=True).select_option(label=option)

    def indicator_label(self, code: str) -> str:
        meta = self.atlas.indicator_meta
        return f"{meta.at[code, 'short_name']} ({meta.at[code, 'unit']})"
