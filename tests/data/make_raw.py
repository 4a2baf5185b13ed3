"""Cut the small raw tree under tests/data/raw/ from the full snapshot (../shared/data/raw/).

Why it exists: the pipeline's error tests (tests/unit/test_pipeline_errors.py) break one raw file
and check that the run stops with one clear line and leaves the previous outputs alone. Run over the
whole 5 MB snapshot, every case spent most of its time reading and building data that the fault
never touches. This tree has the snapshot's relative paths and the same kinds of content, cut down
to a handful of countries, so each case still runs every check and code path its fault reaches.

What it keeps, always as whole lines copied byte for byte (headers, WDI preambles, byte-order marks,
encodings and line endings as published; nothing edited or invented):

- ABW, AFG, ALB, DZA, CIV, and the World rows (WLD) of the IMF and WDI files:
  - AFG, ALB, DZA: the first rows of the IMF file and of the FAOSTAT file, which the error cases
    break (IMF AFG 1961, FAOSTAT AFG annual, Algeria renamed, the seed's Albania). They are in both
    temperature sources, so the IMF/FAOSTAT cross-check compares something, and they have polygons.
  - ABW: the first row of every WDI file (population 1960 "54608") and of the centroids file, which
    the error cases break. It is IMF-only and has no 110m polygon (a country drawn without a shape).
  - CIV: in FAOSTAT but not in the IMF file, so its series comes from the FAOSTAT fallback. Its name
    is non-ASCII in every file (cp1252 in FAOSTAT, mojibake in the centroids file), and the seed
    calls it "Ivory Coast".
- CYN and SOL (N. Cyprus, Somaliland): the polygons without data. The pipeline requires exactly these
  two (pipeline.geometry.check_keys); they are keyed by ADM0_A3 (ISO_A3_EH is -99) and have centroid
  rows, and world-atlas matches them by name (they have no id).
- FAOSTAT: for each kept area, every row: each month, season (Dec-Jan-Feb's name holds the cp1252
  en dash 0x96) and the Meteorological year, both elements (the pipeline requires every season).
  Two more areas: USSR (228, a historical entity without ISO3, reported as unmatched) and OECD
  (5873, an aggregate, skipped). OECD's rows are the file's last, so the cut ends as the file does,
  without a final line break.
- iso-codes/codes.json whole (10 kB): it decides which WDI codes are aggregates, and world-atlas ids
  map through it, so a cut would change what those rules see.
- The Natural Earth shapefile: the six kept records, written with pyshp (as the pipeline reads it).
  Shapes, records and field descriptors come out byte-identical; the .dbf header keeps the
  original's date (pyshp would write today's) and its end-of-file marker. .prj, .cpg and
  .VERSION.txt are copied whole.
- world-atlas: the kept countries' geometries (and N. Cyprus, Somaliland) with the arcs they use,
  re-indexed; the arcs stay as published, quantized against the file's own transform, which is kept.
  The bbox is recomputed to the kept arcs. The "land" object is dropped: it merges every country's
  coastline, whose arcs are not kept, and the pipeline does not read it.
- The LICENSE files of iso-codes and world-atlas, whose licences ask that copies carry them. Files
  the pipeline never reads (SOURCES.md, READMEs) are left out: SOURCES.md describes the untrimmed
  files and their hashes, which these are not.

Run `python -m tests.data.make_raw` after the snapshot or this selection changes;
tests/unit/test_raw_fixtures.py checks that the committed tree equals a fresh cut. The tree is
replaced as a whole: built beside it, then swapped in by renames.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import shapefile

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "data" / "raw"
FIXTURE = Path(__file__).resolve().parent / "raw"

COUNTRIES = {"ABW", "AFG", "ALB", "DZA", "CIV"}
WORLD = "WLD"
NO_DATA_POLYGONS = {"CYN", "SOL"}
NO_DATA_NAMES = {"N. Cyprus", "Somaliland"}  # their world-atlas geometries have no id

IMF = "imf/Annual_Surface_Temperature_Change.csv"
IMF_KEYS = {"AFG", "ALB", "DZA", "ABW", WORLD}  # CIV is not in the IMF file
FAO = "faostat/Environment_Temperature_change_E_All_Data_NOFLAG.csv"
# Afghanistan, Albania, Algeria, Côte d'Ivoire; USSR (historical); OECD (aggregate, the last rows).
FAO_AREAS = {"2", "3", "4", "22", "107", "228", "5873"}  # Aruba (22): its spread (sd)
WORLDBANK = "worldbank"
WDI_PREAMBLE = 4
WDI_KEYS = COUNTRIES | {WORLD}
SEED = "seed-dashboard/tdiff4.csv"
SEED_NAMES = {"Afghanistan", "Albania", "Algeria", "Ivory Coast"}  # ABW is not in the seed's table
CENTROIDS = "seed-dashboard/country_centroids_az8.csv"
REGION_KEYS = COUNTRIES | NO_DATA_POLYGONS
ISO_CODES = "iso-codes/codes.json"
NE_STEM = "naturalearth/ne_110m_admin_0_countries/ne_110m_admin_0_countries"
NE_KEYS = (COUNTRIES - {"ABW"}) | NO_DATA_POLYGONS  # Aruba has no 110m polygon
# world-atlas file -> the countries it has a geometry for (Aruba only at 50m)
WORLD_ATLAS = {
    "world-atlas/countries-110m.json": COUNTRIES - {"ABW"},
    "world-atlas/countries-50m.json": COUNTRIES,
}
WHOLE = (
    ISO_CODES,
    "iso-codes/LICENSE",
    "world-atlas/LICENSE",
    NE_STEM + ".prj",
    NE_STEM + ".cpg",
    NE_STEM + ".VERSION.txt",
)


def cut_csv(
    path: str,
    data: bytes,
    encoding: str,
    key: str,
    wanted: set[str],
    head: int = 1,
    where: dict[str, set[str]] | None = None,
) -> bytes:
    """The first `head` lines (preamble and header) and every later line whose `key` is wanted (and
    whose `where` columns hold one of their values), byte for byte with their own line endings.

    Every wanted key must be found, so a changed snapshot cannot silently shrink the fixture.
    """
    lines = data.splitlines(keepends=True)
    header = next(csv.reader([lines[head - 1].decode(encoding).removeprefix("\ufeff")]))
    kept, found = lines[:head], set()
    for line in lines[head:]:
        records = list(csv.reader([line.decode(encoding)]))
        if len(records) != 1:
            raise ValueError(f"{path}: a record spans lines; cut it by records instead")
        record = dict(zip(header, records[0], strict=True))
        if record[key] in wanted and all(record[c] in v for c, v in (where or {}).items()):
            kept.append(line)
            found.add(record[key])
    if found != wanted:
        raise ValueError(f"{path}: {key} {sorted(wanted - found)} not found")
    return b"".join(kept)


def cut_shapefile(source: Path) -> dict[str, bytes]:
    """The .shp, .shx and .dbf of the kept records, in their original order."""
    parts = {ext: (source / f"{NE_STEM}.{ext}").read_bytes() for ext in ("shp", "shx", "dbf")}
    reader = shapefile.Reader(**{ext: io.BytesIO(data) for ext, data in parts.items()}, encoding="utf-8")
    keep = [i for i, record in enumerate(reader.iterRecords()) if record["ADM0_A3"] in NE_KEYS]
    if {reader.record(i)["ADM0_A3"] for i in keep} != NE_KEYS:
        raise ValueError(f"{NE_STEM}.dbf: ADM0_A3 {sorted(NE_KEYS)} not all found")
    out = {ext: io.BytesIO() for ext in parts}
    writer = shapefile.Writer(**out, shapeType=reader.shapeType, encoding="utf-8")
    writer.fields = list(reader.fields[1:])  # without pyshp's DeletionFlag
    for i in keep:
        writer.record(*reader.record(i))
        writer.shape(reader.shape(i))
    writer.close()
    cut = {ext: buffer.getvalue() for ext, buffer in out.items()}
    # pyshp stamps the .dbf header with today's date and ends without the 0x1A end-of-file marker:
    # keep the original's date (bytes 1-3) and marker, so the cut is deterministic and as published.
    dbf = cut["dbf"][:1] + parts["dbf"][1:4] + cut["dbf"][4:]
    cut["dbf"] = dbf + (b"\x1a" if parts["dbf"].endswith(b"\x1a") and not dbf.endswith(b"\x1a") else b"")
    check_cut(parts, cut, keep)
    return {f"{NE_STEM}.{ext}": data for ext, data in cut.items()}


def shp_records(data: bytes) -> list[bytes]:
    """The content of each .shp record (after its 8-byte number and length), in file order."""
    records, offset = [], 100
    while offset < len(data):
        _, words = struct.unpack(">2i", data[offset : offset + 8])
        records.append(data[offset + 8 : offset + 8 + 2 * words])
        offset += 8 + 2 * words
    return records


def dbf_records(data: bytes) -> tuple[bytes, list[bytes]]:
    """A .dbf's header without its record count, and its records (deletion flag included)."""
    count = int.from_bytes(data[4:8], "little")
    header = int.from_bytes(data[8:10], "little")
    size = int.from_bytes(data[10:12], "little")
    records = [data[header + i * size : header + (i + 1) * size] for i in range(count)]
    return data[:4] + data[8:header], records


def check_cut(original: dict[str, bytes], cut: dict[str, bytes], keep: list[int]) -> None:
    """The cut's shapes and records must be the kept ones byte for byte, its .dbf header the
    original's apart from the record count, and pyshp must read it back."""
    shapes = shp_records(original["shp"])
    header, records = dbf_records(original["dbf"])
    if shp_records(cut["shp"]) != [shapes[i] for i in keep]:
        raise ValueError(f"{NE_STEM}.shp: shapes changed in the cut")
    if dbf_records(cut["dbf"]) != (header, [records[i] for i in keep]):
        raise ValueError(f"{NE_STEM}.dbf: header or records changed in the cut")
    reader = shapefile.Reader(**{ext: io.BytesIO(data) for ext, data in cut.items()}, encoding="utf-8")
    if len(reader.shapes()) != len(keep) or len(reader.records()) != len(keep):
        raise ValueError(f"{NE_STEM}: pyshp does not read the cut back")


def renumbered(arcs: object, index: dict[int, int]) -> object:
    """A geometry's nested arc indices with old arc numbers replaced (~i, a reversed arc, kept so)."""
    if isinstance(arcs, list):
        return [renumbered(item, index) for item in arcs]
    assert isinstance(arcs, int)
    return index[arcs] if arcs >= 0 else ~index[~arcs]


def arc_numbers(arcs: object) -> Iterable[int]:
    """Every arc a geometry uses, reversed ones by their own number."""
    if isinstance(arcs, list):
        for item in arcs:
            yield from arc_numbers(item)
    else:
        assert isinstance(arcs, int)
        yield arcs if arcs >= 0 else ~arcs


def cut_topojson(path: str, data: bytes, numeric: set[str]) -> bytes:
    """The countries object's kept geometries with the arcs they use, re-indexed, serialized as the
    published file is (compact, key order kept, UTF-8, final newline)."""
    topology = json.loads(data)
    geometries = [
        g
        for g in topology["objects"]["countries"]["geometries"]
        if g.get("id") in numeric or ("id" not in g and g["properties"]["name"] in NO_DATA_NAMES)
    ]
    found = {g.get("id", g["properties"]["name"]) for g in geometries}
    wanted = numeric | NO_DATA_NAMES
    if found != wanted:
        raise ValueError(f"{path}: geometries {sorted(wanted - found)} not found")
    used = sorted({n for g in geometries for n in arc_numbers(g["arcs"])})
    index = {old: new for new, old in enumerate(used)}
    arcs = [topology["arcs"][old] for old in used]
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    points = []
    for arc in arcs:  # quantized, delta-encoded: absolute positions are running sums
        x = y = 0
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
    out = {}
    for name, value in topology.items():  # the published key order
        if name == "objects":
            kept = [{**g, "arcs": renumbered(g["arcs"], index)} for g in geometries]
            value = {"countries": {**value["countries"], "geometries": kept}}
        elif name == "arcs":
            value = arcs
        elif name == "bbox":
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            value = [min(xs), min(ys), max(xs), max(ys)]
        out[name] = value
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def cut(source: Path = SOURCE) -> dict[str, bytes]:
    """The whole fixture tree as {relative path: bytes}, from the raw snapshot at `source`."""

    def read(rel: str) -> bytes:
        return (source / rel).read_bytes()

    files = {rel: read(rel) for rel in WHOLE}
    files[IMF] = cut_csv(IMF, read(IMF), "utf-8", "ISO3", IMF_KEYS)
    files[FAO] = cut_csv(FAO, read(FAO), "cp1252", "Area Code", FAO_AREAS)
    for path in sorted((source / WORLDBANK).glob("API_*.csv")):
        rel = path.relative_to(source).as_posix()
        files[rel] = cut_csv(rel, read(rel), "utf-8", "Country Code", WDI_KEYS, head=WDI_PREAMBLE + 1)
    files[SEED] = cut_csv(SEED, read(SEED), "utf-8", "country", SEED_NAMES)
    files[CENTROIDS] = cut_csv(CENTROIDS, read(CENTROIDS), "utf-8", "adm0_a3", REGION_KEYS)
    files |= cut_shapefile(source)
    numeric = {entry[1]: entry[2] for entry in json.loads(read(ISO_CODES))}  # alpha-3 -> numeric id
    for rel, alpha3 in WORLD_ATLAS.items():
        files[rel] = cut_topojson(rel, read(rel), {numeric[code] for code in alpha3})
    return dict(sorted(files.items()))


def write_tree(files: dict[str, bytes], dest: Path) -> None:
    """Replace `dest` with exactly these files: built in a folder beside it, then swapped in by
    renames, so an interrupted run never leaves a half-written or mixed tree."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.new-"))
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    try:
        new.chmod(0o755)
        for rel, data in files.items():
            target = new / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if dest.exists():
            dest.rename(old)
        new.rename(dest)
    except BaseException:
        if old.exists() and not dest.exists():
            old.rename(dest)  # put the previous tree back
        raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Cut the snapshot and replace the fixture tree; say what was written."""
    parser = argparse.ArgumentParser(prog="python -m tests.data.make_raw", description=__doc__.split("\n")[0])
    parser.add_argument("--raw", type=Path, default=SOURCE, help="full raw snapshot folder")
    parser.add_argument("--out", type=Path, default=FIXTURE, help="fixture tree to replace")
    args = parser.parse_args(argv)
    if not args.raw.is_dir():
        print(f"make_raw: error: no raw snapshot at {args.raw}", file=sys.stderr)
        return 1
    files = cut(args.raw)
    write_tree(files, args.out)
    total = sum(len(data) for data in files.values())
    print(f"make_raw: wrote {len(files)} files ({total:,} bytes) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
