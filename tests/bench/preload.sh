#!/usr/bin/env bash
# What the file-dialog library preloaded into every sandbox with a portal
# (launcher/gtkdialog) costs each process started inside: the same program
# started N times without and with LD_PRELOAD, alternated in rounds, in one
# run. Prints both, the difference and the ratio; asserts nothing. The
# library looks nothing up until a GTK function it replaces is called, so a
# non-GTK process pays only the loader's work: mapping it and its symbols.
#	RUNS=500 ROUNDS=3 bash tests/bench/preload.sh
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages
build_gtkdialog "$AIRLOCK_BUILD" 2>/dev/null || { mkdir -p "$AIRLOCK_BUILD"; build_gtkdialog "$AIRLOCK_BUILD"; }
lib=$AIRLOCK_BUILD/libairlock-gtkdialog.so
runs=${RUNS:-500}
for round in $(seq "${ROUNDS:-3}"); do
	for prog in /bin/true; do
		s=$(date +%s%N); for _ in $(seq "$runs"); do "$prog"; done; e=$(date +%s%N)
		plain=$(((e - s) / runs))
		s=$(date +%s%N); for _ in $(seq "$runs"); do LD_PRELOAD=$lib "$prog"; done; e=$(date +%s%N)
		pre=$(((e - s) / runs))
		awk -v r="$round" -v a="$plain" -v b="$pre" 'BEGIN { printf "SUMMARY preload round %d: without %.0f us, with %.0f us, +%.0f us, ratio %.2f\n", r, a/1000, b/1000, (b-a)/1000, b/a }'
	done
done
