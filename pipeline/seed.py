"""The seed project's 1901-2012 temperature change (tdiff4.csv), matched to ISO3.

Shown only as a labelled comparison, never as our own number: its method is undocumented. The file
has names only, so they go through one reviewed table; names it lacks are reported, not guessed.
"""

from __future__ import annotations

import pandas as pd

from pipeline import reference
from pipeline.io import RawDir, parse_csv
from pipeline.sources import SEED_TDIFF

COLUMNS = ["iso3", "seed_name", "tempchange"]


def build(raw: RawDir) -> tuple[pd.DataFrame, list[str]]:
    """seed_tdiff.csv rows, and the names that could not be matched."""
    table = parse_csv(SEED_TDIFF, raw.read_text(SEED_TDIFF, "utf-8"))
    table.require(["country", "tempchange"])
    frame = table.frame()
    names = frame["country"].str.strip()
    table.check_unique(names, "country")
    table.numbers(frame[["tempchange"]])
    lookup = reference.seed_names().set_index("seed_name")["iso3"]
    iso3 = names.map(lookup).fillna("")
    out = pd.DataFrame({"iso3": iso3, "seed_name": names, "tempchange": frame["tempchange"].str.strip()})
    table.expect(
        (iso3 == "") | ~iso3.duplicated(),
        lambda i: f"a second name for {iso3.iat[i]} in pipeline/reference/seed_names.csv",
    )
    unmatched = sorted(out.loc[iso3 == "", "seed_name"])
    matched = out[iso3 != ""]
    return matched.sort_values("iso3").reset_index(drop=True), unmatched
