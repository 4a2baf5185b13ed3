#!/usr/bin/env bash
# `make test`: every stage, the container test beside the others.
#
# The container test (docker/test.py) mostly waits: on its daemon, on containers booting, on the
# 70 s idle connection and on the sessions' discard timers. It runs in the background from the
# start, its output kept in a file and printed whole when it ends, while lint, build, unit, e2e and
# the bench smoke run in turn (stopping at the first that fails); this saves about 3.5 minutes on
# 2 cores. The run fails if any stage failed. A background job ignores Ctrl-C, so an interrupted
# run lets the container test finish (it removes its containers and stops its daemon) and waits.
set -uo pipefail
cd "$(dirname "$0")/.."
make=("${MAKE:-make}" --no-print-directory)
if [ "$(id -u)" != 0 ] && ! sudo -v; then  # docker-test needs root: ask now, not in the background
  echo "== no sudo: the container test (docker-test) will fail; the other stages run" >&2
fi
log=$(mktemp "${TMPDIR:-/tmp}/climate-atlas-docker-test.XXXXXX") || exit 1
scripts/stage.sh docker "${make[@]}" docker-test >"$log" 2>&1 &
docker=$!

finish_docker() {
  wait "$docker"; docker_status=$?
  echo; echo "== output of stage docker"
  cat "$log"; rm -f "$log"
}
trap 'echo "== interrupted: waiting for the container test to clean up"; finish_docker; exit 130' \
  INT TERM
echo "== stage docker runs in the background (its output follows the other stages)"

status=0
for stage in lint build unit e2e bench-smoke; do
  scripts/stage.sh "$stage" "${make[@]}" "$stage" || { status=$?; break; }
done

trap - INT TERM
finish_docker
if [ "$status" -ne 0 ]; then exit "$status"; fi
exit "$docker_status"
