"""What a test can do with the dashboard, in user terms: wait, click a country, pick an indicator.

Positions on the map come from Bokeh's own scales, so a click lands on the country's polygon at
its on-screen position in any mode, size or layout.
"""

from __future__ import annotations

from playwright.sync_api import Page

from climate_atlas.data import load_atlas

# Chart titles live in Bokeh's canvas, not the DOM: read them from the live (last) document.
_TITLES_JS = """() => {
  const doc = Bokeh.documents[Bokeh.documents.length - 1];
  return [...doc.all_models].filter(m => m.type === 'Title' || m.constructor.name === 'Title')
    .map(m => m.text).filter(t => t);
}"""

# Page coordinates of a point given in the map's data coordinates (Equal Earth km).
_MAP_POINT_JS = """([x, y, marker]) => {
  const doc = Bokeh.documents[Bokeh.documents.length - 1];
  const view = Bokeh.index.query_one(v => v.model.document === doc && v.frame != null
    && v.model.title != null && String(v.model.title.text).includes(marker));
  if (view == null) return null;
  const canvas = view.canvas_view.el.getBoundingClientRect();
  return [canvas.left + view.frame.x_scale.compute(x), canvas.top + view.frame.y_scale.compute(y)];
}"""

MAP_TITLE_MARKER = "Click a country"


class AtlasPage:
    """The dashboard in one browser page."""

    def __init__(self, page: Page, mode: str) -> None:
        self.page = page
        self.mode = mode
        self.atlas = load_atlas()

    def wait_ready(self, timeout_ms: float) -> None:
        self.page.wait_for_selector("body[data-atlas-ready='true']", state="attached",
                                    timeout=timeout_ms)

    def titles(self) -> list[str]:
        return self.page.evaluate(_TITLES_JS)

    def heading(self) -> str:
        return self.page.get_by_text("Selected:").inner_text()

    def map_point(self, iso3: str) -> tuple[float, float]:
        country = next(c for c in self.atlas.geometry["countries"] if c["iso3"] == iso3)
        point = self.page.evaluate(_MAP_POINT_JS, [*country["label"], MAP_TITLE_MARKER])
        assert point is not None, "the map plot was not found on the page"
        return point[0], point[1]

    def click_country(self, iso3: str) -> None:
        """Click inside the country's polygon, then wait until the heading names it."""
        x, y = self.map_point(iso3)
        self.page.mouse.click(x, y)
        self.page.get_by_text(f"({iso3})").wait_for(timeout=15_000)

    def choose_indicator(self, code: str) -> None:
        label = self.page.get_by_label("World Bank indicator")
        label.select_option(value=None, label=self._indicator_label(code))

    def _indicator_label(self, code: str) -> str:
        meta = self.atlas.indicator_meta
        return f"{meta.at[code, 'short_name']} ({meta.at[code, 'unit']})"
