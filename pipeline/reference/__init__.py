"""Reviewed reference tables (hand-checked CSV files beside this module).

Each CSV starts with '#' comment lines that say what it holds and how it was reviewed. They are
reference data, not measurements: they map names and codes between sources.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.io import RawDataError, decode, parse_csv

HERE = Path(__file__).parent


def load(name: str, columns: list[str], key: str) -> pd.DataFrame:
    """Read one reviewed table as strings, checking its columns and that `key` is unique."""
    rel = f"pipeline/reference/{name}"
    text = decode(rel, (HERE / name).read_bytes(), "utf-8")
    # Blank out comment lines rather than drop them, so error messages keep the file's line numbers.
    body = "".join("\n" if line.startswith("#") else line for line in text.splitlines(keepends=True))
    table = parse_csv(rel, body)
    if table.header != columns:
        raise RawDataError(rel, None, f"columns {table.header}, expected {columns}")
    frame = table.frame()
    table.check_unique(frame[key], key)
    return frame


def countries() -> pd.DataFrame:
    """Display names, search aliases, and hand-assigned continent/region."""
    return load("countries.csv", ["iso3", "name", "aliases", "continent", "region"], "iso3")


def fao_areas() -> pd.DataFrame:
    """FAOSTAT area code -> ISO3 ('' for historical entities, totals and parts)."""
    return load("fao_areas.csv", ["fao_code", "fao_area", "iso3", "note"], "fao_code")


def indicators() -> pd.DataFrame:
    """The 12 World Bank indicators: short name, unit, exact file name, compiler, licence."""
    return load("indicators.csv", ["code", "short_name", "unit", "name", "compiler", "licence"], "code")


def seed_names() -> pd.DataFrame:
    """tdiff4.csv country names -> ISO3."""
    return load("seed_names.csv", ["seed_name", "iso3", "note"], "seed_name")
