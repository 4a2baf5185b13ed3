"""`python -m pipeline`: raw snapshots -> data/precomputed/ (and data/server/).

Run from the repository root. A malformed raw file ends the run with one line naming the file, the
line and the problem, exit status 1, and no output touched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.build import run
from pipeline.io import RawDataError

DEFAULT_RAW = Path("../shared/data/raw")
DEFAULT_OUT = Path("data/precomputed")
DEFAULT_SERVER = Path("data/server")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the repository layout."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="raw snapshot folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="precomputed output folder")
    parser.add_argument("--server-out", type=Path, default=DEFAULT_SERVER, help="server-only geometry folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; report a raw-data problem as one line instead of a traceback."""
    args = parse_args(argv)
    try:
        files = run(args.raw, args.out, args.server_out)
    except RawDataError as exc:
        print(f"pipeline: error: {exc}", file=sys.stderr)
        return 1
    total = sum(len(data) for data in files.values())
    print(f"pipeline: wrote {len(files)} files ({total:,} bytes) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
