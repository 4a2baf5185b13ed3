"""Provenance of every raw file the pipeline reads (from data/raw/SOURCES.md).

The manifest lists each file actually read with the entry below; reading a file that has no entry
here stops the pipeline, so provenance cannot silently go missing.
"""

from __future__ import annotations

from dataclasses import dataclass

IMF_TEMPERATURE = "imf/Annual_Surface_Temperature_Change.csv"
FAO_TEMPERATURE = "faostat/Environment_Temperature_change_E_All_Data_NOFLAG.csv"
SEED_TDIFF = "seed-dashboard/tdiff4.csv"
CENTROIDS = "seed-dashboard/country_centroids_az8.csv"
ISO_CODES = "iso-codes/codes.json"
NE_DIR = "naturalearth/ne_110m_admin_0_countries/"
NE_STEM = NE_DIR + "ne_110m_admin_0_countries"
NE_VERSION = NE_STEM + ".VERSION.txt"
WORLDBANK_GLOB = "worldbank/API_*.csv"
WORLD_ATLAS_110M = "world-atlas/countries-110m.json"
WORLD_ATLAS_50M = "world-atlas/countries-50m.json"


@dataclass(frozen=True)
class Source:
    """Who published a raw file, under which licence, where, and which release it is."""

    publisher: str
    licence: str
    source_page: str
    release: str


FAO_LICENCE = "CC BY-NC-SA 3.0 IGO at this release (FAO has since announced CC BY 4.0; check current terms)"
SEED_COMMIT = "InsciteAnalytics/worldbank-climate-dashboard @ 65b9ad010016dd6bba3a1c4630f266db4fda1467"
NATURAL_EARTH = Source(
    "Natural Earth (naturalearthdata.com)",
    "public domain",
    "https://www.naturalearthdata.com/downloads/110m-cultural-vectors/110m-admin-0-countries/",
    "",  # filled from the VERSION.txt file that ships beside the shapefile
)
WORLD_ATLAS = Source(
    "Mike Bostock, world-atlas (from Natural Earth 4.1.0)",
    "ISC (package); geometry public domain (Natural Earth)",
    "https://github.com/topojson/world-atlas",
    "npm world-atlas 2.0.2",
)

FIXED: dict[str, Source] = {
    IMF_TEMPERATURE: Source(
        "International Monetary Fund, Climate Change Indicators Dashboard (data: FAO, FAOSTAT)",
        FAO_LICENCE,
        "https://climatedata.imf.org/",
        "FAOSTAT ET extract accessed 2023-03-28 (1961-2022)",
    ),
    FAO_TEMPERATURE: Source(
        "Food and Agriculture Organization of the United Nations (FAO), FAOSTAT",
        FAO_LICENCE,
        "https://www.fao.org/faostat/en/#data/ET",
        "2021 FAOSTAT update (1961-2020)",
    ),
    SEED_TDIFF: Source(
        "InsciteAnalytics (seed dashboard), from World Bank Climate Data API / CRU TS",
        "none stated (underlying World Bank climate data CC BY 4.0); comparison only",
        "https://github.com/InsciteAnalytics/worldbank-climate-dashboard",
        SEED_COMMIT,
    ),
    CENTROIDS: Source(
        "third-party derivative of Natural Earth Admin 0 (az8), shipped by the seed dashboard",
        "public domain (Natural Earth)",
        "https://github.com/InsciteAnalytics/worldbank-climate-dashboard",
        SEED_COMMIT,
    ),
    ISO_CODES: Source(
        "i18n-iso-countries (npm), ISO 3166-1 codes",
        "MIT",
        "https://www.npmjs.com/package/i18n-iso-countries",
        "npm i18n-iso-countries 7.14.0",
    ),
    WORLD_ATLAS_110M: WORLD_ATLAS,
    WORLD_ATLAS_50M: WORLD_ATLAS,
}

WORLD_BANK = Source(
    "The World Bank, World Development Indicators",
    "CC BY 4.0",
    "https://data.worldbank.org/indicator/",  # the indicator code is appended
    "",  # the file's own "Last Updated Date"
)


def describe(path: str, releases: dict[str, str]) -> dict[str, str]:
    """Manifest entry for one raw file; `releases` holds dates read from the files themselves."""
    if path in FIXED:
        source = FIXED[path]
        page, release = source.source_page, source.release
    elif path.startswith(NE_DIR):
        source = NATURAL_EARTH
        page, release = source.source_page, releases[NE_VERSION]
    elif path.startswith("worldbank/"):
        source = WORLD_BANK
        code = path.split("_")[1]
        page, release = source.source_page + code, releases[path]
    else:
        raise KeyError(f"{path}: read by the pipeline but has no provenance entry in sources.py")
    return {
        "path": path,
        "publisher": source.publisher,
        "licence": source.licence,
        "source_page": page,
        "release": release,
    }
