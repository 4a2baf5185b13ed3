"""The data layer: `data/precomputed/`, shipped as the package `climate_atlas.precomputed`.

It reads every file the dashboard uses in both modes; the only other reader is the served map
(`server_extras`), which loads the server-only lon/lat geometry of `data/server/` under `panel serve`.
One loading path for every mode (editable install, browser wheel, container): importlib.resources on
the package, never the working directory. Everything is read once and cached; views get frames, and
the years the pipeline computed with (`Periods`, from the manifest), never years of their own.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache
from importlib.resources import files
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from climate_atlas.user_data import UserData

PACKAGE = "climate_atlas.precomputed"
ANNUAL = "annual"  # the season key of the yearly series (pipeline/seasons.py)
YOUR_DATA = "your-data"  # the indicator code of a visitor's own series (Atlas.with_user_data)
NO_UNIT = "unit not given"

# The columns the app reads from each precomputed table: a subset of the pipeline's output contract
# (pipeline/outputs.py TABLES, checked by a unit test). A file lacking one is a DataError.
COLUMNS: dict[str, list[str]] = {
    "countries.csv": ["iso3", "name", "aliases", "iso2", "continent", "region", "temperature_source"],
    "temperature.csv.gz": ["iso3", "year", "anomaly"],
    "world_temperature.csv": ["year", "anomaly"],
    "warming.csv": ["iso3", "season", "recent_mean", "mean_first", "mean_last", "mean_n",
                    "trend_per_decade", "trend_first", "trend_last", "trend_n", "sd"],
    "baselines.csv.gz": ["iso3", "season", "base_first", "base_last", "mean", "n"],
    "seasons.csv.gz": ["iso3", "season"],  # then one column per year, read as they come
    "indicators.csv.gz": ["code", "iso3", "year", "value"],
    "world_indicators.csv": ["code", "year", "value"],
    "indicator_meta.csv": ["code", "short_name", "unit", "name", "compiler", "licence",
                           "last_updated", "source_url"],
    "seed_tdiff.csv": ["iso3", "seed_name", "tempchange"],
}


class DataError(RuntimeError):
    """A precomputed file is missing or unreadable: the message names the file."""


@dataclass(frozen=True)
class Period:
    """A window of years, first and last included."""

    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"

    def __len__(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Base:
    """A base period a reader can choose (manifest "bases"), and why it is one."""

    period: Period
    note: str  # "the publishers' base", "WMO's current climate normal" ...


@dataclass(frozen=True)
class Season:
    """The year, a meteorological season or a month (manifest "seasons", pipeline/seasons.py)."""

    key: str  # the link's `season=`: "annual", "djf" ... "jan" ...
    label: str  # the publisher's words: "Annual", "Dec–Jan–Feb", "January"
    source: str  # where its series come from
    years: Period  # the years its series span


@dataclass(frozen=True)
class Periods:
    """The year windows the pipeline computed with (manifest "periods", see pipeline/periods.py).

    Every title, hover, axis label, link check and the year slider takes its years from here, so
    the words on screen always name the years behind the numbers."""

    years: Period  # the temperature series' years: the slider's range
    base: Period  # every anomaly is against the mean of these years
    recent_mean: Period  # the map's default metric averages these years
    trend: Period  # the warming trend's window
    seed: Period  # the seed project's change is between these years
    bases: tuple[Base, ...] = ()  # the base periods a reader can choose, `base` first

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Periods:
        """The manifest's periods; a DataError when one is missing (an older `make data`)."""
        try:
            bases = tuple(Base(Period(*b["years"]), b["note"]) for b in manifest["bases"])
            return cls(**{f.name: Period(*manifest["periods"][f.name]) for f in fields(cls)
                          if f.name != "bases"}, bases=bases)
        except (KeyError, TypeError) as exc:
            raise DataError(f"precomputed file 'manifest.json' lacks the periods: {exc!r}; "
                            "run `make data`") from exc


@dataclass(frozen=True, eq=False)
class Atlas:
    """All precomputed tables, indexed for the lookups the views make.

    Compared and hashed by identity (eq=False): views key their caches of derived tables on it."""

    countries: pd.DataFrame  # index iso3: name, aliases, continent, region, temperature_source ...
    temperature: pd.DataFrame  # iso3, year, anomaly (one source per country)
    world_temperature: pd.Series  # anomaly by year, the IMF's World row
    # index (iso3, season): recent_mean, trend_per_decade, the years behind them, sd (FAOSTAT's
    # standard deviation over the publishers' base, °C)
    warming_by_season: pd.DataFrame
    baselines: pd.DataFrame  # index (season, base "first-last"), iso3: mean (°C, NaN if too few), n
    indicators: pd.DataFrame  # code, iso3, year, value
    world_indicators: pd.DataFrame  # code, year, value
    indicator_meta: pd.DataFrame  # index code: short_name, unit, name, compiler, licence ...
    seed: pd.DataFrame  # index iso3: seed_name, tempchange (the seed project's table)
    geometry: dict[str, Any]  # pre-projected polygons, see pipeline/geometry.py
    manifest: dict[str, Any]  # provenance of every input and output
    periods: Periods  # the manifest's year windows
    seasons: dict[str, Season]  # by key, annual first, in the selector's order
    user: UserData | None = None  # a visitor's own series, the indicator YOUR_DATA
    # Per-indicator rows and per-country series, filled on first use: comparing the long indicator
    # table's codes on every click took most of a click's data time.
    _rows: dict[str, pd.DataFrame] = field(default_factory=dict, init=False, repr=False)
    _by_code: dict[str, _ByCountry] = field(default_factory=dict, init=False, repr=False)
    _warming: dict[str, pd.DataFrame] = field(default_factory=dict, init=False, repr=False)

    @property
    def warming(self) -> pd.DataFrame:
        """The annual metrics, index iso3 (see `warming_for`)."""
        return self.warming_for(ANNUAL)

    def warming_for(self, season: str) -> pd.DataFrame:
        """One season's metrics per country, index iso3: recent_mean, trend_per_decade, the
        years behind each, sd. Countries without that season's series are absent."""
        if season not in self._warming:
            self._warming[season] = self.warming_by_season.xs(season, level="season")
        return self._warming[season]

    def with_user_data(self, user: UserData) -> Atlas:
        """This atlas with a visitor's series as one more indicator, YOUR_DATA: a new Atlas, so
        that every cache keyed on an atlas starts afresh, sharing every table but the indicators'
        metadata (a small copy). Only the session that read the file holds it: the process's
        atlas, which every other session shares, never sees it."""
        row = {"short_name": user.name, "unit": user.unit or NO_UNIT, "name": user.name,
               "compiler": "you", "licence": "yours", "last_updated": "",
               "source_url": ""}
        meta = pd.concat([self.indicator_meta.drop(index=YOUR_DATA, errors="ignore"),
                          pd.DataFrame([row], index=pd.Index([YOUR_DATA], name="code"))])
        atlas = dataclasses.replace(self, indicator_meta=meta, user=user)
        atlas._rows[YOUR_DATA] = user.rows
        return atlas

    def country_name(self, iso3: str) -> str:
        """Display name, or the code itself for an entity the country table lacks."""
        if iso3 in self.countries.index:
            return str(self.countries.at[iso3, "name"])
        return iso3

    def series(self, iso3: str, season: str = "annual") -> pd.Series:
        """Temperature anomaly by year of one country and season, °C against the publishers' base
        (empty when it has none). Seasons and months are read from FAOSTAT's table on first use."""
        if season != ANNUAL:
            table = seasonal_table()
            if (iso3, season) not in table.index:
                return pd.Series(dtype=float, name="anomaly").rename_axis("year")
            return table.loc[(iso3, season)].dropna().rename("anomaly").rename_axis("year")
        return self._temperature_by_country.series(iso3)

    @cached_property
    def _temperature_by_country(self) -> _ByCountry:
        return _ByCountry(self.temperature, "anomaly")

    def indicator_rows(self, code: str) -> pd.DataFrame:
        """Every published value of one indicator: iso3, year, value."""
        if code not in self._rows:
            found = self._indicator_positions.get(code)
            self._rows[code] = self.indicators.iloc[found if found is not None else []]
        return self._rows[code]

    @cached_property
    def _indicator_positions(self) -> dict[str, np.ndarray]:
        """Each code's row positions, found in one pass: comparing the long table's codes again
        for each indicator's first choice cost more than this pass."""
        return self.indicators.groupby("code", sort=False).indices

    def indicator_series(self, code: str, iso3: str) -> pd.Series:
        """Yearly values of one indicator for one country (empty when none were published)."""
        if code not in self._by_code:  # split once per indicator: a chart asks per country
            self._by_code[code] = _ByCountry(self.indicator_rows(code), "value")
        return self._by_code[code].series(iso3)


class _ByCountry:
    """A long table's rows (iso3, year, `column`) ordered by country (stable: each country's rows
    in the table's order), with where each country's run starts and ends; a country's Series is
    made when asked for, a copy of its run that its caller may change. Making all of them up front
    (groupby + set_index) took about 0.3 s per indicator in the browser, on the first page and on
    each indicator's first choice; picking one country's rows by comparing the whole column took
    most of a click's data time."""

    def __init__(self, rows: pd.DataFrame, column: str) -> None:
        ordered = rows.sort_values("iso3", kind="stable")
        iso3s = ordered["iso3"].to_numpy()
        self._column = column
        self._years = ordered["year"].to_numpy()
        self._values = ordered[column].to_numpy()
        starts = np.flatnonzero(np.r_[True, iso3s[1:] != iso3s[:-1]]) if len(iso3s) else []
        self._spans = {iso3s[start]: (start, end) for start, end in pairwise([*starts, len(iso3s)])}

    def series(self, iso3: str) -> pd.Series:
        """Values (float) indexed by year; empty when the country has none."""
        start, end = self._spans.get(iso3, (0, 0))
        return pd.Series(self._values[start:end], name=self._column, dtype=float, copy=True,
                         index=pd.Index(self._years[start:end], name="year"))


def _read_bytes(name: str) -> bytes:
    resource = files(PACKAGE) / name
    try:
        raw = resource.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"precomputed file {name!r} is missing; run `make data`") from exc
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def _read_csv(name: str, **kwargs: Any) -> pd.DataFrame:
    """The columns COLUMNS names, in the file's order."""
    try:
        return pd.read_csv(io.BytesIO(_read_bytes(name)), keep_default_na=False,
                           na_values=[""], usecols=COLUMNS[name], **kwargs)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"precomputed file {name!r} is unreadable: {exc}") from exc


def _read_json(name: str) -> dict[str, Any]:
    try:
        return json.loads(_read_bytes(name))
    except ValueError as exc:
        raise DataError(f"precomputed file {name!r} is not valid JSON: {exc}") from exc


@lru_cache(maxsize=1)
def seasonal_table() -> pd.DataFrame:
    """FAOSTAT's seasonal and monthly anomalies (°C): index (iso3, season), a column per year, NaN
    where there is no value. Read once, when a season is first asked for: a visitor who never
    leaves "Annual" never parses it."""
    try:
        table = pd.read_csv(io.BytesIO(_read_bytes("seasons.csv.gz")), keep_default_na=False,
                            na_values=[""], index_col=["iso3", "season"])
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"precomputed file 'seasons.csv.gz' is unreadable: {exc}") from exc
    table.columns = table.columns.astype(int)
    return table


def _seasons(manifest: dict[str, Any]) -> dict[str, Season]:
    try:
        return {s["key"]: Season(s["key"], s["label"], s["source"], Period(*s["years"]))
                for s in manifest["seasons"]}
    except (KeyError, TypeError) as exc:
        raise DataError(f"precomputed file 'manifest.json' lacks the seasons: {exc!r}; "
                        "run `make data`") from exc


def _baselines() -> pd.DataFrame:
    table = _read_csv("baselines.csv.gz")
    table["base"] = table["base_first"].astype(str) + "-" + table["base_last"].astype(str)
    return table.set_index(["season", "base", "iso3"])[["mean", "n"]].sort_index()


@lru_cache(maxsize=1)
def load_atlas() -> Atlas:
    """Read every precomputed table once per process."""
    # keep_default_na=False: "NA" is Namibia's ISO2 code in some tables, never a missing value.
    manifest = _read_json("manifest.json")
    return Atlas(
        countries=_read_csv("countries.csv", dtype={"aliases": str}).set_index("iso3"),
        temperature=_read_csv("temperature.csv.gz"),
        world_temperature=_read_csv("world_temperature.csv").set_index("year")["anomaly"],
        warming_by_season=_read_csv("warming.csv").set_index(["iso3", "season"]),
        baselines=_baselines(),
        indicators=_read_csv("indicators.csv.gz"),
        world_indicators=_read_csv("world_indicators.csv"),
        indicator_meta=_read_csv("indicator_meta.csv").set_index("code"),
        seed=_read_csv("seed_tdiff.csv").set_index("iso3"),
        geometry=_read_json("geometry.json"),
        manifest=manifest,
        periods=Periods.from_manifest(manifest),
        seasons=_seasons(manifest),
    )
