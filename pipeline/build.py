"""The whole run: read and check every raw file, build every output in memory, then write.

Nothing is written until every output has been built and checked, and each file is replaced
atomically, so a malformed raw file leaves the previous outputs byte-for-byte intact.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline import (
    countries,
    geometry,
    indicators,
    manifest,
    outputs,
    periods,
    seasons,
    seed,
    temperature,
    warming,
    worldatlas,
)
from pipeline.io import RawDir, write_atomic
from pipeline.sources import NE_VERSION, WORLD_ATLAS_50M, WORLD_ATLAS_110M

SERVER_FILES = {
    "countries-110m-lonlat.json": WORLD_ATLAS_110M,
    "countries-50m-lonlat.json": WORLD_ATLAS_50M,
}


def world_series(world: pd.DataFrame) -> pd.DataFrame:
    """The IMF's World row as an annual series (iso3 WLD), so the chart's world line re-bases too."""
    return world.assign(iso3=temperature.WORLD, season=seasons.ANNUAL,
                        value=world["anomaly"].astype(float))


def build(raw: RawDir) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """All outputs as bytes: (data/precomputed files, data/server files)."""
    temp = temperature.build(raw)
    wdi = indicators.build(raw)
    tdiff, seed_unmatched = seed.build(raw)
    counts = wdi.values.groupby("iso3")["code"].nunique().to_dict()
    features = geometry.read_features(raw)
    geometry.check_keys(features, set(temp.source) | set(counts) | set(tdiff["iso3"]))
    shapes = {f.iso3 for f in features}
    table, centroid_unmatched = countries.build(raw, temp.source, shapes, counts, set(tdiff["iso3"]))
    names = dict(zip(table["iso3"], table["name"], strict=True))
    seasonal = seasons.series(temp.fao)
    every_season = pd.concat([temp.series.assign(season=seasons.ANNUAL), seasonal])

    frames = {
        "temperature.csv.gz": temp.series[["iso3", "year", "anomaly"]],
        "seasons.csv.gz": seasons.wide(seasonal, outputs.TABLES["seasons.csv.gz"][0]),
        "world_temperature.csv": temp.world,
        "warming.csv": warming.build(every_season, seasons.spread(temp.fao)),
        "baselines.csv.gz": warming.baselines(pd.concat([every_season, world_series(temp.world)])),
        "countries.csv": table,
        "indicators.csv.gz": wdi.values,
        "world_indicators.csv": wdi.world,
        "indicator_meta.csv": wdi.meta,
        "seed_tdiff.csv": tdiff,
    }
    files = {name: outputs.encode_table(name, frame) for name, frame in frames.items()}
    rows = {name: len(frame) for name, frame in frames.items()}
    shapes_json = geometry.build(features, names)
    files[outputs.GEOMETRY] = outputs.encode_json(shapes_json)
    rows[outputs.GEOMETRY] = len(shapes_json["countries"])

    server = {name: worldatlas.build(raw, path) for name, path in SERVER_FILES.items()}
    server_files = {name: outputs.encode_json(content) for name, content in server.items()}
    server_rows = {name: len(content["countries"]) for name, content in server.items()}

    releases = {NE_VERSION: raw.read_text(NE_VERSION, "ascii").strip(), **wdi.last_updated}
    content = manifest.build(
        raw.read_log,
        releases,
        files,
        rows,
        server_files,
        server_rows,
        temp.crosscheck,
        {**periods.manifest(), "seasons": seasons.manifest(
            temp.fao_months, seasonal, (int(temp.series["year"].min()), int(temp.series["year"].max())))},
        unmatched={
            "seed_tdiff": seed_unmatched,
            "centroids": centroid_unmatched,
            "faostat_areas": temp.fao_unmatched,
        },
        notes={
            "temperature_series_by_source": dict(sorted(Counter(temp.source.values()).items())),
            "faostat_series": sorted(k for k, v in temp.source.items() if v == "FAOSTAT"),
            "indicator_aggregates_dropped": wdi.aggregates,
        },
    )
    files[outputs.MANIFEST] = outputs.encode_json(content, indent=1)
    outputs.check_budget(files)
    return files, server_files


def run(raw_dir: Path, out_dir: Path, server_dir: Path) -> dict[str, bytes]:
    """Build everything, then write it; returns what was written under out_dir."""
    files, server_files = build(RawDir(raw_dir))
    for name, data in files.items():
        write_atomic(out_dir / name, data)
    for name, data in server_files.items():
        write_atomic(server_dir / name, data)
    return files
