#!/usr/bin/env bash
# `make test`: every stage, each timed by scripts/stage.sh. The container stage (make docker-test)
# runs beside the others, from just after lint: most of its five or six minutes is waiting (apt and
# debootstrap downloads on a fresh machine, a session kept idle for 70 s, the servers' unused-session
# lifetime), while build, unit, e2e and the bench smoke keep both cores busy; one after the other
# the suite took 22.5 minutes on CI's 2 cores, over its 20. The container stage's output goes to a
# file and is shown when it ends, so the two logs do not interleave.
#
# The foreground stages stop at the first failure, as before; the container stage is always waited
# for (it removes its containers and stops the daemon it started) and its failure counts too. An
# interrupt or TERM reaches it as a TERM to its own process group (docker/test.py cleans up on it).
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

stage() { scripts/stage.sh "$1" "$MAKE" --no-print-directory "$2"; }

stage lint lint || exit

container_log=$(mktemp)
setsid scripts/stage.sh docker "$MAKE" --no-print-directory docker-test >"$container_log" 2>&1 &
container_pid=$!  # setsid: its own session and process group, with this id

finish() {
  local status=$1
  echo "waiting for the docker stage (running beside the others since lint) ..."
  wait "$container_pid" || status=1
  cat "$container_log"
  rm -f "$container_log"
  exit "$status"
}
trap 'kill -TERM -- "-$container_pid" 2>/dev/null; finish 130' INT TERM

for name in build unit e2e bench-smoke; do
  stage "$name" "$name" || finish 1
done
finish 0
