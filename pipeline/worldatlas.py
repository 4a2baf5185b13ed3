"""Server-only lon/lat country rings from world-atlas TopoJSON (110m and the 50m "detail" mode).

The server reprojects these with cartopy, which cannot start from shapes already in Equal Earth, so
they stay in degrees. TopoJSON arcs are decoded here (quantized, delta-encoded), so no topojson
library is needed. Keys: `id` is the ISO 3166-1 numeric code, mapped to alpha-3 through
iso-codes/codes.json. Not counted in the data budget (these files live in data/server/).
"""

from __future__ import annotations

import json

import numpy as np

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
    """A Polygon or MultiPolygon -> list of polygons, each a list of rings (exterior first)."""
    parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    return [[ring(r, arcs) for r in part] for part in parts]


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
    """One world-atlas file -> {"units": "degrees", "countries": [{iso3, name, polygons}]}.

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
        item = merged.setdefault(code, {"iso3": code, "name": geometry["properties"]["name"], "polygons": []})
        item["polygons"].extend(polygons(geometry, arcs))
    return {"units": "degrees", "countries": [merged[k] for k in sorted(merged)]}
