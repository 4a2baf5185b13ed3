"""README's first two commands are the Makefile's verbs, and CI runs exactly the test one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md must open with a shell block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_run_and_test() -> None:
    assert _readme_commands() == ["make run", "make test"]


def test_makefile_has_those_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in script.splitlines() if line and not line.startswith("#")
                and not line.startswith(("set ", "cd "))]
    assert commands == ["exec make test"]


def test_data_is_found_as_package_data() -> None:
    from importlib.resources import files

    assert Path(str(files("climate_atlas.precomputed"))).resolve() == \
        (ROOT / "data" / "precomputed").resolve()
