"""The Sources panel, written from the pipeline's manifest so it can never drift from the data."""

from __future__ import annotations

from climate_atlas.data import Atlas


def sources_markdown(atlas: Atlas) -> str:
    """Publisher, licence, release and page of every raw input, one row per distinct source."""
    seen: dict[tuple[str, str, str, str], list[str]] = {}
    for entry in atlas.manifest["inputs"]:
        key = (entry["publisher"], entry["licence"], str(entry.get("release", "")),
               entry["source_page"])
        seen.setdefault(key, []).append(entry["path"].rsplit("/", 1)[-1])
    lines = [
        "Every number on this page comes from these published files, processed by the project's "
        f"pipeline (`make data`). The {atlas.periods.seed} figures are the seed project's own "
        "table, shown only for comparison.",
        "",
        _climate_notes(atlas),
        "",
        "| Publisher | Licence | Release | Files | Source page |",
        "|---|---|---|---|---|",
    ]
    for (publisher, licence, release, page), names in seen.items():
        lines.append(f"| {publisher} | {licence} | {release} | {', '.join(names)} | "
                     f"[{page}]({page}) |")
    return "\n".join(lines)


def _climate_notes(atlas: Atlas) -> str:
    """Where the seasons, the σ and the base periods come from, in the data's own years."""
    faostat = next(s for s in atlas.seasons.values() if s.source == "FAOSTAT")
    bases = "; ".join(f"{b.period} ({b.note})" for b in atlas.periods.bases)
    return (
        f"**Annual** series are the IMF's, or FAOSTAT's where the IMF has too few years. "
        f"**Seasons and months** (Dec–Jan–Feb ... and January ... December) come from FAOSTAT "
        f"only, {faostat.years}. **σ**: how unusual an anomaly is, in FAOSTAT's standard deviation "
        f"of that country and season over {atlas.periods.base}. **Base periods**: {bases}. Every "
        f"series is published against {atlas.periods.base}; another base subtracts the series' own "
        f"mean over it, and a series with fewer than "
        f"{atlas.manifest['min_years']['base_percent']}% of the base's years reads "
        f"\"insufficient data\" for that base. Trends do not depend on the base.")
