#!/usr/bin/env bash
# `make test`: every stage, each timed by scripts/stage.sh. The container image is built beside the
# other stages, from just after lint (make docker-build: apt and debootstrap downloads on a fresh
# machine, then the image; mostly waiting on the network and the disk, while build, unit and e2e
# keep both cores busy; the bench smoke is one of the e2e modules, tests/e2e/test_bench_smoke.py);
# one after the other the suite took 22.5 minutes on CI's 2 cores, over its 20. The container
# checks (make docker-test, reusing that image and its daemon) run last, alone: their waves of
# sessions, run beside the browsers, missed their 15 s deadlines. The build's output goes to a
# file, shown when it ends, so the logs do not interleave.
#
# Any failure ends the run as before, after the image build is waited for (it stops cleanly, and an
# interrupt or TERM reaches it as a TERM to its own process group); the daemon it kept is stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

stage() { scripts/stage.sh "$1" "$MAKE" --no-print-directory "$2"; }

stage lint lint || exit

image_log=$(mktemp)
setsid scripts/stage.sh docker-build "$MAKE" --no-print-directory docker-build \
  >"$image_log" 2>&1 &
image_pid=$!  # setsid: its own session and process group, with this id

finish() {
  local status=$1
  # From here an interrupt reaches the running stage itself (docker-test cleans up on it); this
  # script notes it and still stops the daemon.
  trap 'status=130' INT TERM
  echo "waiting for the container image (built beside the other stages since lint) ..."
  wait "$image_pid" || status=1
  cat "$image_log"
  rm -f "$image_log"
  if [ "$status" = 0 ]; then
    stage docker docker-test || status=1
  fi
  "$MAKE" --no-print-directory docker-stop
  exit "$status"
}
trap 'kill -TERM -- "-$image_pid" 2>/dev/null; finish 130' INT TERM

for name in build unit e2e; do
  stage "$name" "$name" || finish 1
done
finish 0
