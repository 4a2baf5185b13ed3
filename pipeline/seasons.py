"""Seasons and months: FAOSTAT's anomalies per meteorological season and calendar month.

FAOSTAT publishes, per area and year, the anomaly of each calendar month, of each meteorological
season (Dec–Jan–Feb, Mar–Apr–May, Jun–Jul–Aug, Sep–Oct–Nov) and of the meteorological year, all
against 1951-1980, and per area and month or season the standard deviation over 1951-1980 (element
6078): the spread that says how unusual an anomaly is. Annual keeps temperature.py's one-source rule
(IMF first); seasons and months exist only in FAOSTAT, so they end where its release ends (2020).
The season keys below are the link's `season=`; the labels are FAOSTAT's own words.
"""

from __future__ import annotations

import pandas as pd

from pipeline.io import RawDataError
from pipeline.sources import FAO_TEMPERATURE

ANNUAL = "annual"
ANNUAL_LABEL = "Annual"
FAO_ANNUAL_MONTHS = "7020"  # "Meteorological year"
FAO_CHANGE_ELEMENT = "7271"  # "Temperature change"
FAO_SD_ELEMENT = "6078"  # "Standard Deviation" of the 1951-1980 base
# season key -> FAOSTAT Months Code, in the selector's order: the seasons, then the months
SEASONS: dict[str, str] = {
    "djf": "7016", "mam": "7017", "jja": "7018", "son": "7019",
    "jan": "7001", "feb": "7002", "mar": "7003", "apr": "7004", "may": "7005", "jun": "7006",
    "jul": "7007", "aug": "7008", "sep": "7009", "oct": "7010", "nov": "7011", "dec": "7012",
}
KEY_OF = {code: key for key, code in SEASONS.items()} | {FAO_ANNUAL_MONTHS: ANNUAL}


def wide(seasonal: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """seasons.csv.gz: `series` as one row per country and season with a column per year of
    `columns` (after iso3 and season), '' where there is no value."""
    table = seasonal.pivot(index=["iso3", "season"], columns="year", values="anomaly")
    table.columns = table.columns.astype(str)
    return table.reindex(columns=columns[2:]).fillna("").reset_index()


def series(fao: pd.DataFrame) -> pd.DataFrame:
    """Every country's seasonal and monthly anomalies: iso3, season, year, anomaly (text as
    published), value (°C against 1951-1980). `fao` is temperature.Temperature.fao."""
    rows = fao[fao["months"].isin(SEASONS.values()) & (fao["element"] == FAO_CHANGE_ELEMENT)]
    rows = rows.assign(season=rows["months"].map(KEY_OF))
    return rows[["iso3", "season", "year", "anomaly", "value"]].sort_values(
        ["iso3", "season", "year"]).reset_index(drop=True)


def spread(fao: pd.DataFrame) -> pd.DataFrame:
    """FAOSTAT's 1951-1980 standard deviation per country and season (annual included): iso3,
    season, sd (text as published, °C). FAOSTAT repeats the one value in every year column."""
    rows = fao[fao["element"] == FAO_SD_ELEMENT]
    values = rows.groupby(["iso3", "months"])["anomaly"].agg(lambda cells: sorted(set(cells)))
    varying = values[values.map(len) > 1]
    if len(varying):
        (iso3, code), cells = next(iter(varying.items()))
        raise RawDataError(FAO_TEMPERATURE, None, f"Standard Deviation of {iso3} for Months Code "
                           f"{code} differs between years ({', '.join(cells[:3])})")
    return pd.DataFrame({"iso3": [iso3 for iso3, _ in values.index],
                         "season": [KEY_OF[code] for _, code in values.index],
                         "sd": [cells[0] for cells in values]})


def manifest(labels: dict[str, str], seasonal: pd.DataFrame,
             annual_years: tuple[int, int]) -> list[dict]:
    """The manifest's "seasons": key, label, source and [first, last] year, annual first.
    `labels` are FAOSTAT's Months (code -> words); a season it lacks stops the run."""
    missing = [code for code in SEASONS.values() if code not in labels]
    if missing:
        raise RawDataError(FAO_TEMPERATURE, None, f"Months Code {missing[0]} "
                           f"({KEY_OF[missing[0]]}) is missing")
    years = [int(seasonal["year"].min()), int(seasonal["year"].max())]
    return [{"key": ANNUAL, "label": ANNUAL_LABEL, "source": "IMF, FAOSTAT where the IMF has "
             "too few years", "years": list(annual_years)}] + [
        {"key": key, "label": labels[code], "source": "FAOSTAT", "years": years}
        for key, code in SEASONS.items()]
