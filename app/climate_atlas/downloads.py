"""Downloads the way Our World in Data ships them: a zip with a plain CSV and a sources file.

The CSV has one header row and no comment lines, so any parser reads it; provenance goes into
`sources.csv` beside it (publisher, licence, source page, release date per series).
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from climate_atlas.data import Atlas, Periods
from climate_atlas.views.metrics import METRICS, SEED, TEMPERATURE


def temperature_series(periods: Periods) -> str:
    """The temperature series' name in a download, with its base period."""
    return f"Temperature anomaly (°C vs {periods.base})"


def _input(atlas: Atlas, fragment: str) -> dict:
    return next(e for e in atlas.manifest["inputs"] if fragment in e["path"])


def _indicator_source(atlas: Atlas, code: str) -> dict[str, str]:
    meta = atlas.indicator_meta.loc[code]
    return {"series": f"{meta['short_name']} ({meta['unit']})",
            "publisher": f"World Bank, World Development Indicators ({code}); "
                         f"original compiler: {meta['compiler']}",
            "licence": meta["licence"], "source_page": meta["source_url"],
            "release_date": meta["last_updated"]}


def _entry(series: str, entry: dict) -> dict[str, str]:
    return {"series": series, "publisher": entry["publisher"], "licence": entry["licence"],
            "source_page": entry["source_page"], "release_date": str(entry["release"])}


def sources_table(atlas: Atlas, codes: list[str], source: str) -> pd.DataFrame:
    """Provenance of each series a download holds: the indicators `codes` and the warming series
    `source` (TEMPERATURE or SEED, as `Metric.source` names them)."""
    series = temperature_series(atlas.periods)
    rows = {
        TEMPERATURE: [_entry(f"{series}, IMF", _input(atlas, "imf/")),
                      _entry(f"{series}, FAOSTAT", _input(atlas, "faostat/"))],
        SEED: [_entry(f"Change {atlas.periods.seed} (seed project's table)",
                      _input(atlas, "tdiff4"))],
    }[source]
    rows += [_indicator_source(atlas, code) for code in codes]
    return pd.DataFrame(rows)


def zip_bytes(files: dict[str, pd.DataFrame]) -> bytes:
    """A zip of plain CSVs (UTF-8, one header row, no index)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in files.items():
            archive.writestr(name, frame.to_csv(index=False))
    return buffer.getvalue()


def selection_series(atlas: Atlas, selection: list[str], code: str) -> pd.DataFrame:
    """Long table of the selected countries' temperature and indicator series."""
    meta = atlas.indicator_meta.loc[code]
    temperature = temperature_series(atlas.periods)
    frames = []
    for iso3 in selection:
        source = atlas.countries.at[iso3, "temperature_source"] if iso3 in atlas.countries.index \
            else ""
        for series, values in ((f"{temperature}, {source}", atlas.series(iso3)),
                               (f"{meta['short_name']} ({meta['unit']})",
                                atlas.indicator_series(code, iso3))):
            frames.append(pd.DataFrame({"country": atlas.country_name(iso3), "iso3": iso3,
                                        "series": series, "year": values.index,
                                        "value": values.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def series_download(atlas: Atlas, selection: list[str], code: str) -> bytes:
    """Zip of the selected countries' series and their sources."""
    return zip_bytes({"climate-atlas-series.csv": selection_series(atlas, selection, code),
                      "sources.csv": sources_table(atlas, [code], TEMPERATURE)})


def table_download(atlas: Atlas, table: pd.DataFrame, code: str, metric: str) -> bytes:
    """Zip of the country table as shown, and its sources."""
    return zip_bytes({"climate-atlas-table.csv": table,
                      "sources.csv": sources_table(atlas, [code], METRICS[metric].source)})
