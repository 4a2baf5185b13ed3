"""Yearly temperature anomaly per country: one source per series, IMF first, FAOSTAT as fallback.

DESIGN.md section 3: the IMF series where it has at least 20 of the years of periods.TREND; otherwise
FAOSTAT's where that has at least 20; otherwise the IMF's as far as it goes. The two are different
releases of the same FAO series, so they are never mixed within one country; where both exist they
are cross-checked and countries whose median |difference| exceeds the tolerance are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline import reference
from pipeline.io import RawDataError, RawDir, Table, parse_csv, year_columns
from pipeline.periods import BASE, SOURCE_MIN_YEARS, TREND, YEARS
from pipeline.seasons import FAO_ANNUAL_MONTHS, FAO_CHANGE_ELEMENT, FAO_SD_ELEMENT, KEY_OF
from pipeline.sources import FAO_TEMPERATURE, IMF_TEMPERATURE

TOLERANCE_C = 0.35
WORLD = "WLD"
FAO_AGGREGATES_FROM = 5000  # FAO area codes from 5000 up are regions and groups
FAO_UNIT = "°C"
IMF_UNIT = "Degree Celsius"


@dataclass
class Temperature:
    """Country series (iso3, year, anomaly as published text, value), sources, the world row."""

    series: pd.DataFrame
    source: dict[str, str]
    world: pd.DataFrame
    crosscheck: dict
    fao_unmatched: list[str]
    fao: pd.DataFrame  # every FAOSTAT cell of a country: iso3, months, element, year, anomaly, value
    fao_months: dict[str, str]  # FAOSTAT's Months Code -> its words ("7016" -> "Dec–Jan–Feb")


def long_form(table: Table, frame: pd.DataFrame, keys: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """Wide year columns -> rows (the key columns, year, anomaly text, value) for the cells with a
    value."""
    key_columns = {name: column.to_numpy() for name, column in keys.items()}
    values = table.numbers(frame[years]).assign(**key_columns)
    text = frame[years].apply(lambda col: col.str.strip()).assign(**key_columns)
    out = text.melt(id_vars=list(keys.columns), var_name="year", value_name="anomaly")
    out["value"] = values.melt(id_vars=list(keys.columns))["value"].to_numpy()
    out["year"] = out["year"].str[-4:].astype(int)
    out = out[(out["anomaly"] != "") & out["year"].between(*YEARS)]
    return out.reset_index(drop=True)


def read_imf(raw: RawDir) -> pd.DataFrame:
    """IMF file -> long rows keyed by ISO3 (WLD included)."""
    table = parse_csv(IMF_TEMPERATURE, raw.read_text(IMF_TEMPERATURE, "utf-8"))
    table.require(["ISO3", "Indicator", "Unit"])
    years = year_columns(table, "F")
    frame = table.frame()
    iso3 = frame["ISO3"].str.strip()
    base = f"corresponding to the period {BASE.first}-{BASE.last}"  # what the manifest tells the app
    table.expect(frame["Indicator"].str.endswith(base),
                 lambda i: f"Indicator {frame['Indicator'].iat[i]!r}, expected a base period {base!r}")
    table.expect(
        iso3.str.fullmatch(r"[A-Z]{3}"), lambda i: f"ISO3 {frame['ISO3'].iat[i]!r} is not a three-letter code"
    )
    table.expect(frame["Unit"] == IMF_UNIT, lambda i: f"Unit {frame['Unit'].iat[i]!r}, expected {IMF_UNIT!r}")
    table.check_unique(iso3, "ISO3")
    return long_form(table, frame, pd.DataFrame({"iso3": iso3}), years)


def read_fao(raw: RawDir) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """FAOSTAT file -> (long rows of every country's months, seasons and year, both elements:
    iso3, months, element, year, anomaly text, value; names of areas without an ISO3; Months Code
    -> Months)."""
    table = parse_csv(FAO_TEMPERATURE, raw.read_text(FAO_TEMPERATURE, "cp1252"))
    table.require(["Area Code", "Area", "Months Code", "Months", "Element Code", "Element", "Unit"])
    years = year_columns(table, "Y")
    frame = table.frame()
    table.check_unique(frame[["Area Code", "Months Code", "Element Code"]], "area/month/element")
    table.expect(
        frame["Unit"] == FAO_UNIT,
        lambda i: f"Unit {frame['Unit'].iat[i]!r}, expected {FAO_UNIT!r}: is the file not cp1252?",
    )
    months, element = frame["Months Code"].str.strip(), frame["Element Code"].str.strip()
    table.expect(months.isin(KEY_OF), lambda i: f"Months Code {months.iat[i]} "
                 f"{frame['Months'].iat[i]!r} is not a month, season or the meteorological year")
    table.expect(element.isin([FAO_CHANGE_ELEMENT, FAO_SD_ELEMENT]),
                 lambda i: f"Element Code {element.iat[i]} {frame['Element'].iat[i]!r} is not "
                 "Temperature change or Standard Deviation")
    annual = (months == FAO_ANNUAL_MONTHS) & (element == FAO_CHANGE_ELEMENT)
    table.numbers(frame[years])  # every cell must be numeric, not only the annual rows used
    iso3 = area_iso3(table, frame)
    keep = iso3 != ""
    keys = pd.DataFrame({"iso3": iso3, "months": months, "element": element})[keep]
    rows = long_form(table, frame[keep].reset_index(drop=True), keys.reset_index(drop=True), years)
    unmatched = frame.loc[annual & (iso3 == "") & (frame["Area Code"].astype(int) < FAO_AGGREGATES_FROM)]
    return rows, sorted(unmatched["Area"]), dict(zip(months, frame["Months"].str.strip(), strict=True))


def fao_annual(fao: pd.DataFrame) -> pd.DataFrame:
    """FAOSTAT's meteorological-year anomalies: iso3, year, anomaly, value."""
    annual = (fao["months"] == FAO_ANNUAL_MONTHS) & (fao["element"] == FAO_CHANGE_ELEMENT)
    return fao.loc[annual, ["iso3", "year", "anomaly", "value"]].reset_index(drop=True)


def area_iso3(table: Table, frame: pd.DataFrame) -> pd.Series:
    """ISO3 per FAOSTAT row ('' for aggregates and areas without an ISO entity).

    Every non-aggregate area must be in the reviewed table under the same name, so a new or
    renamed area stops the pipeline for review instead of silently losing or mis-keying a country.
    """
    areas = reference.fao_areas()
    mapped = areas.loc[areas["iso3"] != "", "iso3"]
    if mapped.duplicated().any():
        raise RawDataError("pipeline/reference/fao_areas.csv", None, "an ISO3 is mapped twice")
    by_code = areas.set_index("fao_code")
    codes = frame["Area Code"].str.strip()
    table.expect(
        codes.str.fullmatch(r"\d+"), lambda i: f"Area Code {frame['Area Code'].iat[i]!r} is not a number"
    )
    out = pd.Series("", index=frame.index)
    for i, (code, area) in enumerate(zip(codes, frame["Area"], strict=True)):
        if int(code) >= FAO_AGGREGATES_FROM:
            continue
        if code not in by_code.index:
            raise table.error(i, f"area {code} {area!r} is not in pipeline/reference/fao_areas.csv")
        reviewed = by_code.at[code, "fao_area"]
        if reviewed != area:
            raise table.error(i, f"area {code} is {area!r}, the reviewed table says {reviewed!r}")
        out.iat[i] = by_code.at[code, "iso3"]
    return out


def coverage(series: pd.DataFrame) -> pd.Series:
    """Years with a value inside the trend window, per ISO3."""
    inside = series[series["year"].isin(TREND.range())]
    return inside.groupby("iso3")["year"].nunique()


def choose_sources(imf: pd.DataFrame, fao: pd.DataFrame) -> dict[str, str]:
    """Apply the one-source rule to every ISO3 present in either file."""
    imf_n, fao_n = coverage(imf), coverage(fao)
    chosen: dict[str, str] = {}
    for iso3 in sorted(set(imf["iso3"]) | set(fao["iso3"])):
        if imf_n.get(iso3, 0) >= SOURCE_MIN_YEARS:
            chosen[iso3] = "IMF"
        elif fao_n.get(iso3, 0) >= SOURCE_MIN_YEARS:
            chosen[iso3] = "FAOSTAT"
        elif iso3 in set(imf["iso3"]):
            chosen[iso3] = "IMF"
    return chosen


def crosscheck(imf: pd.DataFrame, fao: pd.DataFrame) -> dict:
    """Per-country median |IMF - FAOSTAT| over shared years; outliers above the tolerance.

    The largest median is reported too, so an empty outlier list still shows how close they are.
    """
    both = imf.merge(fao, on=["iso3", "year"], suffixes=("_imf", "_fao"))
    diff = (both["value_imf"] - both["value_fao"]).abs().groupby(both["iso3"])
    stats = pd.DataFrame({"median": diff.median(), "n": diff.size()})

    def entry(iso3: str) -> dict:
        return {
            "iso3": iso3,
            "median_abs_diff": round(float(stats.at[iso3, "median"]), 4),
            "n_years": int(stats.at[iso3, "n"]),
        }

    return {
        "tolerance_c": TOLERANCE_C,
        "countries_compared": int(len(stats)),
        "outliers": [entry(iso3) for iso3 in stats.index[stats["median"] > TOLERANCE_C]],
        "largest": entry(str(stats["median"].idxmax())),
    }


def build(raw: RawDir) -> Temperature:
    """Read both files, pick one source per country, keep WLD aside."""
    imf_all = read_imf(raw)
    fao_all, fao_unmatched, fao_months = read_fao(raw)
    fao = fao_annual(fao_all)
    world = imf_all[imf_all["iso3"] == WORLD][["year", "anomaly"]].reset_index(drop=True)
    imf = imf_all[imf_all["iso3"] != WORLD]
    source = choose_sources(imf, fao)
    from_imf = imf[imf["iso3"].map(source) == "IMF"]
    from_fao = fao[fao["iso3"].map(source) == "FAOSTAT"]
    series = pd.concat([from_imf, from_fao]).sort_values(["iso3", "year"]).reset_index(drop=True)
    return Temperature(series, source, world, crosscheck(imf, fao), fao_unmatched, fao_all, fao_months)
