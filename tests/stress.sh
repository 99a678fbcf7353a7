#!/usr/bin/env bash
# The whole suite with a CPU hog beside it: proves that no test depends on a
# wait that only usually suffices. The hog is a rebuild of everything in a
# loop (go build -a, one job per core, its own build cache) plus one busy
# loop per core; both are stopped by PID when the suite ends, whatever its
# result. The suite's exit status is this script's.
#
#	bash tests/stress.sh            # run tests/run.sh under load
#	STRESS_HOG_ONLY=1 bash tests/stress.sh   # only the hog, until killed
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_go
cd "$AIRLOCK_ROOT"
hogcache=$(mktemp -d)
pids=()
stop_hog() {
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$hogcache"
}
trap stop_hog EXIT

# Each hog runs in its own process group (setsid), so that stopping it by
# PID also stops the compilers it started.
setsid bash -c 'while :; do GOCACHE='"$hogcache"' go build -a -buildvcs=false -o /dev/null ./launcher ./portal >/dev/null 2>&1; GOCACHE='"$hogcache"' go clean -cache >/dev/null 2>&1; done' &
pids+=($!)
for _ in $(seq "$(nproc)"); do
	setsid bash -c 'while :; do :; done' &
	pids+=($!)
done
log "CPU hog started (pids ${pids[*]}) on $(nproc) cores"
if [ -n "${STRESS_HOG_ONLY:-}" ]; then
	wait
	exit 0
fi
set +e
bash tests/run.sh "$@"
rc=$?
set -e
log "suite under load: exit $rc"
exit $rc
