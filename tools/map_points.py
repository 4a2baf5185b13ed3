"""Where to click a country on the served map: knowledge of server_extras' projections that only
the page helper (tools/atlas_page.py, used by the e2e tests and the bench) needs.

The app itself never needs a point inside a country (a click arrives as a point and
views.world_map.country_at finds the country), so this lives beside the code that clicks.
"""

from __future__ import annotations

from climate_atlas.server_extras import ProjectedMap


def point_in(geo: ProjectedMap, iso3: str) -> tuple[float, float] | None:
    """A point inside the country's largest visible part, or None when it is not on this map."""
    shape = geo.shapes.get(iso3)
    if shape is None:
        return None
    largest = max(getattr(shape, "geoms", [shape]), key=lambda p: p.area)
    point = largest.representative_point()
    return point.x, point.y
