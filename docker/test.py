"""`make docker-test`: build the image on a debootstrap base, check it from outside as Heroku runs it.

    python3 docker/test.py                 # the whole test (stdlib only, run as root or with sudo)
    python3 docker/test.py --keep-daemon   # leave a private dockerd running for the next run
    python3 docker/test.py --stop-daemon   # stop such a daemon and restore the network
    python3 docker/test.py --build-only --keep-daemon  # `make docker-build`: everything up to the
                                           # image, the daemon left running for the checks

Steps: install docker.io/debootstrap/iptables/haproxy if missing; use the running Docker daemon or
start a private one (docker/dockerd.py); build or reuse the base image (docker/base_image.py); build
the image with the legacy builder (DOCKER_BUILDKIT=0: no buildx, never pulls a local FROM); run it
with a random $PORT published on 127.0.0.1 only; check it; run two instances behind HAProxy and
check them (docker/scale.py, skipped with --no-scale); remove the containers; stop the daemon if
this run started it. A second run reuses the base image and Docker's layer cache.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

# Run as a script (`python3 docker/test.py`): its own folder is on the import path, so the helpers
# beside it import by name.
import base_image
import dockerd
import probe
import scale
from dockerd import Daemon, log

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE = "climate-atlas:test"
APP_PATH = "/main"
HOST = "127.0.0.1"  # all test traffic goes to loopback, never to a bridge address
FOREIGN_ORIGIN = "http://foreign.invalid"
NO_ORIGIN_MESSAGE = "BOKEH_ALLOW_WS_ORIGIN is not set"
FIRST_200_LIMIT = 60.0  # Heroku's boot limit; the issue expects well under 10 s


class Run:
    """Checks with pass/fail bookkeeping, and the containers to remove at the end."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.containers: list[str] = []
        self.facts: dict[str, str] = {}

    def check(self, name: str, fn: Callable[[], str | None]) -> bool:
        try:
            detail = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
            self.failed.append(name)
            log(f"FAIL {name}: {exc}")
            if not isinstance(exc, AssertionError):
                traceback.print_exc()
            return False
        self.passed.append(name)
        log(f"ok   {name}" + (f": {detail}" if detail else ""))
        return True

    def name(self, label: str) -> str:
        name = f"climate-atlas-test-{label}-{int(time.time() * 1000) % 10**8}"
        self.containers.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.containers:
            self.daemon.docker("rm", "-f", name, check=False)


def build_image(daemon: Daemon, base: str, context: Path) -> float:
    old = daemon.docker("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    log(f"docker build (legacy builder, base {base})")
    started = time.monotonic()
    result = daemon.docker(
        "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "--tag", IMAGE,
        str(context), check=False, timeout=1800)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
        raise RuntimeError("docker build failed")
    new = daemon.docker("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    if old and old != new:  # the replaced image and its unshared layers
        daemon.docker("rmi", old, check=False)
    return elapsed


def container_state(daemon: Daemon, name: str, field: str) -> str:
    return daemon.docker("inspect", "--format", "{{.State." + field + "}}", name,
                         check=False).stdout.strip()


def run_checks(run: Run, context: Path) -> None:
    daemon = run.daemon
    size = int(daemon.docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    run.facts["image size"] = f"{size / 1e6:.0f} MB"

    port = probe.free_port()
    origin_host = f"{HOST}:{port}"
    app = run.name("app")
    started = time.monotonic()
    daemon.docker("run", "--detach", "--name", app, "--env", f"PORT={port}",
                  "--env", f"BOKEH_ALLOW_WS_ORIGIN={origin_host}",
                  "--publish", f"{HOST}:{port}:{port}", IMAGE)

    def first_200() -> str:
        def alive() -> bool:
            return container_state(daemon, app, "Running") == "true"
        try:
            ready = probe.wait_for_200(HOST, port, APP_PATH, FIRST_200_LIMIT, alive=alive)
        except AssertionError:
            print(daemon.docker("logs", app, check=False).stderr[-3000:], file=sys.stderr)
            raise
        run.facts["first HTTP 200 after docker run"] = f"{ready - started:.1f} s"
        return run.facts["first HTTP 200 after docker run"]

    if not run.check(f"HTTP 200 on {APP_PATH} (random PORT={port}, published on {HOST} only)",
                     first_200):
        return

    page: dict[str, bytes] = {}

    def root_redirects() -> str:
        resp, seen = probe.get_following(HOST, port, "/")
        assert resp.status == 200, f"GET / ended with HTTP {resp.status} after {seen}"
        assert seen[-1] == APP_PATH, f"/ led to {seen}, expected {APP_PATH}"
        page["html"] = resp.body
        return " -> ".join(seen)

    def liveness() -> str:
        plain = probe.http_get(HOST, port, "/liveness")
        assert plain.status == 200, f"/liveness: HTTP {plain.status}"
        deep = probe.http_get(HOST, port, f"/liveness?endpoint={APP_PATH}")
        assert deep.status == 200, f"/liveness?endpoint={APP_PATH}: HTTP {deep.status} {deep.body!r}"
        return deep.body.decode()

    def ws_allowed() -> str:
        token = probe.session_token(page["html"])
        message = probe.check_ws_ack(HOST, port, APP_PATH, f"http://{origin_host}", token)
        return f"101 then {message['msgtype']}"

    def ws_foreign() -> str:
        token = probe.session_token(page["html"])
        return f"HTTP {probe.check_ws_forbidden(HOST, port, APP_PATH, FOREIGN_ORIGIN, token)}"

    def non_root_pid1() -> str:
        status = daemon.docker("exec", app, "cat", "/proc/1/status").stdout
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert all(u != "0" for u in uids), f"PID 1 runs with uids {uids}"
        cmdline = daemon.docker("exec", app, "cat", "/proc/1/cmdline").stdout.split("\0")
        assert any(Path(a).name == "panel" for a in cmdline) and "serve" in cmdline, \
            f"PID 1 is {' '.join(cmdline)}, not panel serve"
        return f"uid {uids[0]}, PID 1 = {' '.join(a for a in cmdline[:3] if a)}"

    def server_extras_in_image() -> str:
        # cartopy, the server-only geometry (found through CLIMATE_ATLAS_SERVER_DATA) and a
        # projection of the 50m detail, as the non-root server user, with no network.
        code = ("from climate_atlas import server_extras as sx; "
                "g = sx.projected('50m', 'Robinson'); "
                "print(sx.server_data_dir(), len(g.geometry['countries']), 'countries')")
        result = daemon.docker("exec", app, "python", "-c", code, check=False, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip()

    def map_controls_in_session() -> str:
        # Pulled over the websocket like BokehJS does: the live session's own document.
        token = probe.session_token(page["html"])
        doc = json.dumps(probe.pull_document(HOST, port, APP_PATH, f"http://{origin_host}", token))
        wanted = ("Map projection", "Tile basemap", "Detail 50m", "server-map|Equal Earth|110m")
        missing = [text for text in wanted if text not in doc]
        assert not missing, f"the session's document lacks {missing}"
        return f"{len(doc) / 1e3:.0f} kB document with " + ", ".join(repr(w) for w in wanted[:3])

    run.check("GET / redirects to the app, 200", root_redirects)
    run.check("server-only map features work in the image (cartopy, data/server, 50m)",
              server_extras_in_image)
    if page and "server_extras" in (context / "app/climate_atlas/layout.py").read_text():
        run.check("the live session has the server-only map controls", map_controls_in_session)
    run.check("/liveness and /liveness?endpoint=/main answer 200", liveness)
    if page:
        run.check("websocket from the allowed origin with the page's token gets Bokeh's ACK",
                  ws_allowed)
        run.check("websocket from a foreign origin with the same token gets 403", ws_foreign)
    run.check("server is PID 1 and runs as a non-root uid", non_root_pid1)

    def stop_by_sigterm() -> str:
        t0 = time.monotonic()
        daemon.docker("stop", "--time", "10", app)
        elapsed = time.monotonic() - t0
        code = container_state(daemon, app, "ExitCode")
        assert code != "137", f"docker stop needed SIGKILL (exit 137 after {elapsed:.1f} s)"
        run.facts["docker stop"] = f"{elapsed:.1f} s, exit code {code}"
        return run.facts["docker stop"]

    run.check("docker stop ends the server by SIGTERM (exit code not 137)", stop_by_sigterm)

    def refuses(env: list[str], expected: str) -> str:
        name = run.name("refuse")
        result = daemon.docker("run", "--name", name, *env, IMAGE, check=False, timeout=60)
        assert result.returncode != 0, "the container started anyway"
        assert expected in result.stderr, f"stderr lacks {expected!r}: {result.stderr!r}"
        said = [line for line in result.stderr.splitlines() if line.startswith("climate-atlas:")]
        return f"exit {result.returncode}: {said[0] if said else result.stderr.strip()}"

    run.check("without BOKEH_ALLOW_WS_ORIGIN the container exits with what to set",
              lambda: refuses(["--env", f"PORT={port}"], NO_ORIGIN_MESSAGE))
    run.check("BOKEH_ALLOW_WS_ORIGIN='*' is refused",
              lambda: refuses(["--env", f"PORT={port}", "--env", "BOKEH_ALLOW_WS_ORIGIN=*"],
                              "contains '*'"))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=Path, default=REPO_ROOT, help="docker build context")
    parser.add_argument("--keep-daemon", action="store_true",
                        help="leave a private dockerd this run started running (faster reruns)")
    parser.add_argument("--stop-daemon", action="store_true",
                        help="stop a private dockerd left running, restore the network, exit")
    parser.add_argument("--no-scale", action="store_true",
                        help="skip the two-instance checks behind HAProxy (docker/scale.py)")
    parser.add_argument("--build-only", action="store_true",
                        help="stop once the image is built (make test builds it beside its other "
                             "stages and checks it after them)")
    args = parser.parse_args()
    # `make test` builds the image beside its other stages and stops that with a TERM on an
    # interrupt: as an exception, so the cleanup below runs.
    signal.signal(signal.SIGTERM, _terminated)

    dockerd.HOME.mkdir(parents=True, exist_ok=True)
    with open(dockerd.HOME / "test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one docker test at a time on this machine
        if args.stop_daemon:
            dockerd.stop_leftover()
            return 0
        t0 = time.monotonic()
        dockerd.ensure_packages()
        daemon = dockerd.find_or_start()
        run = Run(daemon)
        try:
            base = base_image.ensure_base_image(daemon)
            run.facts["build"] = f"{build_image(daemon, base, args.context):.1f} s"
            if not args.build_only:
                run_checks(run, args.context)
                if not args.no_scale:
                    scale.run_scale_checks(run, IMAGE)
        finally:
            run.cleanup()
            if args.keep_daemon and daemon.started:
                log(f"private dockerd left running (pid {daemon.proc.pid}); "
                    "stop it with: python3 docker/test.py --stop-daemon")
            else:
                daemon.stop()
        run.facts["whole test"] = f"{time.monotonic() - t0:.1f} s"
    for key, value in run.facts.items():
        log(f"{key}: {value}")
    if args.build_only:
        log("image built; its checks run with `make docker-test`")
        return 0
    print(f"docker-test: {len(run.passed)} passed, {len(run.failed)} failed", flush=True)
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
