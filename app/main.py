"""Entry point for `panel serve app/main.py` and `panel convert`: build the page and serve it."""

from climate_atlas.layout import build_dashboard

build_dashboard().servable(title="Climate Atlas")
