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
        "| Publisher | Licence | Release | Files | Source page |",
        "|---|---|---|---|---|",
    ]
    for (publisher, licence, release, page), names in seen.items():
        lines.append(f"| {publisher} | {licence} | {release} | {', '.join(names)} | "
                     f"[{page}]({page}) |")
    return "\n".join(lines)
