"""Malformed raw files stop the pipeline with one clear line and leave old outputs intact;
good files that differ only in width, line endings or a UTF-8 byte-order mark are accepted.

Each error case copies the small fixture tree (tests/data/raw/, cut from the snapshot by
tests/data/make_raw.py) with one file replaced by a broken copy, over copies of the outputs a clean
run on that tree made; a reviewed table is broken in a copy of pipeline/reference/ that the run is
pointed at. Line numbers in the expected messages are computed from the fixture's bytes. The two
tests that good files are accepted compare with that clean run's outputs.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import reference
from pipeline.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "raw"
IMF = "imf/Annual_Surface_Temperature_Change.csv"
FAO = "faostat/Environment_Temperature_change_E_All_Data_NOFLAG.csv"
POP = "worldbank/API_SP.POP.TOTL_DS2_en_csv_v2_6011311.csv"  # LF, ends 2022
FOREST = "worldbank/API_AG.LND.FRST.ZS_DS2_en_csv_v2_5994693.csv"  # CRLF, ends 2022
GDP = "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_86973.csv"  # LF, ends 2024
CO2 = "worldbank/API_EN.ATM.CO2E.PC_DS2_en_csv_v2_5358914.csv"  # LF
SEED = "seed-dashboard/tdiff4.csv"
CENTROIDS = "seed-dashboard/country_centroids_az8.csv"
NE_STEM = "naturalearth/ne_110m_admin_0_countries/ne_110m_admin_0_countries"
REFERENCE = ROOT / "pipeline" / "reference"
FAO_AREAS = "pipeline/reference/fao_areas.csv"
INDICATOR_TABLE = "pipeline/reference/indicators.csv"


def raw_copy(tmp: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of the small fixture tree with the named files replaced by changed copies."""
    root = tmp / "raw"
    raw_changes = [rel for rel in changes if not rel.startswith("pipeline/")]
    assert all((FIXTURE / rel).is_file() for rel in raw_changes), f"not all of {raw_changes} in {FIXTURE}"
    for path in FIXTURE.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(FIXTURE)
            target.parent.mkdir(parents=True, exist_ok=True)
            rel = path.relative_to(FIXTURE).as_posix()
            if rel in changes:
                target.write_bytes(changes[rel](path.read_bytes()))
            else:
                shutil.copyfile(path, target)
    return root


def reference_copy(tmp: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of the reviewed tables, with the named ones (repository paths) replaced by changed copies."""
    folder = tmp / "reference"
    folder.mkdir()
    for source in sorted(REFERENCE.glob("*.csv")):
        rel = source.relative_to(ROOT).as_posix()
        data = source.read_bytes()
        (folder / source.name).write_bytes(changes[rel](data) if rel in changes else data)
    return folder


@pytest.fixture(scope="module")
def fixture_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """What a clean run on the fixture tree writes (out, server): the "previous outputs" of every
    error case, made once per module so a case only pays for its own run."""
    tmp = tmp_path_factory.mktemp("fixture-run")
    out, server = tmp / "out", tmp / "server"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["--raw", str(FIXTURE), "--out", str(out), "--server-out", str(server)])
    problem = err.getvalue().strip()
    assert rc == 0, f"the fixture tree fails on its own: {problem} (remake: python -m tests.data.make_raw)"
    return out, server


def previous_outputs(tmp: Path, made: tuple[Path, Path]) -> tuple[Path, Path]:
    """Output folders holding a clean run's outputs, standing in for a previous run."""
    out, server = tmp / "out", tmp / "server"
    shutil.copytree(made[0], out)
    shutil.copytree(made[1], server)
    return out, server


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def line_of(data: bytes, marker: bytes) -> int:
    """1-based number of the first line containing marker."""
    return data[: data.index(marker)].count(b"\n") + 1


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


IMF_BYTES = (FIXTURE / IMF).read_bytes()
POP_BYTES = (FIXTURE / POP).read_bytes()
FAO_BYTES = (FIXTURE / FAO).read_bytes()
SEED_BYTES = (FIXTURE / SEED).read_bytes()
CENTROIDS_BYTES = (FIXTURE / CENTROIDS).read_bytes()

# Where each case's fault lands: the lines of its marker in the fixture bytes.
IMF_HEADER = line_of(IMF_BYTES, b",ISO3,")
IMF_AFG_1961 = line_of(IMF_BYTES, b",-0.113,-0.164,")
IMF_BASE = line_of(IMF_BYTES, b"period 1951-1980")
FAO_ALGERIA = line_of(FAO_BYTES, b"4,Algeria,")
POP_HEADER = line_of(POP_BYTES, b'"Country Code"')
POP_1970 = line_of(POP_BYTES, b'"1970"')
POP_ABW_1960 = line_of(POP_BYTES, b'"54608"')
POP_NAME = line_of(POP_BYTES, b'"Population, total"')
SEED_ALBANIA = line_of(SEED_BYTES, b"Albania,2.029458")
CENTROIDS_APPENDED = appended_line(CENTROIDS_BYTES)

CASES = {
    "imf-missing-key-column": (
        IMF,
        replace(b",ISO3,", b",ISO_3,"),
        f"{IMF}, line {IMF_HEADER}: key column 'ISO3' is missing",
    ),
    "imf-duplicate-key": (
        IMF,
        duplicate_line(b",AF,AFG,"),
        f"{IMF}, line {appended_line(IMF_BYTES)}: duplicate ISO3 'AFG'",
    ),
    "imf-non-numeric": (
        IMF,
        replace(b",-0.113,-0.164,", b",n/a,-0.164,"),
        f"{IMF}, line {IMF_AFG_1961}: column 'F1961': 'n/a' is not a number",
    ),
    "imf-other-base-period": (  # the manifest tells the app the base period: it must be the file's
        IMF,
        replace(b"period 1951-1980", b"period 1961-1990"),
        f"{IMF}, line {IMF_BASE}: Indicator 'Temperature change with respect to a baseline climatology, "
        "corresponding to the period 1961-1990', expected a base period 'corresponding to the period "
        "1951-1980'",
    ),
    "fao-duplicate-key": (
        FAO,
        duplicate_line(b"2,Afghanistan,7020,Meteorological year,7271,"),
        f"{FAO}, line {appended_line(FAO_BYTES)}: duplicate area/month/element ('2', '7020', '7271')",
    ),
    "fao-renamed-area": (
        FAO,
        lambda data: data.replace(b"4,Algeria,", b"4,Algeria (renamed),"),
        f"{FAO}, line {FAO_ALGERIA}: area 4 is 'Algeria (renamed)'",
    ),
    "fao-unknown-months-code": (  # a month or season the app would not offer: stop for review
        FAO,
        replace(b",7001,January,", b",7099,January,"),
        f"{FAO}, line {line_of(FAO_BYTES, b',7001,January,')}: Months Code 7099 'January' is not a "
        "month, season or the meteorological year",
    ),
    "wdi-missing-key-column": (
        POP,
        replace(b'"Country Code"', b'"Code"'),
        f"{POP}, line {POP_HEADER}: first columns are",
    ),
    "wdi-duplicate-key": (
        POP,
        duplicate_line(b'"Aruba","ABW"'),
        f"{POP}, line {appended_line(POP_BYTES)}: duplicate Country Code 'ABW'",
    ),
    "wdi-non-numeric": (
        POP,
        replace(b'"54608"', b'"54,608"'),
        f"{POP}, line {POP_ABW_1960}: column '1960': '54,608' is not a number",
    ),
    "wdi-year-gap": (
        POP,
        replace(b'"1970"', b'"1907"'),
        f"{POP}, line {POP_1970}: year columns are not contiguous",
    ),
    "wdi-unreviewed-indicator-name": (
        POP,
        lambda data: data.replace(b'"Population, total"', b'"Population, total (thousands)"'),
        f"{POP}, line {POP_NAME}: Indicator Name 'Population, total (thousands)', reviewed name is",
    ),
    "seed-non-numeric": (
        SEED,
        replace(b"Albania,2.029458", b"Albania,2.0x"),
        f"{SEED}, line {SEED_ALBANIA}: column 'tempchange'",
    ),
    "centroids-duplicate-key": (
        CENTROIDS,
        duplicate_line(b"country_centroids_az8.1,"),
        f"{CENTROIDS}, line {CENTROIDS_APPENDED}: duplicate country key (iso_a3, else adm0_a3) 'ABW'",
    ),
}


def failing_run(
    tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    made: tuple[Path, Path],
    changes: dict[str, Callable[[bytes], bytes]],
) -> str:
    """Run on changed copies of the fixture tree over a copy of a clean run's outputs; return the
    one error line.

    The run must fail with status 1 and one line, and leave the previous outputs byte-identical.
    """
    raw = raw_copy(tmp, changes)
    monkeypatch.setattr(reference, "HERE", reference_copy(tmp, changes))
    out, server = previous_outputs(tmp, made)
    before = snapshot(out, server)
    rc = main(["--raw", str(raw), "--out", str(out), "--server-out", str(server)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1, err
    assert snapshot(out, server) == before
    return err


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_input_fails_clearly_and_keeps_old_outputs(
    case: str, tmp_path, capsys, monkeypatch, fixture_outputs
) -> None:
    rel, change, expected = CASES[case]
    err = failing_run(tmp_path, capsys, monkeypatch, fixture_outputs, {rel: change})
    assert err.startswith(f"pipeline: error: {expected}"), err


def test_command_prints_one_line_without_traceback(tmp_path, fixture_outputs) -> None:
    raw = raw_copy(tmp_path, {IMF: replace(b",ISO3,", b",ISO_3,")})
    out, server = previous_outputs(tmp_path, fixture_outputs)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--raw", str(raw), "--out", str(out), "--server-out", str(server)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    expected = f"pipeline: error: {IMF}, line {IMF_HEADER}: key column 'ISO3' is missing"
    assert done.stderr.splitlines() == [expected]


# Decoding and dialect faults: each file re-saved as a spreadsheet or an editor would, in the wrong
# encoding, with or without a byte-order mark, or with another separator. The message must name the
# cause and the fix, never a symptom further on (a key column missing, a field count, a unit).
EXPECTED_ENCODING = {
    IMF: "UTF-8",
    POP: "UTF-8",
    FOREST: "UTF-8",
    SEED: "UTF-8",
    CENTROIDS: "UTF-8",
    FAO_AREAS: "UTF-8",
    INDICATOR_TABLE: "UTF-8",
    FAO: "cp1252 (Windows-1252)",
}
# What the pipeline said before it checked the bytes and the separator.
MISLEADING = (
    "key column",
    "fields, the header has",
    "first columns are",
    "utf-8-sig",
    "(byte 0x",
    "wrong encoding?",
    "Unit '",
)
Fault = Callable[[str, bytes], tuple[bytes, str]]


def original(rel: str) -> bytes:
    """A file as in the fixture tree (raw) or as committed (reviewed table)."""
    return (ROOT / rel if rel.startswith("pipeline/") else FIXTURE / rel).read_bytes()


def text_of(rel: str, data: bytes) -> str:
    """A file's text, without its byte-order mark."""
    return data.decode("cp1252" if rel == FAO else "utf-8-sig")


def encoded(rel: str, data: bytes, text: str) -> bytes:
    """Text back in the file's own encoding, keeping the byte-order mark the original had."""
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    return bom + text.encode("cp1252" if rel == FAO else "utf-8")


def header_line(rel: str, text: str) -> int:
    """Line of the header: after the WDI preamble, or after a reviewed table's '#' comments."""
    if rel.startswith("worldbank/"):
        return 5
    return next(n for n, line in enumerate(text.splitlines(), start=1) if not line.startswith("#"))


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based line of the byte at offset."""
    return data[:offset].count(b"\n") + 1


def wide(codec: str, name: str, bom: str) -> Fault:
    """Re-saved as UTF-16 or UTF-32 with a byte-order mark."""

    def fault(rel: str, data: bytes) -> tuple[bytes, str]:
        expected = EXPECTED_ENCODING[rel]
        problem = f"the file is {name} (byte-order mark {bom}); expected {expected}: re-save it as {expected}"
        return ("\ufeff" + text_of(rel, data)).encode(codec), f"line 1: {problem}"

    return fault


def utf16_without_bom(rel: str, data: bytes) -> tuple[bytes, str]:
    expected = EXPECTED_ENCODING[rel]
    return text_of(rel, data).encode("utf-16-le"), (
        "line 1: NUL byte at byte offset 1: the file looks like UTF-16 without a byte-order mark; "
        f"expected {expected}: re-save it as {expected}"
    )


def as_cp1252(rel: str, data: bytes) -> tuple[bytes, str]:
    """A UTF-8 file re-saved as cp1252."""
    new = text_of(rel, data).encode("cp1252")
    offset = next(i for i, byte in enumerate(new) if byte > 0x7F)
    return new, (
        f"line {line_of_offset(new, offset)}: byte 0x{new[offset]:02X} at byte offset {offset} is not "
        "valid UTF-8; the file looks like cp1252 (Windows-1252): re-save it as UTF-8"
    )


def as_utf8(rel: str, data: bytes) -> tuple[bytes, str]:
    """The cp1252 file re-saved as UTF-8 without a byte-order mark."""
    new = text_of(rel, data).encode("utf-8")
    offset = next(i for i, byte in enumerate(new) if byte > 0x7F)
    char = new[offset:].decode("utf-8")[0]
    return new, (
        f"line {line_of_offset(new, offset)}: the file is UTF-8 ({char!r} at byte offset {offset} is a "
        "UTF-8 sequence); expected cp1252 (Windows-1252): re-save it as cp1252 (Windows-1252)"
    )


def as_utf8_with_bom(rel: str, data: bytes) -> tuple[bytes, str]:
    """The cp1252 file re-saved as UTF-8 with a byte-order mark (the FAOSTAT case of the issue)."""
    return codecs.BOM_UTF8 + text_of(rel, data).encode("utf-8"), (
        "line 1: the file is UTF-8 with a byte-order mark (EF BB BF); expected cp1252 (Windows-1252): "
        "re-save it as cp1252 (Windows-1252), without a byte-order mark"
    )


def bom_added(rel: str, data: bytes) -> tuple[bytes, str]:
    """A UTF-8 byte-order mark put in front of the unchanged cp1252 bytes."""
    return codecs.BOM_UTF8 + data, (
        "line 1: the file starts with a UTF-8 byte-order mark (EF BB BF); expected cp1252 (Windows-1252): "
        "remove the byte-order mark"
    )


def separated(separator: str, named: str) -> Fault:
    """Re-saved by a spreadsheet with another separator; encoding, line endings and a reviewed
    table's leading '#' comments kept."""

    def fault(rel: str, data: bytes) -> tuple[bytes, str]:
        text = text_of(rel, data)
        lines = text.splitlines(keepends=True)
        comments = next(n for n, line in enumerate(lines) if not line.startswith("#"))
        body = io.StringIO()
        ending = "\r\n" if "\r\n" in text else "\n"
        records = csv.reader(io.StringIO("".join(lines[comments:]), newline=""))
        csv.writer(body, delimiter=separator, lineterminator=ending).writerows(records)
        problem = f"the file uses {named} as separator; expected ',': re-save it with ',' as separator"
        changed = encoded(rel, data, "".join(lines[:comments]) + body.getvalue())
        return changed, f"line {header_line(rel, text)}: {problem}"

    return fault


FAULTS: dict[str, tuple[Fault, list[str]]] = {
    "utf-16": (wide("utf-16-le", "UTF-16", "FF FE"), [IMF, FAO, POP, CENTROIDS, FAO_AREAS]),
    "utf-16-be": (wide("utf-16-be", "UTF-16", "FE FF"), [FOREST, INDICATOR_TABLE]),
    "utf-32": (wide("utf-32-le", "UTF-32", "FF FE 00 00"), [IMF]),
    "utf-16-without-bom": (utf16_without_bom, [IMF, FAO, SEED]),
    # The WDI files and tdiff4.csv are ASCII, and the published centroids file's mojibake holds
    # characters cp1252 cannot encode (U+0085), so it has no cp1252 re-save.
    "cp1252-in-utf-8-file": (as_cp1252, [IMF, FAO_AREAS]),
    "utf-8-in-cp1252-file": (as_utf8, [FAO]),
    "utf-8-with-bom-in-cp1252-file": (as_utf8_with_bom, [FAO]),
    "bom-before-cp1252": (bom_added, [FAO]),
    "semicolon": (separated(";", "';'"), [IMF, FAO, POP, SEED, INDICATOR_TABLE]),
    "tab": (separated("\t", "tab"), [FAO, FOREST, FAO_AREAS]),
    "pipe": (separated("|", "'|'"), [IMF, CENTROIDS]),
}


@pytest.mark.parametrize(
    ("fault", "rel"), [(fault, rel) for fault, (_, files) in FAULTS.items() for rel in files]
)
def test_decoding_and_dialect_faults_name_the_cause_and_fix(
    fault: str, rel: str, tmp_path, capsys, monkeypatch, fixture_outputs
) -> None:
    change, _ = FAULTS[fault]
    changed, problem = change(rel, original(rel))
    err = failing_run(tmp_path, capsys, monkeypatch, fixture_outputs, {rel: lambda _: changed})
    assert err == f"pipeline: error: {rel}, {problem}\n"
    assert not [words for words in MISLEADING if words in err], err


def switch_line_endings(data: bytes) -> bytes:
    if b"\r\n" in data:
        return data.replace(b"\r\n", b"\n")
    return data.replace(b"\n", b"\r\n")


def mix_line_endings(data: bytes) -> bytes:
    """Every other line ending CRLF, the rest LF, as after an edit in an editor that writes the other."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    return b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(lines[:-1])) + lines[-1]


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


def test_width_and_line_endings_are_accepted(tmp_path, fixture_outputs) -> None:
    changes = {
        POP: switch_line_endings,
        FOREST: switch_line_endings,
        CO2: mix_line_endings,
        GDP: cut_to(2021),
    }
    raw = raw_copy(tmp_path, changes)
    assert b"\r\n" in (raw / POP).read_bytes() and b"\r\n" not in (raw / FOREST).read_bytes()
    mixed = (raw / CO2).read_bytes()
    assert 0 < mixed.count(b"\r\n") < mixed.count(b"\n")
    out, server = tmp_path / "out", tmp_path / "server"
    assert main(["--raw", str(raw), "--out", str(out), "--server-out", str(server)]) == 0
    clean = indicator_rows(fixture_outputs[0])
    expected = [r for r in clean if not (r[0] == "NY.GDP.PCAP.PP.KD" and int(r[2]) > 2021)]
    assert len(expected) < len(clean), "the fixture has no GDP after 2021"
    assert indicator_rows(out) == expected


def add_bom(data: bytes) -> bytes:
    return codecs.BOM_UTF8 + data


# Every file read as UTF-8 or ASCII that does not already start with a byte-order mark.
BOM_ACCEPTED = [
    SEED,
    CENTROIDS,
    "iso-codes/codes.json",
    "world-atlas/countries-110m.json",
    NE_STEM + ".prj",
    NE_STEM + ".cpg",
    NE_STEM + ".VERSION.txt",
]


def test_utf8_bom_is_accepted_where_utf8_is_expected(tmp_path, monkeypatch, fixture_outputs) -> None:
    """A UTF-8 byte-order mark only confirms UTF-8 (or ASCII), so it changes no output: the manifest
    differs only in the hashes of the files that were given one."""
    raw = raw_copy(tmp_path, dict.fromkeys(BOM_ACCEPTED, add_bom))
    tables = [p.relative_to(ROOT).as_posix() for p in REFERENCE.glob("*.csv")]
    monkeypatch.setattr(reference, "HERE", reference_copy(tmp_path, dict.fromkeys(tables, add_bom)))
    out, server = tmp_path / "out", tmp_path / "server"
    assert main(["--raw", str(raw), "--out", str(out), "--server-out", str(server)]) == 0
    for folder, clean in zip((out, server), fixture_outputs, strict=True):
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in clean.iterdir())
        for path in sorted(folder.iterdir()):
            if path.name != "manifest.json":
                assert path.read_bytes() == (clean / path.name).read_bytes(), path.name
    expected = json.loads((fixture_outputs[0] / "manifest.json").read_text(encoding="utf-8"))
    for entry in expected["inputs"]:
        if entry["path"] in BOM_ACCEPTED:
            entry["sha256"] = hashlib.sha256((raw / entry["path"]).read_bytes()).hexdigest()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == expected
