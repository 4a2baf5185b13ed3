"""Natural Earth 110m countries -> simplified, Equal Earth-projected rings for the browser map.

Keys follow DESIGN.md section 3: ISO_A3_EH unless it is -99, else ADM0_A3, then KOS -> XKX. ISO_A3
alone is -99 for France and Norway, and ADM0_A3 alone is not ISO for Western Sahara, Palestine and
South Sudan: either would silently turn a country with data grey, so every key is checked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import shapefile
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from pipeline.io import RawDataError, RawDir
from pipeline.keys import natural_earth_key
from pipeline.projection import equal_earth
from pipeline.sources import NE_STEM

DROPPED = {"ATA"}  # Antarctica: off the choropleth (it has a FAOSTAT series, shown elsewhere)
NO_DATA_POLYGONS = {"CYN", "SOL"}  # N. Cyprus, Somaliland: polygons that no source has data for
SIMPLIFY_DEGREES = 0.05  # Douglas-Peucker tolerance before projection (~5 km at the equator)
DECIMALS = 1  # km


@dataclass
class Feature:
    """One Natural Earth record: its key, its name there, and its lon/lat shape."""

    iso3: str
    ne_name: str
    shape: Polygon | MultiPolygon


def key(record: dict) -> str:
    """ISO_A3_EH (ISO_A3 is -99 for France, _EH is not) unless -99, else ADM0_A3, then KOS -> XKX."""
    return natural_earth_key(record["ISO_A3_EH"], record["ADM0_A3"])


def read_features(raw: RawDir) -> list[Feature]:
    """Read the shapefile (shp, shx, dbf) from the raw snapshot; lon/lat WGS84 is checked."""
    prj = raw.read_text(NE_STEM + ".prj", "ascii")
    if "WGS_1984" not in prj:
        raise RawDataError(NE_STEM + ".prj", 1, "expected geographic WGS 1984 coordinates")
    encoding = raw.read_text(NE_STEM + ".cpg", "ascii").strip()
    parts = {ext: io.BytesIO(raw.read_bytes(f"{NE_STEM}.{ext}")) for ext in ("shp", "shx", "dbf")}
    try:
        reader = shapefile.Reader(**parts, encoding=encoding)
        features = []
        for item in reader.iterShapeRecords():
            record = item.record.as_dict()
            features.append(Feature(key(record), record["NAME"], shape(item.shape.__geo_interface__)))
    except (shapefile.ShapefileException, KeyError, ValueError) as exc:
        raise RawDataError(NE_STEM + ".shp", None, f"unreadable shapefile: {exc}") from None
    keys = [feature.iso3 for feature in features]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise RawDataError(NE_STEM + ".dbf", None, f"more than one record keyed {repeated}")
    return [feature for feature in features if feature.iso3 not in DROPPED]


def check_keys(features: list[Feature], with_data: set[str]) -> None:
    """Every polygon must key to an entity with data, except the declared no-data ones.

    A polygon keyed wrongly (-99, or a non-ISO ADM0_A3 such as SDS) matches no data, so this also
    catches a country with data that would silently be drawn grey.
    """
    no_data = {f.iso3: f.ne_name for f in features if f.iso3 not in with_data}
    if set(no_data) != NO_DATA_POLYGONS:
        raise RawDataError(
            NE_STEM + ".dbf",
            None,
            f"polygons without data are {sorted(no_data.items())}, expected {sorted(NO_DATA_POLYGONS)}",
        )


def project_ring(coords: np.ndarray) -> np.ndarray:
    """lon/lat ring -> rounded Equal Earth km, repeated closing point dropped."""
    x, y = equal_earth(coords[:-1, 0], coords[:-1, 1])
    return np.round(np.column_stack([x, y]), DECIMALS)


def project(polygon: Polygon) -> Polygon:
    """Simplified lon/lat polygon -> projected, rounded polygon (exterior first, then holes)."""
    rings = [project_ring(np.asarray(polygon.exterior.coords))]
    rings += [project_ring(np.asarray(hole.coords)) for hole in polygon.interiors]
    return Polygon(rings[0], rings[1:])


def flat(ring: shapely.LinearRing) -> list[float]:
    """Ring -> [x0, y0, x1, y1, ...] without the closing point."""
    return [round(float(v), DECIMALS) for v in np.asarray(ring.coords)[:-1].ravel()]


def entry(feature: Feature, name: str) -> dict:
    """One country's record in geometry.json; its label lies inside its largest polygon."""
    simple = shapely.simplify(feature.shape, SIMPLIFY_DEGREES, preserve_topology=True)
    parts = [project(p) for p in getattr(simple, "geoms", [simple])]
    largest = max(parts, key=lambda p: p.area)
    point = largest.representative_point()
    label = [round(point.x, DECIMALS), round(point.y, DECIMALS)]
    if not largest.contains(shapely.Point(label)):
        raise AssertionError(f"label of {feature.iso3} falls outside its polygon")
    return {
        "iso3": feature.iso3,
        "name": name,
        "label": label,
        "polygons": [[flat(p.exterior), *(flat(h) for h in p.interiors)] for p in parts],
    }


def build(features: list[Feature], names: dict[str, str]) -> dict:
    """geometry.json content, countries sorted by ISO3."""
    return {
        "projection": "Equal Earth",
        "units": "km",
        "countries": [entry(f, names[f.iso3]) for f in sorted(features, key=lambda f: f.iso3)],
    }
