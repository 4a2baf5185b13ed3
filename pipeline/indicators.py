"""The 12 World Bank WDI files -> long rows (code, iso3, year, value); aggregates out, WLD aside.

The files come from different WDI releases, so they differ in width (last year 2021, 2022 or 2024)
and line endings: the first four columns and a contiguous run of years are validated, not a fixed
header. They carry no unit or compiler: those come from the reviewed table, which is checked
against each file's "Indicator Name".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pipeline import reference
from pipeline.io import RawDataError, RawDir, Table, parse_csv, year_columns
from pipeline.keys import iso_codes
from pipeline.sources import WORLDBANK_GLOB

KEY_COLUMNS = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]
PREAMBLE_LINES = 4  # "Data Source", blank, "Last Updated Date", blank
WORLD = "WLD"
NON_ISO_ECONOMIES = {"XKX", "CHI"}  # World Bank codes for Kosovo and the Channel Islands
SOURCE_URL = "https://data.worldbank.org/indicator/"
DATE = r"\d{4}-\d{2}-\d{2}"


@dataclass
class Indicators:
    """Country rows, world rows, the metadata table, and the aggregate codes that were dropped."""

    values: pd.DataFrame
    world: pd.DataFrame
    meta: pd.DataFrame
    aggregates: list[str]
    last_updated: dict[str, str]


def last_updated(path: str, text: str) -> str:
    """The "Last Updated Date" from line 3 of a WDI file."""
    lines = text.splitlines()
    fields = parse_csv(path, lines[2]).header if len(lines) > 2 and lines[2] else []
    if len(fields) < 2 or fields[0] != "Last Updated Date" or not re.fullmatch(DATE, fields[1]):
        raise RawDataError(path, 3, 'expected "Last Updated Date","YYYY-MM-DD"')
    return fields[1]


def read_file(path: str, text: str, reviewed: pd.DataFrame) -> tuple[str, list[str], pd.DataFrame]:
    """One WDI file -> (indicator code, its Country Codes, long rows with a value)."""
    table = parse_csv(path, text, PREAMBLE_LINES)
    if table.header[:4] != KEY_COLUMNS:
        raise table.error(None, f"first columns are {table.header[:4]}, expected {KEY_COLUMNS}")
    years = year_columns(table, "")
    if table.header.index(years[0]) != len(KEY_COLUMNS):
        raise table.error(None, f"year columns must follow {KEY_COLUMNS[-1]!r}")
    trailing = table.header[4 + len(years) :]
    if any(trailing):
        raise table.error(None, f"unexpected columns after the years: {trailing}")
    frame = table.frame()
    code = check_indicator(table, frame, reviewed)
    iso3 = frame["Country Code"].str.strip()
    table.expect(
        iso3.str.fullmatch(r"[A-Z0-9]{3}"),
        lambda i: f"Country Code {frame['Country Code'].iat[i]!r} is not a three-character code",
    )
    table.check_unique(iso3, "Country Code")
    values = table.numbers(frame[years]).assign(iso3=iso3.to_numpy())
    text_cells = frame[years].apply(lambda col: col.str.strip()).assign(iso3=iso3.to_numpy())
    rows = text_cells.melt(id_vars="iso3", var_name="year", value_name="value")
    rows = rows[values.melt(id_vars="iso3")["value"].notna().to_numpy()]
    return code, list(iso3), rows.assign(code=code, year=rows["year"].astype(int))


def check_indicator(table: Table, frame: pd.DataFrame, reviewed: pd.DataFrame) -> str:
    """The file's single indicator code, whose name must equal the reviewed table's."""
    codes = frame["Indicator Code"].unique()
    if len(codes) != 1:
        raise table.error(None, f"more than one Indicator Code: {sorted(codes)}")
    code = str(codes[0])
    known = reviewed.set_index("code")
    if code not in known.index:
        raise table.error(0, f"indicator {code!r} is not in pipeline/reference/indicators.csv")
    expected = known.at[code, "name"]
    table.expect(
        frame["Indicator Name"] == expected,
        lambda i: f"Indicator Name {frame['Indicator Name'].iat[i]!r}, reviewed name is {expected!r}",
    )
    return code


def check_same_economies(economies: dict[str, set[str]]) -> None:
    """All files must list the same Country Codes, so one aggregate rule fits them all."""
    first_path, first = next(iter(economies.items()))
    for path, codes in economies.items():
        if codes != first:
            diff = sorted(codes ^ first)
            raise RawDataError(path, None, f"Country Codes differ from {first_path}'s: {diff}")


def build(raw: RawDir) -> Indicators:
    """Read every WDI file; split countries, the world row and aggregates; attach metadata."""
    reviewed = reference.indicators()
    iso = {code.alpha3 for code in iso_codes(raw)} | NON_ISO_ECONOMIES
    parts, dates, releases, economies = [], {}, {}, {}
    for path in raw.glob(WORLDBANK_GLOB):
        text = raw.read_text(path, "utf-8")
        code, codes, rows = read_file(path, text, reviewed)
        if code in dates:
            raise RawDataError(path, None, f"a second file for indicator {code}")
        economies[path] = set(codes)
        dates[code] = releases[path] = last_updated(path, text)
        parts.append(rows)
    missing = sorted(set(reviewed["code"]) - set(dates))
    if missing:
        raise RawDataError("worldbank/", None, f"no file for reviewed indicators {missing}")
    check_same_economies(economies)
    rows = pd.concat(parts, ignore_index=True)
    aggregate = ~rows["iso3"].isin(iso)
    world = rows[rows["iso3"] == WORLD].sort_values(["code", "year"])
    values = rows[~aggregate].sort_values(["code", "iso3", "year"])
    meta = reviewed.assign(
        last_updated=reviewed["code"].map(dates), source_url=SOURCE_URL + reviewed["code"]
    ).sort_values("code")
    return Indicators(
        values=values[["code", "iso3", "year", "value"]].reset_index(drop=True),
        world=world[["code", "year", "value"]].reset_index(drop=True),
        meta=meta.reset_index(drop=True),
        aggregates=sorted(set().union(*economies.values()) - iso),
        last_updated=releases,
    )
