"""The choropleth: pre-projected Natural Earth polygons coloured by a warming metric.

Plain HoloViews Polygons on the pipeline's Equal Earth coordinates, so the browser never needs
GeoViews, shapely or pyproj. One row per polygon part; `part_countries` maps a selected row back to
its country, which is how a click on a polygon becomes a selection.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np

from climate_atlas.data import Atlas
from climate_atlas.views.metrics import NO_DATA, TITLES, UNITS, metric_table

NO_DATA_COLOR = "#d4d4d4"
PALETTE = "RdBu_r"  # ColorBrewer diverging, readable with the common colour-vision deficiencies


def _ring(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def part_countries(atlas: Atlas) -> list[str]:
    """ISO3 code of each polygon row, in the order `choropleth` draws them."""
    return [c["iso3"] for c in atlas.geometry["countries"] for _ in c["polygons"]]


def choropleth(atlas: Atlas, metric: str) -> hv.Polygons:
    """Every country, coloured by `metric`, grey with "no data" where it has no series."""
    table = metric_table(atlas, metric)
    rows = []
    for country in atlas.geometry["countries"]:
        iso3 = country["iso3"]
        known = iso3 in table.index
        value = float(table.at[iso3, "value"]) if known else np.nan
        label = str(table.at[iso3, "label"]) if known else NO_DATA
        for rings in country["polygons"]:
            outer = _ring(rings[0])
            rows.append({
                "x": outer[:, 0], "y": outer[:, 1],
                "holes": [[_ring(hole) for hole in rings[1:]]],
                "value": value, "label": label,
                "iso3": iso3, "name": atlas.country_name(iso3),
            })
    values = table["value"].dropna()
    limit = float(np.abs(values).max()) if len(values) else 1.0
    hover = [("Country", "@name"), (TITLES[metric], "@label")]
    return hv.Polygons(rows, vdims=["value", "label", "iso3", "name"]).opts(
        color="value", cmap=PALETTE, clim=(-limit, limit), colorbar=True,
        clabel=UNITS[metric], clipping_colors={"NaN": NO_DATA_COLOR},
        line_color="white", line_width=0.4, tools=["hover", "tap"], hover_tooltips=hover,
        nonselection_alpha=0.45, selection_line_color="black", selection_line_width=1.5,
        xaxis=None, yaxis=None, responsive=True, aspect=2.05, min_height=220,
        title=f"{TITLES[metric]} ({UNITS[metric]}); grey: no data. Click a country.",
        toolbar="above", active_tools=["tap"],
    )
