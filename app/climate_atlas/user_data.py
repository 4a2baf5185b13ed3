"""A visitor's own CSV ("Your data"): read, checked and matched to our countries.

A file with a country column, a year column and a value column (optionally the series' name and
unit) becomes a long table like a World Bank indicator's, so the chart, the scatter, the ranking,
the table and the map treat it as one more series (see `Atlas.with_user_data`). Reading is strict
where a silent guess would put wrong numbers on screen (a non-numeric value, a duplicate country
and year: the whole file is refused, naming the line) and lenient where nothing is lost (another
encoding or separator is read and said; unknown countries are listed and their rows left out).
Every message is plain text that may quote the file; only `views.plain_text` panes show them.
The file is parsed where the app runs: in the visitor's browser on the static site, in the
session's memory under `panel serve`; nothing here writes anywhere.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

import pandas as pd

from climate_atlas.links import shown
from climate_atlas.search import normal
from climate_atlas.views.plain_text import safe_label

MAX_BYTES = 5 * 2**20  # 5 MB: a country-year table of any indicator is far smaller
SHOWN_UNKNOWN = 10  # unknown country names quoted in the notice, then counted
# Header words (compared casefolded, spaces and underscores alike) for each column's role, in the
# order a column is preferred when a file has several (Our World in Data's "Entity" and "Code").
COUNTRY_HEADERS = ("iso3", "iso_code", "code", "country_code", "iso", "iso2", "geo", "country",
                   "country_name", "entity", "economy")
YEAR_HEADERS = ("year", "time", "time_period")
VALUE_HEADERS = ("value", "obs_value")  # Eurostat's SDMX-CSV: geo, TIME_PERIOD, OBS_VALUE
NAME_HEADERS = ("name", "series", "indicator", "variable")
UNIT_HEADERS = ("unit", "units")
MISSING = {"", "na", "n/a", "nan", "..", "-", "—"}  # a cell with no value: the row is skipped
SEPARATORS = ",;\t|"
MAX_COLUMNS = 1000  # a country-year table has a handful; more is not such a table
# A value whose one separator is followed by exactly three digits ("1,234", "1.234"): a thousands
# separator or a decimal mark, which the file's other values decide (see `_decimal_comma`).
GROUPED = re.compile(r"[-+]?\d{1,3}[.,]\d{3}")
YEARS = (1000, 2200)  # a year outside this is a typo, not a year
EXPECTED = ("a header row naming a country column (country, iso3, iso2 or code), a year column "
            "(year) and a value column (value, or one other column)")


class UserDataError(ValueError):
    """The file cannot be used; the message names the problem (and the line, where there is one)."""


class AmbiguousNumber(ValueError):
    """A value that reads as two numbers: "1,234" is 1.234 or 1234."""


@dataclass(frozen=True, eq=False)
class UserData:
    """A visitor's series. `rows`: iso3, year (int), value (float, the file's unit), one row per
    country and year, sorted; `notes`: plain-text words on what was handled or left out."""

    name: str
    unit: str
    rows: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def countries(self) -> int:
        return self.rows["iso3"].nunique()


def _decode(raw: bytes) -> tuple[str, list[str]]:
    """The file's text, and a note when it was not UTF-8."""
    if raw[:4] == b"PK\x03\x04" or raw[:4] == b"\xd0\xcf\x11\xe0":
        raise UserDataError("This is a spreadsheet (.xlsx, .xls or .ods), not a CSV file: save it "
                            "as CSV (comma-separated values) and choose that file.")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16"), ["Read as UTF-16."]
    # UTF-16 without its byte-order mark: in a CSV's mostly-ASCII text every other byte is 0
    for encoding, zeros in (("utf-16-le", raw[1::2]), ("utf-16-be", raw[0::2])):
        if len(zeros) >= 8 and zeros.count(0) >= 0.9 * len(zeros):
            try:
                return raw.decode(encoding), ["Read as UTF-16."]
            except UnicodeDecodeError:
                break  # not text: said below
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        if b"\x00" in raw:
            raise UserDataError("This is not a text file (it holds NUL bytes): choose a CSV "
                                "file.") from exc
        try:
            return raw.decode("cp1252"), ["Read as Windows-1252, not UTF-8: check accented "
                                          "names."]
        except UnicodeDecodeError:
            return raw.decode("latin-1"), ["Read as Latin-1, not UTF-8: check accented names."]


def _separator(text: str) -> str:
    """The column separator: the one that gives the header and the next lines the same number of
    columns, comma when in doubt."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def _pick(header: list[str], names: tuple[str, ...]) -> list[int]:
    """Positions of the header's columns named one of `names`, in `names`' order."""
    keys = [normal(h) for h in header]
    return [keys.index(normal(n)) for n in names if normal(n) in keys]


@dataclass(frozen=True)
class _Columns:
    country: list[int]
    year: int
    value: int
    name: int | None
    unit: int | None
    value_header: str


def _rows(text: str, separator: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header's line and cells, then each non-blank row with the line it starts on. Raises
    UserDataError for a quote that is never closed (the csv module would read the rest of the
    file as one cell)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any("\n" in c or "\r" in c for c in cells):
                raise UserDataError(f"Line {start}: a quote (\") opens a cell that runs over "
                                    "several lines; is a closing quote missing?")
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:  # a cell over the csv module's limit: a quote left open, mostly
        raise UserDataError(f"Line {start}: the file could not be split into cells ({exc}); is a "
                            "quote (\") left open?") from None
    if not rows:
        raise UserDataError("The file is empty.")
    (header_line, header), *lines = rows
    return header_line, header, lines


def _columns(header: list[str], line: int) -> _Columns:
    country, year = _pick(header, COUNTRY_HEADERS), _pick(header, YEAR_HEADERS)
    value = _pick(header, VALUE_HEADERS)
    name, unit = _pick(header, NAME_HEADERS), _pick(header, UNIT_HEADERS)
    if not value:  # Our World in Data's shape: the value column is named for the series
        others = [i for i in range(len(header))
                  if i not in {*country, *year, *name, *unit} and header[i].strip()]
        value = others if len(others) == 1 else []
    missing = [what for what, found in (("country", country), ("year", year), ("value", value))
               if not found]
    if missing:
        raise UserDataError(f"Line {line}: no {' or '.join(missing)} column. The header reads "
                            f"{shown(header)}; expected {EXPECTED}.")
    return _Columns(country, year[0], value[0], name[0] if name else None,
                    unit[0] if unit else None, header[value[0]])


def _plain(cell: str) -> str:
    """A value cell without spaces, including the ones spreadsheets put between thousands."""
    return "".join(cell.split()).replace("\u202f", "")


def _decimal_comma(cells: list[str], separator: str) -> bool:
    """Whether the file writes decimals with a comma ("1,5"): only where commas do not separate
    columns, and only when some value shows it unambiguously (not three digits after the comma)."""
    plain = [_plain(c) for c in cells]
    return separator != "," and any(re.fullmatch(r"[-+]?\d+,\d+", c) and not GROUPED.fullmatch(c)
                                    for c in plain)


def _number(cell: str, decimal_comma: bool) -> float | None:
    """The cell as a number (None when it holds no value). Raises ValueError when it is not a
    number, and AmbiguousNumber for "1,234" or "1.234" where the file does not settle whether the
    separator marks thousands or decimals."""
    text = _plain(cell)
    if normal(text) in MISSING:
        return None
    if GROUPED.fullmatch(text) and (("," in text) != decimal_comma):
        raise AmbiguousNumber(text)
    if decimal_comma:
        text = text.replace(",", ".")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _year(cell: str) -> int:
    number = float(cell.strip())
    if not YEARS[0] <= number <= YEARS[1] or number != int(number):  # inf and NaN fail the range
        raise ValueError(cell)
    return int(number)


def read_user_csv(raw: bytes, countries: dict[str, str]) -> UserData:
    """The visitor's series from a CSV file's bytes.

    `countries` maps `normal` words (names, common names, ISO3 and ISO2 codes) to ISO3 codes, as
    `search.country_lookup` gives. Raises UserDataError for a file that cannot be used: empty, over
    MAX_BYTES, a spreadsheet, no header or a missing column, a row of the wrong width, a year or a
    value that is not a number, a country and year given twice, or no known country at all.
    """
    if len(raw) > MAX_BYTES:
        raise UserDataError(f"The file is {len(raw) / 2**20:.1f} MB; the limit is "
                            f"{MAX_BYTES // 2**20} MB.")
    text, notes = _decode(raw)
    if not text.strip():
        raise UserDataError("The file is empty.")
    separator = _separator(text)
    if separator != ",":
        notes.append(f"Columns separated by {separator!r}.")
    header_line, header, lines = _rows(text, separator)
    if len(header) > MAX_COLUMNS:
        raise UserDataError(f"Line {header_line}: {len(header):,} columns; a table of countries, "
                            "years and values has a few.")
    columns = _columns(header, header_line)
    for line, cells in lines:
        if len(cells) != len(header):
            raise UserDataError(f"Line {line}: {len(cells)} columns, but the header has "
                                f"{len(header)}.")
    decimal_comma = _decimal_comma([cells[columns.value] for _, cells in lines], separator)
    if decimal_comma:
        notes.append("Decimal commas read as decimal points.")
    rows: list[tuple[str, int, float]] = []
    first_line: dict[tuple[str, int], int] = {}
    unknown: dict[str, None] = {}
    name = unit = ""
    empty = 0  # rows of a known country whose value cell is empty ("", "NA", "..")
    for line, cells in lines:
        try:
            value = _number(cells[columns.value], decimal_comma)
        except AmbiguousNumber:
            raise UserDataError(f"Line {line}: the value {shown([cells[columns.value]])} could be "
                                "read two ways (a thousands separator or a decimal mark): write "
                                "it without thousands separators.") from None
        except ValueError:
            raise UserDataError(f"Line {line}: the value {shown([cells[columns.value]])} is not a "
                                "number.") from None
        try:
            year = _year(cells[columns.year])
        except ValueError:
            raise UserDataError(f"Line {line}: the year {shown([cells[columns.year]])} is not a "
                                "year.") from None
        given = [cells[i] for i in columns.country]
        iso3 = next((countries[normal(g)] for g in given if normal(g) in countries), None)
        if iso3 is None:
            unknown.setdefault(next((g for g in given if g.strip()), ""), None)
            continue
        if (iso3, year) in first_line:
            raise UserDataError(f"Line {line}: a second value for {shown(given[:1])} ({iso3}) in "
                                f"{year} (the first is on line {first_line[iso3, year]}).")
        first_line[iso3, year] = line
        name = name or (cells[columns.name].strip() if columns.name is not None else "")
        unit = unit or (cells[columns.unit].strip() if columns.unit is not None else "")
        if value is not None:
            rows.append((iso3, year, value))
        else:
            empty += 1
    if empty:
        notes.append(f"{empty} {'row' if empty == 1 else 'rows'} without a value left out.")
    if unknown:
        notes.append(f"{len(unknown)} unknown {'country' if len(unknown) == 1 else 'countries'} "
                     f"left out: {shown(list(unknown), SHOWN_UNKNOWN)}.")
    if not rows:
        raise UserDataError(("No row names a known country with a value. " + " ".join(notes))
                            if first_line or unknown else "No data rows after the header.")
    table = pd.DataFrame(rows, columns=["iso3", "year", "value"]).sort_values(["iso3", "year"])
    # the series' name: its own column, else the value column's header (Our World in Data's shape)
    fallback = columns.value_header if normal(columns.value_header) not in VALUE_HEADERS else ""
    return UserData(name=safe_label(name or fallback) or "Your series", unit=safe_label(unit),
                    rows=table.reset_index(drop=True),
                    notes=tuple(notes))
