"""What the page needs beyond Panel 1.9.4's and Bokeh 3.9.2's defaults to pass an axe-core audit
(tests/e2e/test_accessibility.py): colours with enough contrast, named form fields, 24 px targets,
and no focusable content in a hidden tab.

Everything here is applied to the finished page (`make_accessible`), not at each widget's call
site, so a pane or table added later gets the same fixes without anyone remembering them.
"""

from __future__ import annotations

import pandas as pd
import panel as pn

# Panel's theme redefines its colour variables in every shadow root (`:host` in default.css), so an
# override has to sit in each pane's own stylesheets; a page-wide stylesheet never reaches them.
# Inline code: Panel's #82aaff on white is 2.3:1; this blue is 7.9:1 (WCAG AA wants 4.5:1).
CODE_CSS = ":host { --code-text-color: #1e4f9c; }"
# The warning Alert's text: Panel's #997404 on #fff3cd is 3.9:1; Bootstrap 5.3's own
# warning-text-emphasis colour is 7.2:1.
WARNING_CSS = ":host { --warning-text-color: #664d03; }"
# Tabulator's page-number buttons are 19 x 21 CSS px; WCAG 2.2 (2.5.8) wants targets of 24 x 24.
PAGER_CSS = ".tabulator-page { min-width: 24px; min-height: 24px; }"
# Panel hides an inactive tab with `visibility: hidden` and aria-hidden, but panes inside it set
# `visibility: visible` on their own content, so its links and inputs stay focusable while unseen
# (axe: aria-hidden-focus). Taking the hidden tab out of the layout hides it from every user alike.
HIDDEN_TAB_CSS = ":host > [aria-hidden='true'] { display: none !important; }"

# Panel's loading mark is an arc that turns (an SVG animation, as a CSS mask): before Python is
# live a dozen parts wait, and without a GPU each turning mark is drawn again every frame, which
# took about half of a first visit's CPU on 2 cores (52 s of CPU against 28 s) and slowed the boot
# it marks. The parts' marks stand still (they say "waits for Python"); the one thing that moves is
# the status bar's mark (tools/site_status.html), which stands still too for a visitor whose system
# asks for reduced motion (WCAG 2.2, 2.3.3).
STILL_ARC = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 100 100'%3E"
             "%3Ccircle cx='50' cy='50' r='35' fill='none' stroke='black' stroke-width='10' "
             "stroke-dasharray='164.93 56.98'/%3E%3C/svg%3E")


def still_loading_css(selector: str) -> str:
    """CSS that draws the loading mark `selector` names (a ::before) as Panel's arc, still."""
    return f'{selector} {{ -webkit-mask-image: url("{STILL_ARC}") !important; }}'


# Bokeh's slider handle (noUiSlider's div with role="slider") has no accessible name (axe:
# aria-input-field-name). noUiSlider could set one (its handleAttributes option, see
# leongersen/noUiSlider#1223) but Bokeh does not pass it through, nor any ARIA attribute
# (bokeh/bokeh#12259). So once the live view is built, each handle is named after its slider's
# title: a screen reader announces "Year, slider" before the value. Runs as a jscallback of the
# page's readiness marker: `cb_obj` is that marker, in the live document (in the static site's
# pre-render, where the slider answers before Python, any model of it: views/prerender.py).
NAME_SLIDER_HANDLES_JS = """
for (const view of Bokeh.index.query(v => v.model.document === cb_obj.document
                                          && v.slider_el != null)) {
  for (const handle of view.slider_el.querySelectorAll('[role="slider"]')) {
    handle.setAttribute('aria-label', String(view.model.title));
  }
}
"""


# Bokeh's tab headers take focus but ignore Enter and Space and carry no tab roles (bokeh/bokeh#14336),
# so a keyboard user could not open the Table, scatter or Sources tabs. This gives each tab set the
# WAI-ARIA tabs pattern: tablist and tab roles, aria-selected kept in step with Bokeh's active class,
# Enter or Space opens the focused tab (through Bokeh's own click handler), the arrow keys move
# between tabs. Bokeh re-creates the headers when a tab's content changes (the browser's tabs are
# drawn when first opened), so everything hangs on the view's shadow root, the roles are re-applied
# on each change, and the tab the keyboard opened gets the focus back.
KEYBOARD_TABS_JS = """
for (const view of Bokeh.index.query(v => v.model.document === cb_obj.document
                                          && v.model.tabs != null && v.shadow_el != null)) {
  const root = view.shadow_el;
  if (root.atlasKeyboardTabs) continue;
  root.atlasKeyboardTabs = true;
  const tabs = () => [...root.querySelectorAll('.bk-headers-wrapper .bk-tab')];
  let refocus = null;  // the tab the keyboard just opened, while Bokeh may re-create its header
  const sync = () => {
    const list = root.querySelector('.bk-headers-wrapper');
    if (list != null && list.getAttribute('role') !== 'tablist') list.setAttribute('role', 'tablist');
    for (const tab of tabs()) {
      if (tab.getAttribute('role') !== 'tab') tab.setAttribute('role', 'tab');
      const selected = String(tab.classList.contains('bk-active'));
      if (tab.getAttribute('aria-selected') !== selected) tab.setAttribute('aria-selected', selected);
    }
    const wanted = refocus == null ? null : tabs()[refocus];
    if (wanted != null && root.activeElement !== wanted) wanted.focus();
  };
  sync();
  new MutationObserver(sync).observe(root, {subtree: true, childList: true, attributes: true,
                                            attributeFilter: ['class']});
  root.addEventListener('keydown', (event) => {
    const all = tabs();
    const i = all.indexOf(event.target);
    if (i < 0) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      refocus = i;
      setTimeout(() => { refocus = null; }, 3000);
      event.target.click();
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      event.preventDefault();
      refocus = null;
      all[(i + (event.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length].focus();
    }
  });
}
"""
# Panel's Alert is a plain box: a screen reader is not told that a notice (a link with an unknown
# country code, an upload that could not be read) has appeared, or what it says (WCAG 2.2, 4.1.3
# Status Messages). A warning or an error box gets the alert role, which announces it at once when
# it is shown; any other (an upload's summary) the status role, announced when the reader is idle.
ANNOUNCE_ALERTS_JS = """
for (const view of Bokeh.index.query(v => v.model.document === cb_obj.document
                                          && v.model.css_classes?.includes('alert'))) {
  const urgent = ['alert-warning', 'alert-danger'].some(c => view.model.css_classes.includes(c));
  view.el.setAttribute('role', urgent ? 'alert' : 'status');
}
"""
# What runs before Python too, in the static site's pre-render (views/prerender.py), where the year
# slider answers and a link's notice shows.
BEFORE_PYTHON_JS = NAME_SLIDER_HANDLES_JS + ANNOUNCE_ALERTS_JS
# Everything above that runs once the live view is built (a jscallback of the readiness marker).
LIVE_PAGE_JS = BEFORE_PYTHON_JS + KEYBOARD_TABS_JS


def named_header_filters(frame: pd.DataFrame) -> dict[str, dict]:
    """The header filters `header_filters=True` gives each column, each with an aria-label.

    Tabulator's filter boxes have no label (tabulator-tables/tabulator#4673); its editors take
    `elementAttributes`. The editor and step are Panel's for the column's dtype, so filtering
    behaves as before: numbers compare equal, text matches a part.
    """
    filters: dict[str, dict] = {}
    for column, dtype in frame.dtypes.items():
        spec: dict = {"type": "input"}
        if dtype.kind in "if":
            spec = {"type": "number", "step": 1 if dtype.kind == "i" else 0.01}
        filters[str(column)] = {**spec, "elementAttributes": {"aria-label": f"Filter {column}"}}
    return filters


def _add_stylesheet(viewable: pn.viewable.Viewable, css: str) -> None:
    viewable.stylesheets = [*viewable.stylesheets, css]


def still_when_loading(viewables: list[pn.viewable.Viewable]) -> None:
    """Give each of `viewables`, parts that show Panel's loading mark, a still one (in its own
    shadow root, where Panel's loading.css draws the mark)."""
    for viewable in viewables:
        _add_stylesheet(viewable, still_loading_css(":host(.pn-loading):before"))


def make_accessible(page: pn.viewable.Viewable) -> pn.viewable.Viewable:
    """Apply this module's fixes to every pane, table and tab set of the built page."""
    for pane in page.select(pn.pane.Markdown):
        _add_stylesheet(pane, CODE_CSS)
    for alert in page.select(pn.pane.Alert):
        _add_stylesheet(alert, WARNING_CSS)
    for table in page.select(pn.widgets.Tabulator):
        _add_stylesheet(table, PAGER_CSS)
        if table.header_filters is True:
            table.header_filters = named_header_filters(table.value)
    for tabs in page.select(pn.Tabs):
        _add_stylesheet(tabs, HIDDEN_TAB_CSS)
    return page
