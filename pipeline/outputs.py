"""The output contract of data/precomputed/: file names, columns, keys, and the size budget.

The app is written against these names. Every frame is checked here, in memory, before any file is
written, so a run that would break the contract changes nothing on disk.
"""

from __future__ import annotations

import json

import pandas as pd

from pipeline.io import csv_bytes, gzip_bytes
from pipeline.periods import YEARS

BUDGET_BYTES = 3 * 1024 * 1024
GEOMETRY_BUDGET_BYTES = 300 * 1024

# file name -> (columns, key columns the rows are unique and sorted by)
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "temperature.csv.gz": (["iso3", "year", "anomaly"], ["iso3", "year"]),
    # FAOSTAT's seasons and months (pipeline/seasons.py), one row per country and season, a column
    # per year ('' where FAOSTAT has no value): half the bytes of one row per year. The annual
    # series is temperature.csv.gz.
    "seasons.csv.gz": (["iso3", "season", *map(str, YEARS.range())], ["iso3", "season"]),
    "world_temperature.csv": (["year", "anomaly"], ["year"]),
    "warming.csv": (
        [
            "iso3",
            "season",  # the manifest's seasons: "annual", then FAOSTAT's seasons and months
            "recent_mean",  # over the manifest's periods.recent_mean
            "mean_first",
            "mean_last",
            "mean_n",
            "trend_per_decade",
            "trend_first",
            "trend_last",
            "trend_n",
            "sd",  # FAOSTAT's 1951-1980 standard deviation, °C
        ],
        ["iso3", "season"],
    ),
    "baselines.csv.gz": (
        ["iso3", "season", "base_first", "base_last", "mean", "n"],
        ["iso3", "season", "base_first"],
    ),
    "countries.csv": (
        [
            "iso3",
            "name",
            "aliases",
            "iso2",
            "continent",
            "region",
            "temperature_source",
            "has_geometry",
            "indicator_count",
        ],
        ["iso3"],
    ),
    "indicators.csv.gz": (["code", "iso3", "year", "value"], ["code", "iso3", "year"]),
    "world_indicators.csv": (["code", "year", "value"], ["code", "year"]),
    "indicator_meta.csv": (
        ["code", "short_name", "unit", "name", "compiler", "licence", "last_updated", "source_url"],
        ["code"],
    ),
    "seed_tdiff.csv": (["iso3", "seed_name", "tempchange"], ["iso3"]),
}
GEOMETRY = "geometry.json"
MANIFEST = "manifest.json"


def check_table(name: str, frame: pd.DataFrame) -> None:
    """Exact columns, no missing cells, keys unique and in sorted order."""
    columns, key = TABLES[name]
    if list(frame.columns) != columns:
        raise AssertionError(f"{name}: columns {list(frame.columns)}, contract says {columns}")
    if frame.isna().any().any():
        raise AssertionError(f"{name}: has missing cells (write '' for an empty value)")
    keys = frame[key].astype(str).agg("\x1f".join, axis=1) if len(key) > 1 else frame[key[0]]
    if keys.duplicated().any():
        raise AssertionError(f"{name}: duplicate key {keys[keys.duplicated()].iloc[0]!r}")
    if not frame.equals(frame.sort_values(key, kind="stable")):
        raise AssertionError(f"{name}: rows are not sorted by {key}")


def encode_table(name: str, frame: pd.DataFrame) -> bytes:
    """Checked CSV bytes, gzipped when the name ends in .gz."""
    check_table(name, frame)
    data = csv_bytes(frame.astype(str))
    return gzip_bytes(data) if name.endswith(".gz") else data


def encode_json(content: dict, indent: int | None = None) -> bytes:
    """Key-order-stable UTF-8 JSON with a final newline; compact unless meant for people to read."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(content, ensure_ascii=False, indent=indent, separators=separators)
    return (text + "\n").encode("utf-8")


def check_budget(files: dict[str, bytes]) -> None:
    """data/precomputed/ stays under 3 MB, the geometry under 300 KB."""
    total = sum(len(data) for data in files.values())
    if total > BUDGET_BYTES:
        raise AssertionError(f"outputs total {total} bytes, budget {BUDGET_BYTES}")
    if len(files[GEOMETRY]) > GEOMETRY_BUDGET_BYTES:
        raise AssertionError(f"{GEOMETRY} is {len(files[GEOMETRY])} bytes, budget {GEOMETRY_BUDGET_BYTES}")
