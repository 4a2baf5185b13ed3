"""The one keying rule for Natural Earth-derived tables (the 110m shapes and the centroids file).

ISO alpha-3 where the table has it (not -99), else ADM0_A3, then Natural Earth's KOS -> XKX, the
World Bank's code for Kosovo. ADM0_A3 alone is not ISO for W. Sahara (SAH), Palestine (PSX) and
S. Sudan (SDS), and ISO_A3 alone is -99 for France and Norway; CYN and SOL stay as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.io import RawDataError, RawDir
from pipeline.sources import ISO_CODES

MISSING = "-99"
RENAMED = {"KOS": "XKX"}


def natural_earth_key(iso_a3: str, adm0_a3: str) -> str:
    """ISO alpha-3 unless -99, else ADM0_A3, then KOS -> XKX."""
    code = iso_a3 if iso_a3 != MISSING else adm0_a3
    return RENAMED.get(code, code)


@dataclass(frozen=True)
class IsoCode:
    """One ISO 3166-1 entry."""

    alpha3: str
    numeric: str
    alpha2: str = ""


def iso_codes(raw: RawDir) -> list[IsoCode]:
    """iso-codes/codes.json: [alpha-2, alpha-3, numeric, subdivision code] per ISO 3166-1 entry."""
    try:
        entries = json.loads(raw.read_text(ISO_CODES, "utf-8"))
        return [IsoCode(entry[1], entry[2], entry[0]) for entry in entries]
    except (ValueError, IndexError, TypeError) as exc:
        raise RawDataError(ISO_CODES, None, f"not the expected JSON array of codes: {exc}") from None
