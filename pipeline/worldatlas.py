"""Server-only lon/lat country rings from world-atlas TopoJSON (110m and the 50m "detail" mode).

The server reprojects these with cartopy, which cannot start from shapes already in Equal Earth, so
they stay in degrees. TopoJSON arcs are decoded here (quantized, delta-encoded), so no topojson
library is needed. Keys: `id` is the ISO 3166-1 numeric code, mapped to alpha-3 through
iso-codes/codes.json. Not counted in the data budget (these files live in data/server/).

world-atlas is made for spherical rendering: a ring of Russia or Fiji steps from 179.9 to -180,
which cartopy, working in the plane, would draw as a band around the whole world. Such polygons are
cut at the antimeridian here, once, so the server only reads and projects. Antarctica is left off,
as on the browser's map (its ring circles the pole, which no cut in the plane can repair).
"""

from __future__ import annotations

import json

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import Polygon

from pipeline.geometry import DROPPED
from pipeline.io import RawDataError, RawDir
from pipeline.keys import iso_codes

DECIMALS = 3  # degrees (~110 m), finer than the files' quantization step (0.0017-0.0036°)
# Geometries without an `id` are matched by properties.name. 110m has the first three; 50m has all
# five. The last two have no ISO code and no data: they keep Natural Earth's ADM0_A3 codes.
BY_NAME = {
    "N. Cyprus": "CYN",
    "Somaliland": "SOL",
    "Kosovo": "XKX",
    "Indian Ocean Ter.": "IOA",
    "Siachen Glacier": "KAS",
}


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Quantized, delta-encoded arcs -> absolute lon/lat arrays."""
    scale = np.asarray(topology["transform"]["scale"], dtype=float)
    translate = np.asarray(topology["transform"]["translate"], dtype=float)
    return [np.cumsum(np.asarray(arc, dtype=float), axis=0) * scale + translate for arc in topology["arcs"]]


def ring(indices: list[int], arcs: list[np.ndarray]) -> list[float]:
    """Arc indices (~i means arc i reversed) -> flat [lon, lat, ...] ring without closing point."""
    pieces = []
    for k, index in enumerate(indices):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        pieces.append(arc if k == 0 else arc[1:])
    points = np.concatenate(pieces)[:-1]
    return [round(float(v), DECIMALS) for v in points.ravel()]


def polygons(geometry: dict, arcs: list[np.ndarray]) -> list[list[list[float]]]:
    """A Polygon or MultiPolygon -> list of polygons, each a list of rings (exterior first), none
    crossing the antimeridian."""
    parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    return [piece for part in parts for piece in cut_at_antimeridian([ring(r, arcs) for r in part])]


def _points(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def _flat(coords: np.ndarray) -> list[float]:
    """A shapely ring's coordinates -> flat [lon, lat, ...] without the closing point."""
    return [round(float(v), DECIMALS) for v in np.asarray(coords)[:-1, :2].ravel()]


def cut_at_antimeridian(rings: list[list[float]]) -> list[list[list[float]]]:
    """One polygon (flat rings, exterior first) as polygons that never cross +-180.

    A ring that steps across the antimeridian is unwrapped to continuous longitudes, the polygon
    is cut at +-180 and each piece shifted back into [-180, 180]. A polygon that does not cross
    is kept as it is; a degenerate one (110m has a two-point ring in North Korea) is dropped.
    """
    arrays = [_points(r) for r in rings]
    if len(np.unique(arrays[0], axis=0)) < 3:
        return []
    if not any(np.abs(np.diff(a[:, 0], append=a[0, 0])).max() > 180 for a in arrays):
        return [rings]
    unwrapped = []
    for points in arrays:
        lon = np.degrees(np.unwrap(np.radians(np.append(points[:, 0], points[0, 0]))))
        if abs(lon[-1] - lon[0]) > 1e-6:
            raise ValueError("a ring circles a pole; only Antarctica does, and it is left off")
        unwrapped.append(np.column_stack([lon[:-1], points[:, 1]]))
    whole = shapely.make_valid(Polygon(unwrapped[0], unwrapped[1:]))
    pieces = []
    for turn in (-360.0, 0.0, 360.0):
        window = shapely.box(-180.0 + turn, -90.0, 180.0 + turn, 90.0)
        part = shapely.affinity.translate(whole.intersection(window), xoff=-turn)
        pieces += [g for g in getattr(part, "geoms", [part]) if isinstance(g, Polygon) and g.area]
    return [[_flat(p.exterior.coords), *(_flat(h.coords) for h in p.interiors)] for p in pieces]


def key(path: str, geometry: dict, alpha3: dict[str, str]) -> str:
    """ISO alpha-3 from the numeric id, else the stated name match."""
    if "id" in geometry:
        if geometry["id"] not in alpha3:
            raise RawDataError(path, None, f"id {geometry['id']!r} is not an ISO numeric code")
        return alpha3[geometry["id"]]
    name = geometry.get("properties", {}).get("name")
    if name not in BY_NAME:
        raise RawDataError(path, None, f"geometry without id named {name!r} has no stated match")
    return BY_NAME[name]


def build(raw: RawDir, path: str) -> dict:
    """One world-atlas file -> {"units": "degrees", "countries": [{iso3, name, polygons}]},
    Antarctica left off.

    A repeated id is merged into one entry: the 50m file has "036" twice (Australia, and Ashmore
    and Cartier Islands), which belong to one ISO entity.
    """
    try:
        topology = json.loads(raw.read_text(path, "utf-8"))
        arcs = decode_arcs(topology)
        geometries = topology["objects"]["countries"]["geometries"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RawDataError(path, None, f"not the expected TopoJSON: {exc}") from None
    alpha3 = {code.numeric: code.alpha3 for code in iso_codes(raw)}
    merged: dict[str, dict] = {}
    for geometry in geometries:
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        code = key(path, geometry, alpha3)
        if code in DROPPED:
            continue
        item = merged.setdefault(code, {"iso3": code, "name": geometry["properties"]["name"], "polygons": []})
        try:
            item["polygons"].extend(polygons(geometry, arcs))
        except ValueError as exc:
            raise RawDataError(path, None, f"{code}: {exc}") from None
    return {"units": "degrees", "countries": [merged[k] for k in sorted(merged)]}
