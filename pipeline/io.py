"""Reading raw files strictly and writing outputs deterministically.

Every raw-file problem becomes one `RawDataError` naming the file, the line and the problem, so
`python -m pipeline` can print one line and stop before anything is written. Every CSV, raw or
reviewed, is read through `decode` and `parse_csv`, so an encoding, byte-order-mark or separator
problem is reported as itself, with its fix, and never as a missing column or a field count.
Outputs are bytes built in memory, then written to a temp file in the same folder and renamed, so
a reader never sees half a file and two runs give identical bytes.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd


class RawDataError(Exception):
    """A raw input is malformed; the message names the file, the line and the problem."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


Encoding = Literal["utf-8", "ascii", "cp1252"]
ENCODING_NAMES: dict[str, str] = {"utf-8": "UTF-8", "ascii": "ASCII", "cp1252": "cp1252 (Windows-1252)"}
UTF8_COMPATIBLE = ("utf-8", "ascii")
# UTF-32 LE before UTF-16 LE: the first's byte-order mark starts with the second's.
WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
SEPARATOR = ","
OTHER_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def line_at(data: bytes, offset: int) -> int:
    """1-based line of the byte at offset, counting CRLF, LF and CR endings as csv.reader does."""
    return len(data[: offset + 1].splitlines())


def hex_bytes(data: bytes) -> str:
    """Bytes as the field writes them in messages, e.g. 'EF BB BF'."""
    return data.hex(" ").upper()


def valid(data: bytes, encoding: str) -> bool:
    """Whether data decodes strictly in encoding."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode(path: str, data: bytes, encoding: Encoding) -> str:
    """A whole file's text in its expected encoding, or a `RawDataError` naming the cause and fix.

    A file re-saved by a spreadsheet or an editor otherwise fails far from the cause (a BOM glued to
    the first column name reads as "key column missing"), so the bytes are checked first, in order:

    - A UTF-16 or UTF-32 byte-order mark, or any NUL byte (UTF-16 without a BOM is full of them; no
      text file here has one), means the file is in a wide encoding: re-save it as the expected one.
    - A UTF-8 BOM (EF BB BF) is accepted and dropped where the expected encoding is UTF-8 or ASCII:
      there it only confirms the encoding (Excel and Notepad add it; the IMF and WDI files have it).
      Where the expected encoding is cp1252 it is an error, never decoded: as cp1252 it would become
      "ï»¿" glued to the first column name, and it marks a re-save as UTF-8, which turns "°" into "Â°".
    - A cp1252 file whose non-ASCII bytes are all valid UTF-8 is UTF-8: real cp1252 text ("°" is a
      lone 0xB0) practically never is, and decoding it as cp1252 would garble every such character.
    - A byte invalid in the expected encoding is named with its byte offset and line, and the
      encoding the file looks like when it decodes in another one.
    """
    expected = ENCODING_NAMES[encoding]
    resave = f"re-save it as {expected}"
    for bom, wide in WIDE_BOMS:
        if data.startswith(bom):
            cause = f"the file is {wide} (byte-order mark {hex_bytes(bom)})"
            raise RawDataError(path, 1, f"{cause}; expected {expected}: {resave}")
    nul = data.find(b"\0")
    if nul >= 0:
        raise RawDataError(
            path,
            line_at(data, nul),
            f"NUL byte at byte offset {nul}: the file looks like UTF-16 without a byte-order mark; "
            f"expected {expected}: {resave}",
        )
    start = 0
    if data.startswith(codecs.BOM_UTF8):
        if encoding not in UTF8_COMPATIBLE:
            raise RawDataError(path, 1, utf8_bom_problem(data[len(codecs.BOM_UTF8) :], expected))
        start = len(codecs.BOM_UTF8)
    elif encoding not in UTF8_COMPATIBLE and not data.isascii() and valid(data, "utf-8"):
        text = data.decode("utf-8")
        offset = next(i for i, char in enumerate(text) if not char.isascii())  # = its byte offset
        raise RawDataError(
            path,
            line_at(data, offset),
            f"the file is UTF-8 ({text[offset]!r} at byte offset {offset} is a UTF-8 sequence); "
            f"expected {expected}: {resave}",
        )
    try:
        return data[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        others = [name for name in ("utf-8", "cp1252") if name != encoding and valid(data[start:], name)]
        hint = f"; the file looks like {ENCODING_NAMES[others[0]]}" if others else ""
        raise RawDataError(
            path,
            line_at(data, offset),
            f"byte 0x{data[offset]:02X} at byte offset {offset} is not valid {expected}{hint}: {resave}",
        ) from None


def utf8_bom_problem(rest: bytes, expected: str) -> str:
    """What a UTF-8 BOM means in a file expected in a single-byte encoding, and its fix."""
    if not rest.isascii() and valid(rest, "utf-8"):
        return (
            f"the file is UTF-8 with a byte-order mark (EF BB BF); expected {expected}: "
            f"re-save it as {expected}, without a byte-order mark"
        )
    return (
        f"the file starts with a UTF-8 byte-order mark (EF BB BF); expected {expected}: "
        "remove the byte-order mark"
    )


@dataclass
class RawDir:
    """The raw snapshot folder; records the sha256 of every file read, for the manifest."""

    root: Path
    read_log: dict[str, str] = field(default_factory=dict)

    def read_bytes(self, rel: str) -> bytes:
        """Return a file's bytes and remember its hash (every file read must reach the manifest)."""
        path = self.root / rel
        if not path.is_file():
            raise RawDataError(rel, None, f"file not found under {self.root}")
        data = path.read_bytes()
        self.read_log[rel] = hashlib.sha256(data).hexdigest()
        return data

    def glob(self, pattern: str) -> list[str]:
        """Relative paths matching a pattern, sorted so that runs are deterministic."""
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.glob(pattern))

    def read_text(self, rel: str, encoding: Encoding) -> str:
        """A file's text, decoded by `decode`'s rules."""
        return decode(rel, self.read_bytes(rel), encoding)


@dataclass
class Table:
    """A CSV read as strings, each row keeping its physical line number for error messages."""

    path: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int

    def error(self, row: int | None, problem: str) -> RawDataError:
        """An error at a data row (by index), or at the header when row is None."""
        return RawDataError(self.path, self.header_line if row is None else self.lines[row], problem)

    def require(self, columns: list[str]) -> None:
        """Fail unless every key column is present exactly once."""
        for name in columns:
            if self.header.count(name) != 1:
                found = "missing" if name not in self.header else "duplicated"
                raise self.error(None, f"key column {name!r} is {found}")

    def expect(self, ok: pd.Series, problem: Callable[[int], str]) -> None:
        """Fail at the first row where `ok` is False; `problem(i)` describes row i."""
        bad = ~ok.to_numpy(dtype=bool)
        if bad.any():
            i = int(bad.argmax())
            raise self.error(i, problem(i))

    def frame(self) -> pd.DataFrame:
        """All cells as strings, one column per header name."""
        return pd.DataFrame(self.rows, columns=self.header, dtype=str)

    def check_unique(self, key: pd.Series | pd.DataFrame, what: str) -> None:
        """Fail at the first row whose key repeats an earlier row's."""

        def value(i: int) -> object:
            return key.iloc[i] if isinstance(key, pd.Series) else tuple(key.iloc[i])

        self.expect(~key.duplicated(), lambda i: f"duplicate {what} {value(i)!r}")

    def numbers(self, cells: pd.DataFrame) -> pd.DataFrame:
        """Parse cells as floats ('' is missing); fail at the first that is not a finite number."""
        stripped = cells.apply(lambda col: col.str.strip())
        values = stripped.apply(pd.to_numeric, errors="coerce")
        bad = (stripped != "").to_numpy() & ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise self.error(int(i), f"column {cells.columns[j]!r}: {cells.iat[i, j]!r} is not a number")
        return values


def parse_csv(path: str, text: str, preamble_lines: int = 0) -> Table:
    """Parse CSV whose header follows `preamble_lines` lines; rows must match the header width.

    The separator is always ','; a file that uses another is named by `check_separator` at its
    header, before its rows can fail with a field count that hides the cause. Line endings may be
    CRLF, LF or CR, even mixed in one file: csv.reader ends a record at any of them, and
    `reader.line_num` counts each as one line, so they need no check.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            if reader.line_num <= preamble_lines or not record:
                continue
            if header is None:
                header, header_line = record, reader.line_num
                check_separator(path, header_line, header)
            elif len(record) != len(header):
                raise RawDataError(
                    path, reader.line_num, f"{len(record)} fields, the header has {len(header)}"
                )
            else:
                rows.append(record)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise RawDataError(path, reader.line_num, f"CSV syntax: {exc}") from None
    if header is None:
        raise RawDataError(path, preamble_lines + 1, "no header row")
    return Table(path, header, rows, lines, header_line)


def check_separator(path: str, line: int, header: list[str]) -> None:
    """Fail when the header is one field holding another separator: the file uses that one.

    Every table read here has several columns, so a one-field header is never right; the separator
    named is the other one that the header holds most often (';' from a European-locale
    spreadsheet, tab from a TSV export, '|').
    """
    if len(header) != 1:
        return
    counts = {sep: header[0].count(sep) for sep in OTHER_SEPARATORS}
    used = max(counts, key=counts.__getitem__)
    if counts[used]:
        raise RawDataError(
            path,
            line,
            f"the file uses {OTHER_SEPARATORS[used]} as separator; expected {SEPARATOR!r}: "
            f"re-save it with {SEPARATOR!r} as separator",
        )


def year_columns(table: Table, prefix: str) -> list[str]:
    """The contiguous run of year columns (e.g. F1961..F2022), found where it starts.

    Files of one kind differ in width (the World Bank's end in 2021, 2022 or 2024), so the run is
    found, not fixed; a gap, or a year column after the run ends, is an error.
    """
    pattern = re.compile(re.escape(prefix) + r"(\d{4})")
    found = [(i, int(m.group(1))) for i, name in enumerate(table.header) if (m := pattern.fullmatch(name))]
    if not found:
        raise table.error(None, f"no year columns ({prefix}YYYY)")
    for (i, year), (j, next_year) in zip(found, found[1:], strict=False):
        if (j, next_year) != (i + 1, year + 1):
            raise table.error(None, f"year columns are not contiguous at {table.header[j]!r}")
    return [table.header[i] for i, _ in found]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with LF endings; cells are already strings, so nothing is re-rounded."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no timestamp, no file name in the header."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def sha256(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
