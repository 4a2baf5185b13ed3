"""Downloads the way Our World in Data ships them: a zip with a plain CSV and a sources file.

The CSV has one header row and no comment lines, so any parser reads it; provenance goes into
`sources.csv` beside it (publisher, licence, source page, release date per series).
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from climate_atlas.anomalies import Scope, anomalies, default_scope
from climate_atlas.data import ANNUAL, YOUR_DATA, Atlas
from climate_atlas.views.metrics import METRICS, OWN, SEED, TEMPERATURE, own_words


def temperature_series(atlas: Atlas, scope: Scope) -> str:
    """The temperature series' name in a download, with its season and base period."""
    season = "" if scope.season == ANNUAL else f", {atlas.seasons[scope.season].label}"
    return f"Temperature anomaly{season} (°C vs {scope.base})"


def _input(atlas: Atlas, fragment: str) -> dict:
    return next(e for e in atlas.manifest["inputs"] if fragment in e["path"])


def _own_source(atlas: Atlas) -> dict[str, str]:
    return {"series": own_words(atlas), "publisher": "your data, from your file",
            "licence": "yours", "source_page": "", "release_date": ""}


def _indicator_source(atlas: Atlas, code: str) -> dict[str, str]:
    if code == YOUR_DATA:
        return _own_source(atlas)
    meta = atlas.indicator_meta.loc[code]
    return {"series": f"{meta['short_name']} ({meta['unit']})",
            "publisher": f"World Bank, World Development Indicators ({code}); "
                         f"original compiler: {meta['compiler']}",
            "licence": meta["licence"], "source_page": meta["source_url"],
            "release_date": meta["last_updated"]}


def _entry(series: str, entry: dict) -> dict[str, str]:
    return {"series": series, "publisher": entry["publisher"], "licence": entry["licence"],
            "source_page": entry["source_page"], "release_date": str(entry["release"])}


def sources_table(atlas: Atlas, codes: list[str], source: str,
                  scope: Scope | None = None) -> pd.DataFrame:
    """Provenance of each series a download holds: the indicators `codes` and the map metric's
    series `source` (TEMPERATURE, SEED or OWN, as `Metric.source` names them) of `scope`'s season
    and base."""
    scope = scope or default_scope(atlas)
    series = temperature_series(atlas, scope)
    fao = _entry(f"{series}, FAOSTAT", _input(atlas, "faostat/"))
    rows = {
        TEMPERATURE: [_entry(f"{series}, IMF", _input(atlas, "imf/")), fao]
                     if scope.season == ANNUAL else [fao],
        SEED: [_entry(f"Change {atlas.periods.seed} (seed project's table)",
                      _input(atlas, "tdiff4"))],
        OWN: [_own_source(atlas)] if source == OWN else [],
    }[source]
    rows += [_indicator_source(atlas, code) for code in codes
             if not (source == OWN and code == YOUR_DATA)]
    return pd.DataFrame(rows)


def zip_bytes(files: dict[str, pd.DataFrame]) -> bytes:
    """A zip of plain CSVs (UTF-8, one header row, no index)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in files.items():
            archive.writestr(name, frame.to_csv(index=False))
    return buffer.getvalue()


def selection_series(atlas: Atlas, selection: list[str], code: str, scope: Scope) -> pd.DataFrame:
    """Long table of the selected countries' temperature (of `scope`) and indicator series."""
    meta = atlas.indicator_meta.loc[code]
    temperature = temperature_series(atlas, scope)
    frames = []
    for iso3 in selection:
        source = atlas.seasons[scope.season].source if scope.season != ANNUAL else \
            atlas.countries.at[iso3, "temperature_source"] if iso3 in atlas.countries.index else ""
        for series, values in ((f"{temperature}, {source}", anomalies(atlas, iso3, scope)),
                               (f"{meta['short_name']} ({meta['unit']})",
                                atlas.indicator_series(code, iso3))):
            frames.append(pd.DataFrame({"country": atlas.country_name(iso3), "iso3": iso3,
                                        "series": series, "year": values.index,
                                        "value": values.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def series_download(atlas: Atlas, selection: list[str], code: str,
                    scope: Scope | None = None) -> bytes:
    """Zip of the selected countries' series (temperature of `scope`) and their sources."""
    scope = scope or default_scope(atlas)
    return zip_bytes({"climate-atlas-series.csv": selection_series(atlas, selection, code, scope),
                      "sources.csv": sources_table(atlas, [code], TEMPERATURE, scope)})


def table_download(atlas: Atlas, table: pd.DataFrame, code: str, metric: str,
                   scope: Scope | None = None) -> bytes:
    """Zip of the country table as shown, and its sources."""
    return zip_bytes({"climate-atlas-table.csv": table,
                      "sources.csv": sources_table(atlas, [code], METRICS[metric].source, scope)})
