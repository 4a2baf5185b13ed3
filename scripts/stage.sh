#!/usr/bin/env bash
# Run one stage of `make test` and print how long it took, so slow stages are visible in CI logs.
set -uo pipefail
name=$1; shift
start=$(date +%s%N)
"$@"; status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf '\n== stage %-12s %5d.%01d s  (exit %d)\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) "$status"
exit $status
