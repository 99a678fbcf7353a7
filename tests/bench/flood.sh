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
#     broadcast   small broadcast signals against up to RULES match rules
#     log         calls to a name not on the bus, each refused and logged
# For each flood: the victim's p50 against idle (target <= 2x), the broker's
# peak VmRSS while it lasted (sampled every 100 ms; target < 100 MB), and how
# much portal.log (with its rotated file) grew.
#
# BEFORE=REV first runs it all against the broker built from git revision REV
# (the anchor: for issue 8, the revision before the budget), timing
# BEFORE_N calls (the old broker answers them slowly under some floods).
#
# Env: REPS (3 idle runs), N (2000 calls), WARMUP (200), CONNS (4),
#      RULES (16000: as many as the old broker took, 500 on each of 32
#      connections; the budget refuses past 1024), FLOODS, SETTLE (2 s of flood before timing), BEFORE, BEFORE_N
#      (200), AIRLOCK_USER.
# Everything started here is ended by PID on exit; nothing is killed by name.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

REPS=${REPS:-3}
N=${N:-2000}
WARMUP=${WARMUP:-200}
CONNS=${CONNS:-4}
RULES=${RULES:-16000}
SETTLE=${SETTLE:-2}
BEFORE_N=${BEFORE_N:-200}
FLOODS=${FLOODS:-"struct:1048064 struct:196608 variant:1048064 variant:98304 broadcast:0 log:0"}

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
airlock_run() { fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock" run --profile "$PROFILE" "$@"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PORTAL_PID/status"; }
logsize() { echo $(($(stat -c %s "$PLOG" 2>/dev/null || echo 0) + $(stat -c %s "$PLOG.1" 2>/dev/null || echo 0))); }
flood_name() { # flood_name MODE:SIZE
	local mode=${1%%:*} size=${1##*:}
	if [ "$size" != 0 ]; then echo "$mode-$((size / 1024))k"; else echo "$mode"; fi
}

declare -A IDLE P50 PEAK LOGGROW SENT HWM

# measure LABEL PORTAL_BIN N: one broker, the victim idle, then each flood.
measure() {
	local label=$1 bin=$2 n=$3 f mode size name log0 fpid sampler runs=() r
	# The log where the launcher puts it, made by the user: the broker
	# rotates it by path.
	PLOG=$RUN/rt/portal-$label.log
	install -m 0600 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" /dev/null "$PLOG"
	bg_user "$PLOG" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$bin"
	PORTAL_PID=$BG_PID
	wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal ($label) did not start: $(tail -5 "$PLOG")"
	victim() {
		local out
		out=$(airlock_run --name victim -- "$BIN" victim -n "$n" -warmup "$WARMUP" 2>&1) || fail "victim failed: $out"
		kv p50_us "$(grep '^latency ' <<<"$out")"
	}
	log "$label: idle, $REPS victim runs"
	for r in $(seq "$REPS"); do runs+=("$(victim)"); done
	IDLE[$label]=$(printf '%s\n' "${runs[@]}" | median)
	echo "$label idle: victim p50 ${IDLE[$label]} us (runs: ${runs[*]}), broker VmRSS $(rss) kB"
	for f in $FLOODS; do
		mode=${f%%:*} size=${f##*:}
		name=$(flood_name "$f")
		log "$label: flood $name"
		log0=$(logsize)
		args=(-mode "$mode" -conns "$CONNS" -rules "$RULES" -max 10m)
		[ "$size" != 0 ] && args+=(-size "$size")
		bg_user "$WORK/log/flood-$label-$name.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- \
			"$WORK/bin/airlock" run --profile "$PROFILE" --name "flood-$name" -- "$BIN" flood "${args[@]}"
		fpid=$BG_PID
		# peak RSS while the flood lasts
		(peak=0; while kill -0 "$fpid" 2>/dev/null; do
			r=$(rss) || break
			[ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$WORK/peak-$label-$name"; }
			sleep 0.1
		done) &
		sampler=$!
		sleep "$SETTLE"
		kill -0 "$fpid" 2>/dev/null || fail "the flooder ended early: $(tail -5 "$WORK/log/flood-$label-$name.log")"
		P50[$label/$name]=$(victim)
		kill -0 "$PORTAL_PID" 2>/dev/null || fail "the broker ($label) died under the $name flood: $(tail -5 "$PLOG")"
		LOGGROW[$label/$name]=$(($(logsize) - log0))
		kill_tree "$fpid"
		wait "$sampler" 2>/dev/null || true
		PEAK[$label/$name]=$(cat "$WORK/peak-$label-$name" 2>/dev/null || echo 0)
		SENT[$label/$name]=$(kv sent "$(grep '^flooded ' "$WORK/log/flood-$label-$name.log" || true)")
		echo "$label $name: victim p50 ${P50[$label/$name]} us ($(ratio "${P50[$label/$name]}" "${IDLE[$label]}")x idle), broker peak VmRSS ${PEAK[$label/$name]} kB, portal.log +${LOGGROW[$label/$name]} B, flooder sent ${SENT[$label/$name]:-?} messages"
		sleep 1
	done
	kill -0 "$PORTAL_PID" 2>/dev/null || fail "the broker ($label) died"
	HWM[$label]=$(awk '/^VmHWM:/ {print $2}' "/proc/$PORTAL_PID/status")
	echo "$label: broker VmHWM over its run: ${HWM[$label]} kB; $(basename "$PLOG") now $(stat -c %s "$PLOG") B, .1 $(stat -c %s "$PLOG.1" 2>/dev/null || echo 0) B, $(cat "$PLOG" "$PLOG.1" 2>/dev/null | grep -c 'log lines dropped' || true) reports of dropped lines"
	kill_tree "$PORTAL_PID"
	rm -f "$PLOG" "$PLOG.1"
}

if [ -n "${BEFORE:-}" ]; then
	# The anchor: the broker as it was at $BEFORE, built from that revision.
	mkdir -p "$WORK/before"
	(cd "$AIRLOCK_ROOT" && git archive "$BEFORE" | tar -x -C "$WORK/before") || fail "cannot extract revision $BEFORE"
	(cd "$WORK/before" && go build -buildvcs=false -o "$WORK/bin/airlock-portal-before" ./portal) || fail "cannot build the broker of $BEFORE"
	chmod 755 "$WORK/bin/airlock-portal-before"
	measure before "$WORK/bin/airlock-portal-before" "$BEFORE_N"
fi
measure airlock "$WORK/bin/airlock-portal" "$N"

for f in $FLOODS; do
	name=$(flood_name "$f")
	k=airlock/$name
	line="SUMMARY flood-$name victim-p50: idle=${IDLE[airlock]}us flood=${P50[$k]}us ratio=$(ratio "${P50[$k]}" "${IDLE[airlock]}")x (target <= 2x) broker-peak-rss=$((PEAK[$k] / 1024))MB (target < 100MB) log-growth=$((LOGGROW[$k] / 1024))KiB"
	if [ -n "${BEFORE:-}" ]; then
		b=before/$name
		line+=" | before ($BEFORE): idle=${IDLE[before]}us flood=${P50[$b]}us ratio=$(ratio "${P50[$b]}" "${IDLE[before]}")x broker-peak-rss=$((PEAK[$b] / 1024))MB log-growth=$((LOGGROW[$b] / 1024))KiB"
	fi
	echo "$line"
done
echo "SUMMARY flood-broker-rss airlock-hwm=$((HWM[airlock] / 1024))MB${BEFORE:+ before-hwm=$((HWM[before] / 1024))MB}"
