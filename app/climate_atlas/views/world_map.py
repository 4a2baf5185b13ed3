"""The choropleth: pre-projected Natural Earth polygons coloured by a warming metric.

Plain HoloViews Polygons on the pipeline's Equal Earth coordinates, so the browser never needs
GeoViews, shapely or pyproj. A click arrives as a point in those coordinates; `country_at` finds the
polygon under it, so every click counts, even on a country that is already selected.
"""

from __future__ import annotations

from collections.abc import Iterator

import holoviews as hv
import numpy as np

from climate_atlas.data import Atlas
from climate_atlas.views.metrics import NO_DATA, UNITS, metric_table, metric_title

NO_DATA_COLOR = "#d4d4d4"
PALETTE = "RdBu_r"  # ColorBrewer diverging, readable with the common colour-vision deficiencies
MAP_OPTS = {"xaxis": None, "yaxis": None, "responsive": True, "aspect": 2.05, "min_height": 200}


def _ring(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def _parts(atlas: Atlas) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(iso3, [outer ring, holes...]) for every polygon part, in drawing order."""
    for country in atlas.geometry["countries"]:
        for rings in country["polygons"]:
            yield country["iso3"], [_ring(r) for r in rings]


def part_countries(atlas: Atlas) -> list[str]:
    """ISO3 code of each polygon row, in the order `choropleth` draws them."""
    return [iso3 for iso3, _ in _parts(atlas)]


def _color_limit(atlas: Atlas, metric: str, values: np.ndarray) -> float:
    """Symmetric around 0; one scale for every year, so an animation compares like with like."""
    pool = atlas.temperature["anomaly"].to_numpy() if metric == "year" else values
    pool = np.abs(pool[~np.isnan(pool)])
    return float(np.quantile(pool, 0.995)) if len(pool) else 1.0


def choropleth(atlas: Atlas, metric: str, year: int) -> hv.Polygons:
    """Every country, coloured by `metric`, grey with "no data" where it has no value."""
    table = metric_table(atlas, metric, year)
    rows = []
    for iso3, rings in _parts(atlas):
        known = iso3 in table.index
        rows.append({
            "x": rings[0][:, 0], "y": rings[0][:, 1], "holes": [rings[1:]],
            "value": float(table.at[iso3, "value"]) if known else np.nan,
            "label": str(table.at[iso3, "label"]) if known else NO_DATA,
            "iso3": iso3, "name": atlas.country_name(iso3),
        })
    limit = _color_limit(atlas, metric, table["value"].to_numpy(dtype=float))
    title = metric_title(metric, year)
    return hv.Polygons(rows, vdims=["value", "label", "iso3", "name"]).opts(
        color="value", cmap=PALETTE, clim=(-limit, limit), colorbar=True, clabel=UNITS[metric],
        clipping_colors={"NaN": NO_DATA_COLOR}, line_color="white", line_width=0.4,
        tools=["hover"], hover_tooltips=[("Country", "@name"), (title, "@label")],
        title=f"{title} ({UNITS[metric]}); grey: no data. Click a country.",
        toolbar="above", **MAP_OPTS)


def highlight(atlas: Atlas, selection: list[str]) -> hv.Polygons:
    """Thick outlines around the selected countries, drawn over the choropleth."""
    rows = [{"x": rings[0][:, 0], "y": rings[0][:, 1], "holes": [rings[1:]], "iso3": iso3}
            for iso3, rings in _parts(atlas) if iso3 in selection]
    return hv.Polygons(rows, vdims=["iso3"]).opts(
        fill_alpha=0, line_color="black", line_width=2.2, tools=[])


def _inside(ring: np.ndarray, x: float, y: float) -> bool:
    """Even-odd ray casting: is (x, y) inside this closed ring?"""
    xs, ys = ring[:, 0], ring[:, 1]
    xj, yj = np.roll(xs, 1), np.roll(ys, 1)
    straddles = (ys > y) != (yj > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing_x = (xj - xs) * (y - ys) / (yj - ys) + xs
    return bool(np.count_nonzero(straddles & (x < crossing_x)) % 2)


def country_at(atlas: Atlas, x: float, y: float) -> str | None:
    """The country whose polygon contains the map point (x, y), if any."""
    for iso3, rings in _parts(atlas):
        outer = rings[0]
        if not (outer[:, 0].min() <= x <= outer[:, 0].max()
                and outer[:, 1].min() <= y <= outer[:, 1].max()):
            continue
        if _inside(outer, x, y) and not any(_inside(hole, x, y) for hole in rings[1:]):
            return iso3
    return None
