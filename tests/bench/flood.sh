#!/usr/bin/env bash
# One sandbox floods the broker; another sandbox's calls are timed meanwhile
# (issue 8 item 3). Run as root; everything else runs as $AIRLOCK_USER.
# Prints figures and ratios; asserts nothing.
#
# Both sides run inside Airlock sandboxes, on the same broker:
#   victim:  `floodbench victim`, Settings.ReadOne on its own sandbox's bus,
#            sequential calls, p50 (the anchor is the same victim on an idle
#            broker, measured in the same run);
#   flooder: `floodbench flood -mode M` in a second sandbox, CONNS raw
#            connections writing as fast as the broker reads:
#     struct      1 MiB messages of a(yy), and 192 KiB ones (under the decode cap)
#     variant     1 MiB messages of av (bytes), and 96 KiB ones
#     broadcast   small broadcast signals against RULES match rules
#     log         calls to a name not on the bus, each refused and logged
# For each flood: the victim's p50 against idle (target <= 2x), the broker's
# peak VmRSS while it lasted (sampled every 100 ms; target < 100 MB), and how
# much portal.log (with its rotated file) grew.
#
# Env: REPS (3 idle runs), N (2000 calls), WARMUP (200), CONNS (4),
#      RULES (1000), SETTLE (2 s of flood before timing), AIRLOCK_USER.
# Everything started here is ended by PID on exit; nothing is killed by name.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

REPS=${REPS:-3}
N=${N:-2000}
WARMUP=${WARMUP:-200}
CONNS=${CONNS:-4}
RULES=${RULES:-1000}
SETTLE=${SETTLE:-2}
FLOODS="struct:1048064 struct:196608 variant:1048064 variant:98304 broadcast:0 log:0"

[ "$(id -u)" -eq 0 ] || { echo "flood.sh: run as root (it starts the sandboxes as \$AIRLOCK_USER)" >&2; exit 2; }

BENCH_NAME=flood.sh
. "$(dirname "$0")/benchlib.sh"
ensure_go
build_airlock || fail "cannot build airlock"
ensure_user
mk_work floodbench

BIN=$WORK/bin/floodbench
(cd "$AIRLOCK_ROOT" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN" ./tests/bench/floodbench) || fail "go build of floodbench failed"
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$WORK/bin/"
chmod 755 "$WORK/bin" "$WORK/bin"/*
PROFILE=$WORK/floodbench.toml
cat >"$PROFILE" <<EOF2
display_name = "floodbench"
net = "none"
sound = "none"
display = "none"
expose_ro = ["$WORK/bin"]
EOF2
chmod 644 "$PROFILE"

start_bus_a
# The log where the launcher puts it, made by the user: the broker rotates it by path.
PLOG=$RUN/rt/portal.log
install -m 0600 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" /dev/null "$PLOG"
bg_user "$PLOG" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock-portal"
PORTAL_PID=$BG_PID
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$PLOG")"

airlock_run() { fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock" run --profile "$PROFILE" "$@"; }
victim() {
	local out
	out=$(airlock_run --name victim -- "$BIN" victim -n "$N" -warmup "$WARMUP" 2>&1) || fail "victim failed: $out"
	kv p50_us "$(grep '^latency ' <<<"$out")"
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PORTAL_PID/status"; }
logsize() { echo $(($(stat -c %s "$PLOG" 2>/dev/null || echo 0) + $(stat -c %s "$PLOG.1" 2>/dev/null || echo 0))); }

log "idle: $REPS victim runs"
IDLE_RUNS=()
for r in $(seq "$REPS"); do IDLE_RUNS+=("$(victim)"); done
IDLE=$(printf '%s\n' "${IDLE_RUNS[@]}" | median)
IDLE_RSS=$(rss)
echo "idle: victim p50 ${IDLE} us (runs: ${IDLE_RUNS[*]}), broker VmRSS ${IDLE_RSS} kB"

declare -A P50 PEAK LOGGROW SENT
for f in $FLOODS; do
	mode=${f%%:*} size=${f##*:}
	name=$mode
	[ "$size" != 0 ] && name="$mode-$((size / 1024))k"
	log "flood: $name"
	log0=$(logsize)
	args=(-mode "$mode" -conns "$CONNS" -rules "$RULES" -max 5m)
	[ "$size" != 0 ] && args+=(-size "$size")
	bg_user "$WORK/log/flood-$name.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- \
		"$WORK/bin/airlock" run --profile "$PROFILE" --name "flood-$name" -- "$BIN" flood "${args[@]}"
	FPID=$BG_PID
	# peak RSS while the flood lasts
	(peak=0; while kill -0 "$FPID" 2>/dev/null; do
		r=$(rss) || break
		[ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$WORK/peak-$name"; }
		sleep 0.1
	done) &
	SAMPLER=$!
	sleep "$SETTLE"
	kill -0 "$FPID" 2>/dev/null || fail "the flooder ended early: $(tail -5 "$WORK/log/flood-$name.log")"
	P50[$name]=$(victim)
	kill -0 "$PORTAL_PID" 2>/dev/null || fail "the broker died under the $name flood: $(tail -5 "$PLOG")"
	LOGGROW[$name]=$(($(logsize) - log0))
	kill_tree "$FPID"
	wait "$SAMPLER" 2>/dev/null || true
	PEAK[$name]=$(cat "$WORK/peak-$name" 2>/dev/null || echo 0)
	SENT[$name]=$(kv sent "$(grep '^flooded ' "$WORK/log/flood-$name.log" || true)")
	echo "$name: victim p50 ${P50[$name]} us ($(ratio "${P50[$name]}" "$IDLE")x idle), broker peak VmRSS ${PEAK[$name]} kB, portal.log +${LOGGROW[$name]} B, flooder sent ${SENT[$name]:-?} messages"
	sleep 1
done

kill -0 "$PORTAL_PID" 2>/dev/null || fail "the broker died"
HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$PORTAL_PID/status")
echo "broker VmHWM over the whole run: $HWM kB; portal.log now $(stat -c %s "$PLOG") B, portal.log.1 $(stat -c %s "$PLOG.1" 2>/dev/null || echo 0) B"
grep -c 'log lines dropped' "$PLOG" "$PLOG.1" 2>/dev/null | sed 's/^/  reports of dropped log lines: /' || true
for f in $FLOODS; do
	mode=${f%%:*} size=${f##*:}
	name=$mode
	[ "$size" != 0 ] && name="$mode-$((size / 1024))k"
	echo "SUMMARY flood-$name victim-p50: idle=${IDLE}us flood=${P50[$name]}us ratio=$(ratio "${P50[$name]}" "$IDLE")x (target <= 2x) broker-peak-rss=$((PEAK[$name] / 1024))MB (target < 100MB) log-growth=$((LOGGROW[$name] / 1024))KiB"
done
echo "SUMMARY flood-broker-rss idle=$((IDLE_RSS / 1024))MB hwm=$((HWM / 1024))MB"
