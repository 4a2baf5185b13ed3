"""Pure functions from state and data to Bokeh, HoloViews and Panel objects; no file is read here."""
