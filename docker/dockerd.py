"""The Docker daemon the container test talks to: one already running, or a private one it starts.

A private daemon gets its own socket, data root (kept, so the layer cache survives between runs),
exec root and pidfile, and is started with --iptables=false --ip-forward=false --ip-masq=false: it
then leaves the firewall, the FORWARD policy and ip_forward as they were. Builds use the host's
network (`docker build --network host`), and published ports go through docker-proxy on 127.0.0.1,
which needs no NAT. The network state is still recorded before the start and put back after the
stop (new links such as docker0, new iptables rules and chains, changed chain policies,
ip_forward), so a daemon that does change them is cleaned up too. Only a daemon this code started
is ever stopped, by its PID.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "climate-atlas"
HOME = CACHE / "docker"
SOCKET = HOME / "docker.sock"
DATA_ROOT = HOME / "data-root"
PIDFILE = HOME / "dockerd.pid"
LOG = HOME / "dockerd.log"
NETSTATE = HOME / "netstate.json"  # network state from before the private daemon started
EXEC_ROOT = Path("/run/climate-atlas-docker")  # short: containerd puts unix sockets under it
SYSTEM_SOCKET = Path("/var/run/docker.sock")
IPTABLES_TABLES = ("filter", "nat")

# binary -> Debian package that provides it
# (haproxy: the sticky router of docker/scale.py's two-instance checks)
PACKAGES = {"dockerd": "docker.io", "debootstrap": "debootstrap", "iptables": "iptables",
            "haproxy": "haproxy"}


def log(message: str) -> None:
    print(f"docker-test: {message}", flush=True)


def _root_prefix() -> list[str]:
    return [] if os.geteuid() == 0 else ["sudo"]


def _which(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (str(p) for p in (Path("/usr/sbin") / binary, Path("/sbin") / binary) if p.exists()), None)


def ensure_packages() -> None:
    """apt-get install what is missing (docker.io, debootstrap, iptables, haproxy); no-op if present."""
    missing = sorted({pkg for binary, pkg in PACKAGES.items() if _which(binary) is None})
    if not missing:
        return
    log(f"installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*_root_prefix(), "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*_root_prefix(), "apt-get", "install", "-y", "-qq", *missing],
                   check=True, env=env)


# --- network state ---------------------------------------------------------------------------

@dataclass
class NetState:
    ip_forward: str
    links: list[str]
    iptables: dict[str, str]  # table -> `iptables-save -t table`

    @classmethod
    def capture(cls) -> NetState:
        forward = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                               check=True).stdout
        names = sorted({line.split(":")[1].strip().split("@")[0]
                        for line in links.splitlines() if ":" in line})
        tables = {}
        if _which("iptables-save"):
            for table in IPTABLES_TABLES:
                out = subprocess.run([_which("iptables-save"), "-t", table],
                                     capture_output=True, text=True)
                if out.returncode == 0:
                    tables[table] = out.stdout
        return cls(forward, names, tables)

    def restore(self) -> list[str]:
        """Undo what happened since this state was captured; return what was undone."""
        now = NetState.capture()
        undone = []
        iptables = _which("iptables")
        for table, before_text in self.iptables.items():
            if iptables is None or table not in now.iptables:
                continue
            before, after = _parse_save(before_text), _parse_save(now.iptables[table])
            for rule in after["rules"]:
                if rule not in before["rules"]:
                    args = shlex.split(rule)
                    args[0] = "-D"
                    if _run_quiet([iptables, "-t", table, *args]):
                        undone.append(f"iptables -t {table} {rule}")
            for chain in after["chains"]:
                if chain not in before["chains"]:
                    _run_quiet([iptables, "-t", table, "-F", chain])
                    if _run_quiet([iptables, "-t", table, "-X", chain]):
                        undone.append(f"iptables -t {table} chain {chain}")
            for chain, policy in before["policies"].items():
                changed = after["policies"].get(chain, policy) != policy
                if changed and _run_quiet([iptables, "-t", table, "-P", chain, policy]):
                    undone.append(f"iptables -t {table} -P {chain} {policy}")
        for name in now.links:
            ours = name not in self.links and name.startswith(("docker", "br-", "veth"))
            if ours and _run_quiet(["ip", "link", "delete", name]):
                undone.append(f"link {name}")
        if now.ip_forward != self.ip_forward:
            Path("/proc/sys/net/ipv4/ip_forward").write_text(self.ip_forward + "\n")
            undone.append(f"ip_forward={self.ip_forward}")
        return undone


def _parse_save(text: str) -> dict:
    policies, chains, rules = {}, [], []
    for line in text.splitlines():
        if line.startswith(":"):
            name, policy = line[1:].split()[:2]
            chains.append(name)
            if policy != "-":
                policies[name] = policy
        elif line.startswith("-A "):
            rules.append(line)
    return {"policies": policies, "chains": chains, "rules": rules}


def _run_quiet(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


# --- the daemon --------------------------------------------------------------------------------

class Daemon:
    """A reachable Docker daemon; `started` says whether this process started it."""

    def __init__(self, host: str, proc: subprocess.Popen | None = None):
        self.host = host
        self.proc = proc

    @property
    def started(self) -> bool:
        return self.proc is not None

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, DOCKER_HOST=self.host, DOCKER_BUILDKIT="0")

    def docker(self, *args: str, check: bool = True, timeout: float | None = 600,
               capture: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, check=check, timeout=timeout,
                              capture_output=capture, text=True)

    def responds(self) -> bool:
        try:
            return self.docker("version", "--format", "{{.Server.Version}}", check=False,
                               timeout=20).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> None:
        """Stop the daemon if this process started it, then put the network back."""
        if self.proc is None:
            return
        stop_private(self.proc.pid, self.proc)
        self.proc = None


def find_or_start() -> Daemon:
    """The daemon named by DOCKER_HOST, else the system one, else our private one (started now)."""
    candidates = []
    if os.environ.get("DOCKER_HOST"):
        candidates.append(os.environ["DOCKER_HOST"])
    candidates += [f"unix://{SYSTEM_SOCKET}", f"unix://{SOCKET}"]
    for host in candidates:
        if host.startswith("unix://") and not Path(host[7:]).exists():
            continue
        daemon = Daemon(host)
        if daemon.responds():
            log(f"using the running Docker daemon at {host}")
            return daemon
    return start_private()


def start_private() -> Daemon:
    HOME.mkdir(parents=True, exist_ok=True)
    EXEC_ROOT.mkdir(parents=True, exist_ok=True)
    if not NETSTATE.exists():  # a leftover from a killed run holds the older, true "before"
        NETSTATE.write_text(json.dumps(asdict(NetState.capture())))
    cmd = [
        _which("dockerd") or "dockerd",
        "--host", f"unix://{SOCKET}",
        "--data-root", str(DATA_ROOT),
        "--exec-root", str(EXEC_ROOT),
        "--pidfile", str(PIDFILE),
        "--iptables=false", "--ip-forward=false", "--ip-masq=false",
        "--userland-proxy=true",
    ]
    log(f"starting a private dockerd (socket {SOCKET}, log {LOG})")
    with open(LOG, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    daemon = Daemon(f"unix://{SOCKET}", proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = LOG.read_text(errors="replace").splitlines()[-15:]
            stop_private(proc.pid, proc)
            raise RuntimeError("dockerd exited at start:\n" + "\n".join(tail))
        if SOCKET.exists() and daemon.responds():
            return daemon
        time.sleep(0.3)
    stop_private(proc.pid, proc)
    raise RuntimeError(f"dockerd did not answer within 60 s; see {LOG}")


def stop_private(pid: int, proc: subprocess.Popen | None = None) -> None:
    """SIGTERM our dockerd by PID (SIGKILL after 30 s), reap its containerd, restore the network."""
    def alive() -> bool:
        if proc is not None:
            return proc.poll() is None
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False

    containerd_pid = _read_pid(EXEC_ROOT / "containerd" / "containerd.pid")
    if alive():
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive():
            os.kill(pid, signal.SIGKILL)
            while alive():
                time.sleep(0.1)
    # dockerd stops the containerd it manages; if it was killed, that containerd is ours to end.
    if containerd_pid and _is_process(containerd_pid, "containerd"):
        os.kill(containerd_pid, signal.SIGTERM)
    if NETSTATE.exists():
        undone = NetState(**json.loads(NETSTATE.read_text())).restore()
        NETSTATE.unlink()
        log("network restored" + (f": {', '.join(undone)}" if undone else " (nothing changed)"))
    log("private dockerd stopped")


def stop_leftover() -> None:
    """Stop a private dockerd left running by `--keep-daemon` (or a killed run), by its pidfile."""
    pid = _read_pid(PIDFILE)
    if pid and _is_process(pid, "dockerd"):
        stop_private(pid)
    elif NETSTATE.exists():
        undone = NetState(**json.loads(NETSTATE.read_text())).restore()
        NETSTATE.unlink()
        log("network restored" + (f": {', '.join(undone)}" if undone else " (nothing changed)"))
    else:
        log("no private dockerd is running")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_process(pid: int, name: str) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == name
    except OSError:
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop_leftover()
    else:
        sys.exit("usage: python3 docker/dockerd.py stop")
