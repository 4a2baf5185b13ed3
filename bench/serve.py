"""`panel serve app/main.py` on 127.0.0.1 for the benchmark, with its process ids (for memory)."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import ROOT, free_port, wait_until_up


@dataclass
class Served:
    url: str  # the app's page
    ws_url: str  # its websocket, for bokeh.client
    proc: subprocess.Popen

    def rss(self) -> int:
        """Resident memory of the server and its children (--num-procs forks), in bytes."""
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total


def _children(pid: int) -> list[int]:
    out = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += [int(child), *_children(int(child))]
    return out


@contextlib.contextmanager
def panel_serve(num_procs: int = 1, extra: tuple[str, ...] = ()) -> Iterator[Served]:
    port = free_port()
    cmd = [sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "main.py"),
           "--address", "127.0.0.1", "--port", str(port),
           "--allow-websocket-origin", f"127.0.0.1:{port}", "--num-procs", str(num_procs), *extra]
    with tempfile.TemporaryFile() as log:
        # its own process group: with --num-procs the forked workers must be stopped too
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/main", 90, alive=lambda: proc.poll() is None)
            yield Served(f"http://127.0.0.1:{port}/main", f"ws://127.0.0.1:{port}/main/ws", proc)
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read().decode()[-3000:])
            raise
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            with contextlib.suppress(ProcessLookupError):  # workers that outlived the parent
                os.killpg(proc.pid, signal.SIGKILL)


__all__ = ["Path", "Served", "panel_serve"]
