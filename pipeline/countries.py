"""The country table: display name, search aliases, ISO2 code, continent/region, and which data each has.

Names and aliases come from the one reviewed table (pipeline/reference/countries.csv). Continent and
region come from the seed's 241-entity centroids file, keyed by iso_a3 through pipeline.keys, never
by wb_a3 (seven of its codes are legacy: ROM, ZAR, TMP, KSV, WBG, ADO, IMY).
Entities that file lacks get theirs by hand in the reviewed table.
"""

from __future__ import annotations

import pandas as pd

from pipeline import reference
from pipeline.io import RawDataError, RawDir, parse_csv
from pipeline.keys import iso_codes, natural_earth_key
from pipeline.outputs import TABLES
from pipeline.sources import CENTROIDS

COLUMNS = TABLES["countries.csv"][0]
REFERENCE = "pipeline/reference/countries.csv"


def read_regions(raw: RawDir) -> pd.DataFrame:
    """Centroids file -> (key, continent, region) with region = the UN subregion."""
    table = parse_csv(CENTROIDS, raw.read_text(CENTROIDS, "utf-8"))
    table.require(["iso_a3", "adm0_a3", "continent", "subregion"])
    frame = table.frame()
    keys = pd.Series(
        [
            natural_earth_key(i.strip(), a.strip())
            for i, a in zip(frame["iso_a3"], frame["adm0_a3"], strict=True)
        ]
    )
    table.check_unique(keys, "country key (iso_a3, else adm0_a3)")
    return pd.DataFrame({"key": keys, "continent": frame["continent"], "region": frame["subregion"]})


def regions_for(entities: list[str], table: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Continent and region per entity: from the centroids file, else from the reviewed table.

    An entity must get them from exactly one place, so a hand value can never hide a file value.
    """
    from_file = regions.set_index("key")
    by_hand = table.set_index("iso3")
    rows = []
    for iso3 in entities:
        hand = by_hand.loc[iso3, ["continent", "region"]].tolist()
        in_file = iso3 in from_file.index
        if in_file == any(hand):
            where = "both the centroids file and" if in_file else "neither the centroids file nor"
            raise RawDataError(REFERENCE, None, f"{iso3}: continent/region in {where} this table")
        rows.append(from_file.loc[iso3, ["continent", "region"]].tolist() if in_file else hand)
    return pd.DataFrame(rows, columns=["continent", "region"], index=entities)


def build(
    raw: RawDir,
    sources: dict[str, str],
    geometry: set[str],
    indicator_counts: dict[str, int],
    seed_iso3: set[str],
) -> tuple[pd.DataFrame, list[str]]:
    """countries.csv, and the centroid keys that match no entity (for the manifest)."""
    table = reference.countries()
    entities = sorted(set(sources) | geometry | set(indicator_counts) | seed_iso3)
    unknown = sorted(set(entities) - set(table["iso3"]))
    if unknown:
        raise RawDataError(REFERENCE, None, f"no reviewed name for {unknown}")
    regions = read_regions(raw)
    picked = table.set_index("iso3").loc[entities, ["name", "aliases"]]
    out = picked.join(regions_for(entities, table, regions))
    # ISO2 codes let an uploaded file name countries the way many spreadsheets do ("FR", "DE");
    # entities outside ISO 3166-1 (Kosovo's XKX, the seed's SOL) have none.
    alpha2 = {code.alpha3: code.alpha2 for code in iso_codes(raw)}
    out["iso2"] = [alpha2.get(e, "") for e in entities]
    out["temperature_source"] = [sources.get(e, "") for e in entities]
    out["has_geometry"] = [str(e in geometry) for e in entities]
    out["indicator_count"] = [str(indicator_counts.get(e, 0)) for e in entities]
    out = out.rename_axis("iso3").reset_index()[COLUMNS]
    unmatched = sorted(set(regions["key"]) - set(entities))
    return out, unmatched
