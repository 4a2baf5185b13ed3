"""manifest.json: provenance of every input and output, with no timestamps (runs must be identical).

Inputs are the raw files actually read in this run (RawDir records each read with its sha256), so
the list cannot drift from the code; outputs carry their row count, hash and the command.
"""

from __future__ import annotations

from pipeline import sources
from pipeline.io import sha256

COMMAND = "python -m pipeline"


def inputs(read_log: dict[str, str], releases: dict[str, str]) -> list[dict[str, str]]:
    """One entry per raw file read, sorted by path."""
    return [
        {**sources.describe(path, releases), "sha256": digest} for path, digest in sorted(read_log.items())
    ]


def outputs(files: dict[str, bytes], rows: dict[str, int]) -> list[dict]:
    """One entry per output file, sorted by path."""
    return [
        {"path": name, "rows": rows[name], "sha256": sha256(files[name]), "command": COMMAND}
        for name in sorted(files)
    ]


def build(
    read_log: dict[str, str],
    releases: dict[str, str],
    files: dict[str, bytes],
    rows: dict[str, int],
    server_files: dict[str, bytes],
    server_rows: dict[str, int],
    crosscheck: dict,
    periods: dict,
    unmatched: dict[str, list[str]],
    notes: dict,
) -> dict:
    """The manifest's content; `periods` (see pipeline.periods) is what the app reads its years from."""
    return {
        "generated_by": COMMAND,
        **periods,
        "inputs": inputs(read_log, releases),
        "outputs": outputs(files, rows),
        "server_outputs": outputs(server_files, server_rows),
        "temperature_crosscheck": crosscheck,
        "unmatched": unmatched,
        "notes": notes,
    }
