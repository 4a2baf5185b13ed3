"""Stage: the pure wheels, from PyPI for the browser's interpreter, pinned to this venv's versions;
markupsafe and pyyaml, which have no pure wheel, built as pure wheels from their sdists."""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

from tools.build_site.files import CACHE, PIP, BuildError, log, run

# No pure wheel on PyPI; both fall back to pure Python, so we build py3-none-any wheels from sdists.
BUILT_PURE = {"markupsafe", "pyyaml"}


def cached_wheel(folder: Path, name: str, version: str) -> Path | None:
    for path in folder.glob("*.whl"):
        n, v, _, _ = parse_wheel_filename(path.name)
        if n == name and str(v) == version:
            return path
    return None


def build_pure_from_sdist(name: str, version: str, dest: Path) -> None:
    """markupsafe and pyyaml: sdist -> py3-none-any wheel (both have a pure-Python fallback)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # --no-binary for this one name only: --no-binary=:all: would also compile Cython for the build
        run(*PIP, "download", "--no-deps", f"--no-binary={name}", f"{name}=={version}", "-d", tmp)
        sdist = next(tmp.glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = next(p for p in tmp.iterdir() if p.is_dir())
        if name == "markupsafe":  # setup.py: leave out the C speedups extension
            setup = src / "setup.py"
            text = setup.read_text()
            if "ext_modules=ext_modules" not in text:
                raise BuildError(f"markupsafe {version}: setup.py has no 'ext_modules=ext_modules' to drop")
            setup.write_text(text.replace("ext_modules=ext_modules", "ext_modules=[]"))
        env = {**os.environ, "PYYAML_FORCE_LIBYAML": "0"}
        run(*PIP, "wheel", "--no-deps", src, "-w", tmp / "out", env=env)
        wheel = next((tmp / "out").glob("*.whl"))
        if not wheel.name.endswith("-py3-none-any.whl"):
            raise BuildError(f"{wheel.name} is not pure: the browser cannot load it")
        shutil.copy(wheel, dest / wheel.name)


def pure_wheels(pins: dict[str, str]) -> list[Path]:
    """One wheel per pinned name, downloaded or built once into the cache."""
    dest = CACHE / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    missing = [n for n in pins if n not in BUILT_PURE and not cached_wheel(dest, n, pins[n])]
    if missing:
        log(f"pip download {len(missing)} pure wheels for Python 3.12")
        run(*PIP, "download", "--only-binary=:all:", "--python-version", "3.12", "--platform", "any",
            "--implementation", "py", "--no-deps", "-d", dest, *[f"{n}=={pins[n]}" for n in missing])
    for name in BUILT_PURE & pins.keys():
        if not cached_wheel(dest, name, pins[name]):
            log(f"building a pure wheel of {name}=={pins[name]}")
            build_pure_from_sdist(name, pins[name], dest)
    return [cached_wheel(dest, n, v) for n, v in sorted(pins.items())]
