"""Malformed raw files stop the pipeline with one clear line and leave old outputs intact;
good files that differ only in width or line endings are accepted.

Each case copies the raw tree (symlinks, one file replaced by a broken copy) into a temp folder.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT.parent / "shared" / "data" / "raw"
COMMITTED = ROOT / "data" / "precomputed"
COMMITTED_SERVER = ROOT / "data" / "server"
IMF = "imf/Annual_Surface_Temperature_Change.csv"
FAO = "faostat/Environment_Temperature_change_E_All_Data_NOFLAG.csv"
POP = "worldbank/API_SP.POP.TOTL_DS2_en_csv_v2_6011311.csv"  # LF, ends 2022
FOREST = "worldbank/API_AG.LND.FRST.ZS_DS2_en_csv_v2_5994693.csv"  # CRLF, ends 2022
GDP = "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_86973.csv"  # LF, ends 2024
SEED = "seed-dashboard/tdiff4.csv"
CENTROIDS = "seed-dashboard/country_centroids_az8.csv"


def raw_copy(tmp: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A raw tree of symlinks, with the named files replaced by changed copies."""
    root = tmp / "raw"
    for source in RAW.rglob("*"):
        if source.is_file():
            target = root / source.relative_to(RAW)
            target.parent.mkdir(parents=True, exist_ok=True)
            rel = source.relative_to(RAW).as_posix()
            if rel in changes:
                target.write_bytes(changes[rel](source.read_bytes()))
            else:
                target.symlink_to(source)
    return root


def previous_outputs(tmp: Path) -> tuple[Path, Path]:
    """Output folders holding the committed outputs, standing in for a previous run."""
    out, server = tmp / "out", tmp / "server"
    shutil.copytree(COMMITTED, out)
    shutil.copytree(COMMITTED_SERVER, server)
    return out, server


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in sorted(folder.rglob("*"))}


def line_of(data: bytes, marker: bytes) -> int:
    """1-based number of the first line containing marker."""
    return data[: data.index(marker)].count(b"\n") + 1


def first_non_ascii_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if not line.isascii())


def appended_line(data: bytes) -> int:
    """Number of a line appended by duplicate_line."""
    return data.count(b"\n") + (1 if data.endswith(b"\n") else 2)


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)

    return change


def duplicate_line(marker: bytes) -> Callable[[bytes], bytes]:
    """Append a copy of the first line containing marker at the end of the file."""

    def change(data: bytes) -> bytes:
        start = data.rfind(b"\n", 0, data.index(marker)) + 1
        end = data.index(b"\n", start) + 1
        return data + (b"" if data.endswith(b"\n") else b"\n") + data[start:end]

    return change


def reencode(source: str, target: str) -> Callable[[bytes], bytes]:
    return lambda data: data.decode(source).encode(target)


IMF_BYTES = (RAW / IMF).read_bytes()
POP_BYTES = (RAW / POP).read_bytes()
FAO_BYTES = (RAW / FAO).read_bytes()

CASES = {
    "imf-missing-key-column": (
        IMF,
        replace(b",ISO3,", b",ISO_3,"),
        f"{IMF}, line 1: key column 'ISO3' is missing",
    ),
    "imf-duplicate-key": (
        IMF,
        duplicate_line(b",AF,AFG,"),
        f"{IMF}, line {appended_line(IMF_BYTES)}: duplicate ISO3 'AFG'",
    ),
    "imf-non-numeric": (
        IMF,
        replace(b",-0.113,-0.164,", b",n/a,-0.164,"),
        f"{IMF}, line 2: column 'F1961': 'n/a' is not a number",
    ),
    "imf-wrong-encoding": (
        IMF,
        reencode("utf-8-sig", "cp1252"),
        f"{IMF}, line {first_non_ascii_line(IMF_BYTES.decode('utf-8-sig'))}: not valid utf-8-sig",
    ),
    "fao-wrong-encoding": (FAO, reencode("cp1252", "utf-8"), f"{FAO}, line 2: Unit 'Â°C', expected '°C'"),
    "fao-duplicate-key": (
        FAO,
        duplicate_line(b"2,Afghanistan,7020,Meteorological year,7271,"),
        f"{FAO}, line {appended_line(FAO_BYTES)}: duplicate area/month/element ('2', '7020', '7271')",
    ),
    "fao-renamed-area": (
        FAO,
        lambda data: data.replace(b"4,Algeria,", b"4,Algeria (renamed),"),
        f"{FAO}, line {line_of(FAO_BYTES, b'4,Algeria,')}: area 4 is 'Algeria (renamed)'",
    ),
    "wdi-missing-key-column": (
        POP,
        replace(b'"Country Code"', b'"Code"'),
        f"{POP}, line 5: first columns are",
    ),
    "wdi-duplicate-key": (
        POP,
        duplicate_line(b'"Aruba","ABW"'),
        f"{POP}, line {appended_line(POP_BYTES)}: duplicate Country Code 'ABW'",
    ),
    "wdi-non-numeric": (
        POP,
        replace(b'"54608"', b'"54,608"'),
        f"{POP}, line 6: column '1960': '54,608' is not a number",
    ),
    "wdi-wrong-encoding": (
        POP,
        reencode("utf-8-sig", "utf-16"),
        f"{POP}, line 1: not valid utf-8-sig (byte 0xff)",
    ),
    "wdi-year-gap": (POP, replace(b'"1970"', b'"1907"'), f"{POP}, line 5: year columns are not contiguous"),
    "wdi-unreviewed-indicator-name": (
        POP,
        lambda data: data.replace(b'"Population, total"', b'"Population, total (thousands)"'),
        f"{POP}, line 6: Indicator Name 'Population, total (thousands)', reviewed name is",
    ),
    "seed-non-numeric": (
        SEED,
        replace(b"Albania,2.029458", b"Albania,2.0x"),
        f"{SEED}, line 3: column 'tempchange'",
    ),
    "centroids-duplicate-key": (
        CENTROIDS,
        duplicate_line(b"country_centroids_az8.1,"),
        f"{CENTROIDS}, line 243: duplicate country key (iso_a3, else adm0_a3) 'ABW'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_input_fails_clearly_and_keeps_old_outputs(case: str, tmp_path, capsys) -> None:
    rel, change, expected = CASES[case]
    raw = raw_copy(tmp_path, {rel: change})
    out, server = previous_outputs(tmp_path)
    before = snapshot(out, server)
    rc = main(["--raw", str(raw), "--out", str(out), "--server-out", str(server)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith(f"pipeline: error: {expected}"), err
    assert err.count("\n") == 1, err
    assert snapshot(out, server) == before


def test_command_prints_one_line_without_traceback(tmp_path) -> None:
    raw = raw_copy(tmp_path, {IMF: replace(b",ISO3,", b",ISO_3,")})
    out, server = previous_outputs(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--raw", str(raw), "--out", str(out), "--server-out", str(server)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"pipeline: error: {IMF}, line 1: key column 'ISO3' is missing"]


def switch_line_endings(data: bytes) -> bytes:
    if b"\r\n" in data:
        return data.replace(b"\r\n", b"\n")
    return data.replace(b"\n", b"\r\n")


def cut_to(last_year: int) -> Callable[[bytes], bytes]:
    """Drop the year columns after last_year, keeping the preamble and the trailing empty column."""

    def change(data: bytes) -> bytes:
        text = data.decode("utf-8-sig")
        head = "".join(text.splitlines(keepends=True)[:4])
        records = list(csv.reader(io.StringIO("".join(text.splitlines(keepends=True)[4:]))))
        keep = records[0].index(str(last_year)) + 1
        body = io.StringIO()
        csv.writer(body, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            [r[:keep] + [""] for r in records]
        )
        return ("\ufeff" + head + body.getvalue().replace('""\n', "\n")).encode("utf-8")

    return change


def indicator_rows(folder: Path) -> list[list[str]]:
    text = gzip.decompress((folder / "indicators.csv.gz").read_bytes()).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))[1:]


def test_width_and_line_endings_are_accepted(tmp_path) -> None:
    raw = raw_copy(tmp_path, {POP: switch_line_endings, FOREST: switch_line_endings, GDP: cut_to(2021)})
    assert b"\r\n" in (raw / POP).read_bytes() and b"\r\n" not in (raw / FOREST).read_bytes()
    out, server = tmp_path / "out", tmp_path / "server"
    assert main(["--raw", str(raw), "--out", str(out), "--server-out", str(server)]) == 0
    expected = [
        r for r in indicator_rows(COMMITTED) if not (r[0] == "NY.GDP.PCAP.PP.KD" and int(r[2]) > 2021)
    ]
    assert indicator_rows(out) == expected
