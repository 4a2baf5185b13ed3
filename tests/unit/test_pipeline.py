"""The pipeline's outputs: values equal the raw cells, counts, keys, pinned lists, determinism.

One fresh run per session (a subprocess, as `make data` runs it) into a temp folder; the committed
data/precomputed/ must equal it byte for byte. The module's tests run in one test process (`make
unit` distributes by xdist_group), so that run is made once, not once per process.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from pipeline import geometry, temperature, warming
from pipeline.io import RawDataError

pytestmark = pytest.mark.xdist_group("pipeline")
ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT.parent / "shared" / "data" / "raw"
COMMITTED = ROOT / "data" / "precomputed"
COMMITTED_SERVER = ROOT / "data" / "server"
IMF = RAW / "imf" / "Annual_Surface_Temperature_Change.csv"
FAO = RAW / "faostat" / "Environment_Temperature_change_E_All_Data_NOFLAG.csv"
OUTPUTS = [
    "baselines.csv.gz",
    "countries.csv",
    "geometry.json",
    "indicator_meta.csv",
    "indicators.csv.gz",
    "manifest.json",
    "seasons.csv.gz",
    "seed_tdiff.csv",
    "temperature.csv.gz",
    "warming.csv",
    "world_indicators.csv",
    "world_temperature.csv",
]
SERVER_OUTPUTS = ["countries-110m-lonlat.json", "countries-50m-lonlat.json"]
# Runs the real entry point and proves the pipeline never imports Panel.
RUNNER = (
    "import sys\n"
    "from pipeline.__main__ import main\n"
    "rc = main(sys.argv[1:])\n"
    "assert 'panel' not in sys.modules, 'the pipeline imported panel'\n"
    "sys.exit(rc)\n"
)


def run_pipeline(out: Path) -> dict[str, bytes]:
    """Run the pipeline in a subprocess into out/precomputed and out/server; return all bytes."""
    args = [
        "--raw",
        str(RAW),
        "--out",
        str(out / "precomputed"),
        "--server-out",
        str(out / "server"),
    ]
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    files = {p.name: p.read_bytes() for p in (out / "precomputed").iterdir()}
    files |= {f"server/{p.name}": p.read_bytes() for p in (out / "server").iterdir()}
    return files


@pytest.fixture(scope="session")
def fresh(tmp_path_factory) -> dict[str, bytes]:
    return run_pipeline(tmp_path_factory.mktemp("pipeline-run"))


def rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    data = files[name]
    text = (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def annual(files: dict[str, bytes]) -> list[dict[str, str]]:
    """warming.csv's annual rows: one per country with a yearly series."""
    return [r for r in rows(files, "warming.csv") if r["season"] == "annual"]


def raw_rows(path: Path, encoding: str, skip: int = 0) -> list[dict[str, str]]:
    text = path.read_text(encoding=encoding)
    return list(csv.DictReader(io.StringIO("".join(text.splitlines(keepends=True)[skip:]))))


def wdi_file(code: str) -> Path:
    (path,) = (RAW / "worldbank").glob(f"API_{code}_DS2_*.csv")
    return path


# --- the run itself ---------------------------------------------------------------------------


def test_outputs_are_exactly_the_contract(fresh) -> None:
    assert sorted(fresh) == sorted(OUTPUTS + [f"server/{n}" for n in SERVER_OUTPUTS])


def test_committed_outputs_equal_a_fresh_run(fresh) -> None:
    for name in OUTPUTS:
        assert (COMMITTED / name).read_bytes() == fresh[name], f"{name} is stale: run make data"
    for name in SERVER_OUTPUTS:
        assert (COMMITTED_SERVER / name).read_bytes() == fresh[f"server/{name}"], name


def test_two_runs_are_byte_identical(fresh, tmp_path) -> None:
    assert run_pipeline(tmp_path) == fresh


def test_size_budget(fresh) -> None:
    assert sum(len(fresh[name]) for name in OUTPUTS) <= 3 * 1024 * 1024
    assert sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file()) <= 3 * 1024 * 1024
    assert len(fresh["geometry.json"]) <= 300 * 1024


def test_csv_outputs_use_lf_and_no_bom(fresh) -> None:
    for name in OUTPUTS:
        if ".csv" in name:
            data = gzip.decompress(fresh[name]) if name.endswith(".gz") else fresh[name]
            assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf"), name


# --- temperature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iso3", "year"), [("FRA", 1961), ("FRA", 2022), ("AFG", 2019), ("NOR", 2000), ("BRA", 1990)]
)
def test_imf_temperature_equals_raw_cell(fresh, iso3: str, year: int) -> None:
    (raw,) = [r for r in raw_rows(IMF, "utf-8-sig") if r["ISO3"] == iso3]
    (out,) = [r for r in rows(fresh, "temperature.csv.gz") if (r["iso3"], r["year"]) == (iso3, str(year))]
    assert out["anomaly"] == raw[f"F{year}"]


@pytest.mark.parametrize(
    ("iso3", "area", "year"),
    [("TUR", "Turkey", 2020), ("CIV", "Côte d'Ivoire", 1961), ("CRI", "Costa Rica", 2015)],
)
def test_faostat_temperature_equals_raw_cell(fresh, iso3: str, area: str, year: int) -> None:
    (raw,) = [
        r
        for r in raw_rows(FAO, "cp1252")
        if r["Area"] == area and r["Months Code"] == "7020" and r["Element Code"] == "7271"
    ]
    (out,) = [r for r in rows(fresh, "temperature.csv.gz") if (r["iso3"], r["year"]) == (iso3, str(year))]
    assert out["anomaly"] == raw[f"Y{year}"]


def test_temperature_series_one_source_per_country(fresh) -> None:
    temperature = rows(fresh, "temperature.csv.gz")
    countries = {r["iso3"]: r for r in rows(fresh, "countries.csv")}
    with_series = {r["iso3"] for r in temperature}
    assert "WLD" not in with_series
    assert len(with_series) == 235
    by_source = {
        s: {k for k, r in countries.items() if r["temperature_source"] == s} for s in ("IMF", "FAOSTAT")
    }
    assert len(by_source["IMF"]) == 223
    assert by_source["FAOSTAT"] == {
        "ATA",
        "ATF",
        "CCK",
        "CHI",
        "CIV",
        "CRI",
        "CXR",
        "GUF",
        "REU",
        "SGS",
        "SJM",
        "TUR",
    }
    assert with_series == by_source["IMF"] | by_source["FAOSTAT"]
    years = {int(r["year"]) for r in temperature}
    assert min(years) == 1961 and max(years) == 2022
    # FAOSTAT series end in 2020: a FAOSTAT country never has 2021-2022.
    assert not [r for r in temperature if r["iso3"] in by_source["FAOSTAT"] and int(r["year"]) > 2020]
    assert all(r["anomaly"] != "" for r in temperature)


def test_world_temperature_is_the_imf_wld_row(fresh) -> None:
    (wld,) = [r for r in raw_rows(IMF, "utf-8-sig") if r["ISO3"] == "WLD"]
    world = rows(fresh, "world_temperature.csv")
    assert {r["year"]: r["anomaly"] for r in world} == {
        str(y): wld[f"F{y}"] for y in range(1961, 2023) if wld[f"F{y}"]
    }


def test_crosscheck_in_manifest(fresh) -> None:
    check = json.loads(fresh["manifest.json"])["temperature_crosscheck"]
    assert check["tolerance_c"] == 0.35
    assert check["countries_compared"] == 224
    assert all(o["median_abs_diff"] > 0.35 for o in check["outliers"])


# --- warming ----------------------------------------------------------------------------------

MEAN_MISSING = {"BRB", "BDI", "FLK", "NRU", "NIU", "PCN", "RWA", "TKL", "YEM"}
TREND_MISSING = {
    "SDN",
    "SSD",
    "SRB",
    "MNE",
    "BDI",
    "RWA",
    "YEM",
    "FLK",
    "NRU",
    "NIU",
    "TKL",
    "ABW",
    "PCN",
}


def test_insufficient_data_lists_are_pinned(fresh) -> None:
    warming = annual(fresh)
    assert {r["iso3"] for r in warming if r["recent_mean"] == ""} == MEAN_MISSING
    assert {r["iso3"] for r in warming if r["trend_per_decade"] == ""} == TREND_MISSING
    assert all(r["mean_n"] != "" and r["trend_n"] != "" for r in warming)
    assert len(warming) == 235


def test_warming_matches_raw_series(fresh) -> None:
    (fra,) = [r for r in raw_rows(IMF, "utf-8-sig") if r["ISO3"] == "FRA"]
    (out,) = [r for r in annual(fresh) if r["iso3"] == "FRA"]
    mean = sum(float(fra[f"F{y}"]) for y in range(2018, 2023)) / 5
    assert float(out["recent_mean"]) == pytest.approx(mean, abs=5e-5)
    assert (out["mean_first"], out["mean_last"], out["mean_n"]) == ("2018", "2022", "5")
    assert (out["trend_first"], out["trend_last"], out["trend_n"]) == ("1993", "2022", "30")


def test_faostat_window_ends_in_2020_and_late_starters_pass(fresh) -> None:
    warming = {r["iso3"]: r for r in annual(fresh)}
    assert (warming["TUR"]["mean_last"], warming["TUR"]["mean_n"]) == ("2020", "3")
    for iso3 in ("BEL", "LUX"):  # their series start in 2000 and still pass the trend rule
        assert warming[iso3]["trend_first"] == "2000" and warming[iso3]["trend_per_decade"] != ""
    assert warming["YEM"]["mean_n"] == "0" and warming["YEM"]["mean_first"] == ""


# --- seasons and months, spread, base periods ---------------------------------------------------

SEASON_CELLS = [  # (FAOSTAT area, Months, year, ISO3, season key)
    ("Afghanistan", "January", 1961, "AFG", "jan"),
    ("France", "Jun–Jul–Aug", 2003, "FRA", "jja"),
    ("Brazil", "Sep–Oct–Nov", 2015, "BRA", "son"),
    ("Norway", "Dec–Jan–Feb", 1963, "NOR", "djf"),
    ("India", "May", 2020, "IND", "may"),
    ("Australia", "Mar–Apr–May", 1990, "AUS", "mam"),
]


@pytest.fixture(scope="module")
def fao_raw() -> dict[tuple[str, str, str], dict[str, str]]:
    """The FAOSTAT file's rows by (Area, Months, Element)."""
    return {(r["Area"], r["Months"], r["Element"]): r for r in raw_rows(FAO, "cp1252")}


@pytest.mark.parametrize(("area", "months", "year", "iso3", "season"), SEASON_CELLS)
def test_seasonal_cells_and_spread_equal_the_raw_cells(fresh, fao_raw, area, months, year, iso3,
                                                      season) -> None:
    (out,) = [r for r in rows(fresh, "seasons.csv.gz") if (r["iso3"], r["season"]) == (iso3, season)]
    assert out[str(year)] == fao_raw[(area, months, "Temperature change")][f"Y{year}"]
    (spread,) = [r for r in rows(fresh, "warming.csv") if (r["iso3"], r["season"]) == (iso3, season)]
    assert spread["sd"] == fao_raw[(area, months, "Standard Deviation")][f"Y{year}"]


def test_annual_spread_is_faostats_meteorological_year(fresh, fao_raw) -> None:
    (fra,) = [r for r in annual(fresh) if r["iso3"] == "FRA"]
    assert fra["sd"] == fao_raw[("France", "Meteorological year", "Standard Deviation")]["Y1961"]


def test_seasonal_trend_is_the_raw_series_slope(fresh, fao_raw) -> None:
    raw = fao_raw[("France", "Jun–Jul–Aug", "Temperature change")]
    years = np.array([y for y in range(1993, 2023) if raw.get(f"Y{y}", "") != ""])
    slope = np.polyfit(years.astype(float), [float(raw[f"Y{y}"]) for y in years], 1)[0]
    (jja,) = [r for r in rows(fresh, "warming.csv") if (r["iso3"], r["season"]) == ("FRA", "jja")]
    assert float(jja["trend_per_decade"]) == pytest.approx(10 * slope, abs=5e-5)
    assert (jja["trend_first"], jja["trend_last"]) == ("1993", "2020")


def test_manifest_names_every_season_with_faostats_words_and_years(fresh) -> None:
    seasons = json.loads(fresh["manifest.json"])["seasons"]
    assert [s["key"] for s in seasons][:5] == ["annual", "djf", "mam", "jja", "son"]
    assert len(seasons) == 17
    by_key = {s["key"]: s for s in seasons}
    assert by_key["djf"]["label"] == "Dec–Jan–Feb" and by_key["oct"]["label"] == "October"
    assert by_key["jja"]["years"] == [1961, 2020] and by_key["jja"]["source"] == "FAOSTAT"
    assert by_key["annual"]["years"] == [1961, 2022]
    keys = {(r["iso3"], r["season"]) for r in rows(fresh, "seasons.csv.gz")}
    assert {season for _, season in keys} == set(by_key) - {"annual"}


def test_a_base_period_is_the_series_own_mean_over_it(fresh) -> None:
    (fra,) = [r for r in raw_rows(IMF, "utf-8-sig") if r["ISO3"] == "FRA"]
    bases = {(r["iso3"], r["season"], r["base_first"]): r for r in rows(fresh, "baselines.csv.gz")}
    for first in (1961, 1991):
        mean = sum(float(fra[f"F{y}"]) for y in range(first, first + 30)) / 30
        row = bases[("FRA", "annual", str(first))]
        assert float(row["mean"]) == pytest.approx(mean, abs=5e-5)
        assert (row["base_last"], row["n"]) == (str(first + 29), "30")


def test_the_world_line_has_its_base_means(fresh) -> None:
    world = {(r["base_first"]): r for r in rows(fresh, "baselines.csv.gz") if r["iso3"] == "WLD"}
    assert set(world) == {"1961", "1991"} and all(r["n"] == "30" for r in world.values())


def test_a_base_with_fewer_than_80_percent_of_its_years_has_no_mean(fresh) -> None:
    bases = rows(fresh, "baselines.csv.gz")
    assert {r["mean"] == "" for r in bases if int(r["n"]) < 24} == {True}
    assert {r["mean"] != "" for r in bases if int(r["n"]) >= 24} == {True}
    short = [r for r in bases if int(r["n"]) < 24 and r["base_first"] == "1991"]
    assert short, "some series (South Sudan's, Aruba's) lack a fifth of 1991-2020"


# --- indicators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "iso3", "year"),
    [
        ("SP.POP.TOTL", "USA", 2020),
        ("EN.ATM.CO2E.PC", "FRA", 2019),
        ("NY.GDP.PCAP.PP.KD", "DEU", 2023),
        ("AG.LND.FRST.ZS", "BRA", 1990),
        ("SP.POP.TOTL", "XKX", 2022),
    ],
)
def test_indicator_equals_raw_cell(fresh, code: str, iso3: str, year: int) -> None:
    (raw,) = [r for r in raw_rows(wdi_file(code), "utf-8-sig", skip=4) if r["Country Code"] == iso3]
    (out,) = [
        r
        for r in rows(fresh, "indicators.csv.gz")
        if (r["code"], r["iso3"], r["year"]) == (code, iso3, str(year))
    ]
    assert out["value"] == raw[str(year)] != ""


def test_indicators_drop_exactly_49_aggregates(fresh) -> None:
    indicators = rows(fresh, "indicators.csv.gz")
    assert len({r["iso3"] for r in indicators}) == 217
    assert {"XKX", "CHI"} <= {r["iso3"] for r in indicators}
    assert "WLD" not in {r["iso3"] for r in indicators}
    assert len({r["code"] for r in indicators}) == 12
    dropped = json.loads(fresh["manifest.json"])["notes"]["indicator_aggregates_dropped"]
    assert len(dropped) == 49 and "WLD" in dropped and "EUU" in dropped


def test_world_indicators_are_the_wld_rows(fresh) -> None:
    (raw,) = [r for r in raw_rows(wdi_file("SP.POP.TOTL"), "utf-8-sig", skip=4) if r["Country Code"] == "WLD"]
    world = {(r["code"], r["year"]): r["value"] for r in rows(fresh, "world_indicators.csv")}
    assert world[("SP.POP.TOTL", "2022")] == raw["2022"]


def test_indicator_meta(fresh) -> None:
    meta = {r["code"]: r for r in rows(fresh, "indicator_meta.csv")}
    assert len(meta) == 12
    assert meta["SP.POP.TOTL"]["unit"] == "people"
    assert meta["EG.USE.PCAP.KG.OE"]["last_updated"] == "2025-07-01"
    assert meta["EN.ATM.CO2E.PC"]["source_url"] == "https://data.worldbank.org/indicator/EN.ATM.CO2E.PC"
    assert all(r["licence"] and r["compiler"] and r["short_name"] for r in meta.values())


# --- countries --------------------------------------------------------------------------------


def test_country_table(fresh) -> None:
    countries = {r["iso3"]: r for r in rows(fresh, "countries.csv")}
    assert len(countries) == 244
    assert {"CYN", "SOL", "XKX", "CHI"} <= set(countries)
    for iso3 in ("TUR", "CIV", "CRI", "ATF"):
        assert countries[iso3]["temperature_source"] == "FAOSTAT", iso3
    assert "Turkey" in countries["TUR"]["aliases"].split("|")
    assert "Ivory Coast" in countries["CIV"]["aliases"].split("|")
    assert {"USA", "United States of America"} <= set(countries["USA"]["aliases"].split("|"))
    assert countries["AFG"]["name"] == "Afghanistan"
    assert all(r["continent"] and r["region"] for r in countries.values())
    assert countries["XKX"]["continent"] == "Europe"
    assert countries["CYN"]["temperature_source"] == "" and countries["CYN"]["indicator_count"] == "0"
    assert countries["FRA"]["has_geometry"] == "True" and countries["ABW"]["has_geometry"] == "False"
    assert countries["USA"]["indicator_count"] == "12"


def test_seed_table(fresh) -> None:
    seed = {r["iso3"]: r for r in rows(fresh, "seed_tdiff.csv")}
    raw = {r["country"]: r["tempchange"] for r in raw_rows(RAW / "seed-dashboard" / "tdiff4.csv", "utf-8")}
    assert len(seed) == len(raw) == 196
    assert seed["BHS"]["seed_name"] == "The Bahamas"
    assert all(raw[r["seed_name"]] == r["tempchange"] for r in seed.values())
    assert json.loads(fresh["manifest.json"])["unmatched"]["seed_tdiff"] == []


# --- geometry ---------------------------------------------------------------------------------


def shapes_of(fresh) -> dict[str, dict]:
    content = json.loads(fresh["geometry.json"])
    assert (content["projection"], content["units"]) == ("Equal Earth", "km")
    return {c["iso3"]: c for c in content["countries"]}


def test_geometry_keys(fresh) -> None:
    shapes = shapes_of(fresh)
    assert len(shapes) == 176
    assert {"FRA", "NOR", "SSD", "PSE", "ESH"} <= set(shapes)
    assert not {"ATA", "-99", "SDS", "PSX", "SAH", "KOS"} & set(shapes)
    with_temperature = {r["iso3"] for r in rows(fresh, "temperature.csv.gz")}
    assert set(shapes) - with_temperature == {"CYN", "SOL", "XKX"}


def test_labels_lie_inside_their_polygons(fresh) -> None:
    for iso3, country in shapes_of(fresh).items():
        parts = [
            shapely.Polygon(
                list(zip(p[0][::2], p[0][1::2], strict=True)),
                [list(zip(h[::2], h[1::2], strict=True)) for h in p[1:]],
            )
            for p in country["polygons"]
        ]
        assert any(part.contains(shapely.Point(country["label"])) for part in parts), iso3


def test_geometry_is_projected_equal_earth_km(fresh) -> None:
    xs = [v for c in shapes_of(fresh).values() for p in c["polygons"] for r in p for v in r[::2]]
    assert -17244 <= min(xs) < -16500 and 16500 < max(xs) <= 17244  # Equal Earth: |x| <= 17243.96


def test_server_shapes_of(fresh) -> None:
    # Antarctica is left off, as on the browser's map (the files have 177 and 240 entities).
    for name, count in (("countries-110m-lonlat.json", 176), ("countries-50m-lonlat.json", 239)):
        content = json.loads(fresh[f"server/{name}"])
        shapes = {c["iso3"]: c for c in content["countries"]}
        assert len(shapes) == count, name
        assert {"FRA", "NOR", "XKX", "CYN", "SOL", "AUS"} <= set(shapes)
        assert "ATA" not in shapes
        lon = shapes["FRA"]["polygons"][0][0][0::2]
        assert all(-180 <= v <= 180 for v in lon)


@pytest.mark.parametrize("name", ["countries-110m-lonlat.json", "countries-50m-lonlat.json"])
def test_server_rings_are_cut_at_the_antimeridian(fresh, name: str) -> None:
    """No ring steps across +-180 (cartopy would draw it around the world); Russia and Fiji,
    which straddle it, have land on both sides."""
    shapes = {c["iso3"]: c for c in json.loads(fresh[f"server/{name}"])["countries"]}
    for iso3, country in shapes.items():
        for rings in country["polygons"]:
            lon = np.asarray(rings[0][0::2])
            assert lon.min() >= -180 and lon.max() <= 180, iso3
            assert np.abs(np.diff(lon)).max() < 180, iso3
    for iso3 in ("RUS", "FJI"):
        lon = [v for rings in shapes[iso3]["polygons"] for v in rings[0][0::2]]
        assert min(lon) < -170 and max(lon) > 170, iso3


# --- manifest ---------------------------------------------------------------------------------


def test_manifest_carries_the_periods_the_outputs_were_computed_with(fresh) -> None:
    content = json.loads(fresh["manifest.json"])
    assert content["periods"] == {"years": [1961, 2022], "base": [1951, 1980],
                                  "recent_mean": [2018, 2022], "trend": [1993, 2022],
                                  "seed": [1901, 2012]}
    assert content["min_years"] == {"recent_mean": 3, "trend": 20, "source": 20, "base_percent": 80}
    assert [b["years"] for b in content["bases"]] == [[1951, 1980], [1961, 1990], [1991, 2020]]
    warming = {r["iso3"]: r for r in annual(fresh)}
    assert (warming["FRA"]["mean_first"], warming["FRA"]["mean_last"]) == ("2018", "2022")


def test_manifest_lists_every_input_with_its_hash(fresh) -> None:
    content = json.loads(fresh["manifest.json"])
    assert content["generated_by"] == "python -m pipeline"
    inputs = {i["path"]: i for i in content["inputs"]}
    expected = {
        "imf/Annual_Surface_Temperature_Change.csv",
        "faostat/Environment_Temperature_change_E_All_Data_NOFLAG.csv",
        "seed-dashboard/tdiff4.csv",
        "seed-dashboard/country_centroids_az8.csv",
        "iso-codes/codes.json",
        "world-atlas/countries-110m.json",
        "world-atlas/countries-50m.json",
    } | {f"worldbank/{p.name}" for p in (RAW / "worldbank").glob("*.csv")}
    assert expected <= set(inputs)
    for path, entry in inputs.items():
        assert entry["sha256"] == hashlib.sha256((RAW / path).read_bytes()).hexdigest(), path
        assert entry["publisher"] and entry["licence"] and entry["source_page"] and entry["release"]


def test_manifest_lists_every_output_with_its_hash(fresh) -> None:
    content = json.loads(fresh["manifest.json"])
    outputs = {o["path"]: o for o in content["outputs"]}
    assert set(outputs) == set(OUTPUTS) - {"manifest.json"}
    for name, entry in outputs.items():
        assert entry["sha256"] == hashlib.sha256(fresh[name]).hexdigest()
        assert entry["command"] == "python -m pipeline"
    assert outputs["temperature.csv.gz"]["rows"] == len(rows(fresh, "temperature.csv.gz"))


# --- rules, on small inputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"ISO_A3_EH": "FRA", "ADM0_A3": "FRA"}, "FRA"),  # ISO_A3 is -99 for France; _EH is not
        ({"ISO_A3_EH": "-99", "ADM0_A3": "NOR"}, "NOR"),
        ({"ISO_A3_EH": "SSD", "ADM0_A3": "SDS"}, "SSD"),
        ({"ISO_A3_EH": "-99", "ADM0_A3": "KOS"}, "XKX"),
        ({"ISO_A3_EH": "-99", "ADM0_A3": "CYN"}, "CYN"),
    ],
)
def test_natural_earth_key_rule(record: dict, expected: str) -> None:
    assert geometry.key(record) == expected


def test_a_miskeyed_polygon_stops_the_pipeline() -> None:
    square = shapely.box(0, 0, 1, 1)
    features = [geometry.Feature(k, k, square) for k in ("FRA", "CYN", "SOL", "SDS")]
    with pytest.raises(RawDataError, match="SDS"):
        geometry.check_keys(features, with_data={"FRA"})
    geometry.check_keys(features[:3], with_data={"FRA"})


def series(iso3: str, years: range) -> pd.DataFrame:
    return pd.DataFrame({"iso3": iso3, "year": list(years), "anomaly": "0.1", "value": 0.1})


def test_one_source_rule() -> None:
    imf = pd.concat(
        [series("AAA", range(1993, 2023)), series("BBB", range(1961, 2005)), series("CCC", range(1961, 1990))]
    )
    fao = pd.concat(
        [
            series("AAA", range(1961, 2021)),
            series("BBB", range(1961, 2021)),
            series("DDD", range(1995, 2021)),
            series("EEE", range(2010, 2021)),
        ]
    )
    assert temperature.choose_sources(imf, fao) == {
        "AAA": "IMF",
        "BBB": "FAOSTAT",
        "CCC": "IMF",
        "DDD": "FAOSTAT",
    }


def test_warming_thresholds() -> None:
    years = np.arange(1993, 2023)
    row = warming.metrics(years, 0.02 * (years - 1993))
    assert row == ["0.5400", "2018", "2022", "5", "0.2000", "1993", "2022", "30"]
    short = warming.metrics(years[:19], np.zeros(19))
    assert short == ["", "", "", "0", "", "1993", "2011", "19"]
