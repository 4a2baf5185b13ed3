"""`make bench`'s variants each become live on this machine: one cold visit of each on loopback
(`python -m bench smoke`, no timings, nothing written). A variant that breaks on a fresh machine
(the baseline once could not find micropip) fails `make test`.

It runs among the e2e modules, so that the two test processes share its browser's time with the
other modules' instead of leaving a core idle while it runs alone. `python -m bench` starts its own
Playwright, which a test process that already drives one cannot do in-process: it runs as a child
process, in a process group of its own that the test stops if it overruns.
"""

from __future__ import annotations

import subprocess
import sys

from tools.servers import ROOT, stop_process_group

VARIANTS = ["ours", "baseline", "floor", "serve"]
TIMEOUT_S = 600  # four cold visits take 1-2 minutes here


def test_every_bench_variant_becomes_live() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bench", "smoke", "--variants", ",".join(VARIANTS)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as overrun:
        stop_process_group(proc)
        output, _ = proc.communicate()
        raise AssertionError(
            f"bench smoke still running after {TIMEOUT_S} s:\n{output[-4000:]}") from overrun
    said = {line.split("]", 1)[1].strip() for line in output.splitlines()
            if line.startswith("[bench smoke]")}
    assert said == {f"{name}: live" for name in VARIANTS} and proc.returncode == 0, output[-4000:]
