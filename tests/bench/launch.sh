#!/usr/bin/env bash
# Launch latency and init memory: airlock against bubblewrap with the same
# isolation, measured in one run, as an ordinary user. Prints both and the
# ratio; asserts nothing. RUNS=100 WARMUP=10 by default. It runs twice:
# unpinned, and with everything on CPU 0 (taskset), because waking a process
# on this VM's other vCPU costs from ~60 us to far more from one minute to the
# next, and a launch that hands work between processes pays it several times.
# LAUNCH_BEFORE=/path/to/airlock adds an earlier airlock binary to the same run (its
# airlock-reaper, if any, beside it). Besides wall time it prints the CPU
# time of each launch (user + system, its reaped processes included), which
# other work on the machine disturbs less.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages
ensure_go
build_airlock
ensure_user
(cd "$AIRLOCK_ROOT" && go build -buildvcs=false -o "$AIRLOCK_BUILD/launchbench" ./tests/bench/launchbench)
chmod 755 "$AIRLOCK_BUILD/launchbench"
cd /
log "unpinned"
before=()
[ -n "${LAUNCH_BEFORE:-}" ] && before=(-before "$LAUNCH_BEFORE")
as_user "$AIRLOCK_BUILD/launchbench" -runs "${RUNS:-100}" -warmup "${WARMUP:-10}" -airlock "$AIRLOCK_BUILD/airlock" "${before[@]}"
log "pinned to CPU 0"
as_user taskset -c 0 "$AIRLOCK_BUILD/launchbench" -runs "${RUNS:-100}" -warmup "${WARMUP:-10}" -airlock "$AIRLOCK_BUILD/airlock" "${before[@]}" | sed -E 's/^SUMMARY ([^ ]+)/SUMMARY \1-pinned/'
