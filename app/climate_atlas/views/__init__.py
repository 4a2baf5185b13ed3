"""Pure functions from state and data to HoloViews/Panel objects; no file is read here."""

import holoviews.plotting.bokeh  # noqa: F401  registers the backend whose options the views set
