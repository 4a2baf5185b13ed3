"""The small raw tree under tests/data/raw/ is what tests/data/make_raw.py cuts from the snapshot, and
the pipeline runs clean on it: an error test over it fails because of its one broken file, never
because of the fixture."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from pipeline.__main__ import main
from tests.data import make_raw

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "data" / "precomputed"
COMMITTED_SERVER = ROOT / "data" / "server"
# output table -> the column holding the country (tables without one must be equal as a whole)
BY_COUNTRY = {
    "countries.csv": "iso3",
    "warming.csv": "iso3",
    "temperature.csv.gz": "iso3",
    "indicators.csv.gz": "iso3",
    "seed_tdiff.csv": "iso3",
    "world_temperature.csv": None,
    "world_indicators.csv": None,
    "indicator_meta.csv": None,
}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def fresh_cut() -> dict[str, bytes]:
    """A cut of the snapshot; a missing snapshot fails, as CI always has it."""
    if not make_raw.SOURCE.is_dir():
        pytest.fail(
            f"no raw snapshot at {make_raw.SOURCE}: the fixture check compares with a fresh cut of it"
        )
    return make_raw.cut()


def test_committed_fixtures_equal_a_fresh_cut() -> None:
    fresh, committed = fresh_cut(), tree(make_raw.FIXTURE)
    remake = "remake them with `python -m tests.data.make_raw` and commit"
    assert sorted(committed) == sorted(fresh), f"the fixture files differ from a fresh cut's: {remake}"
    changed = [rel for rel in fresh if committed[rel] != fresh[rel]]
    assert not changed, f"{changed} differ from a fresh cut: {remake}"


def test_the_cut_is_deterministic_and_written_whole(tmp_path: Path) -> None:
    files = fresh_cut()
    assert make_raw.cut() == files
    dest = tmp_path / "raw"
    make_raw.write_tree({"stale.csv": b"x\n"}, dest)
    make_raw.write_tree(files, dest)
    assert tree(dest) == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]  # no temp folder left behind


def table(data: bytes, name: str) -> list[dict[str, str]]:
    """An output table's rows."""
    text = (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_pipeline_runs_clean_on_the_fixture_tree(tmp_path: Path) -> None:
    """The run succeeds, its outputs are the committed outputs' rows for the fixture's countries (so
    the cut changed no value and the re-indexed TopoJSON decodes to the same rings), and it reaches
    the code paths the countries were kept for."""
    out, server = tmp_path / "out", tmp_path / "server"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["--raw", str(make_raw.FIXTURE), "--out", str(out), "--server-out", str(server)])
    assert rc == 0, err.getvalue()

    countries = {row["iso3"] for row in table((out / "countries.csv").read_bytes(), "countries.csv")}
    assert countries == make_raw.COUNTRIES | make_raw.NO_DATA_POLYGONS
    for name, column in BY_COUNTRY.items():
        committed = table((COMMITTED / name).read_bytes(), name)
        expected = [row for row in committed if column is None or row[column] in countries]
        assert table((out / name).read_bytes(), name) == expected, name
    for folder, committed_folder, name in [
        (out, COMMITTED, "geometry.json"),
        (server, COMMITTED_SERVER, "countries-110m-lonlat.json"),
        (server, COMMITTED_SERVER, "countries-50m-lonlat.json"),
    ]:
        made = json.loads((folder / name).read_text(encoding="utf-8"))
        committed = json.loads((committed_folder / name).read_text(encoding="utf-8"))
        assert made["countries"] == [c for c in committed["countries"] if c["iso3"] in countries], name
        assert {c["iso3"] for c in made["countries"]} >= make_raw.NO_DATA_POLYGONS, name

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notes"]["faostat_series"] == ["CIV"]  # the FAOSTAT fallback
    assert manifest["notes"]["indicator_aggregates_dropped"] == ["WLD"]
    assert manifest["temperature_crosscheck"]["countries_compared"] == 4  # AFG, ALB, ABW, DZA
    assert manifest["unmatched"]["faostat_areas"] == ["USSR"]  # OECD is an aggregate: skipped
