#!/usr/bin/env bash
# `make test`: every stage, the container test beside the others.
#
# The container test (docker/test.py) mostly waits: on its daemon, on containers booting, on the
# 70 s idle connection and on the sessions' discard timers. It runs in the background from the
# start, its output kept in a file and printed whole when it ends, while lint, build, unit, e2e and
# the bench smoke run in turn (stopping at the first that fails); this saves about 3.5 minutes on 2
# cores. The run fails if any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."
make=(make --no-print-directory)
# docker-test needs root (Makefile: sudo unless root); ask for the password now, not in the background
if [ "$(id -u)" != 0 ]; then sudo -v || exit 1; fi
log=$(mktemp "${TMPDIR:-/tmp}/climate-atlas-docker-test.XXXXXX")
scripts/stage.sh docker "${make[@]}" docker-test >"$log" 2>&1 &
docker=$!
echo "== stage docker runs in the background (its output follows the other stages)"

status=0
for stage in lint build unit e2e bench-smoke; do
  scripts/stage.sh "$stage" "${make[@]}" "$stage" || { status=$?; break; }
done

wait "$docker"; docker_status=$?
echo; echo "== output of stage docker"
cat "$log"; rm -f "$log"
if [ "$status" -ne 0 ]; then exit "$status"; fi
exit "$docker_status"
