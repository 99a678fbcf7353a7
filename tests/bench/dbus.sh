#!/usr/bin/env bash
# The mediated D-Bus channel against its anchor, in one run, as an ordinary
# user (run this script as root; it drops to $AIRLOCK_USER for everything but
# set-up). Prints our figure, the anchor's and the ratio; asserts nothing.
#
# 1. A small call (org.freedesktop.portal.Settings.ReadOne on
#    org.freedesktop.portal.Desktop) from inside an Airlock sandbox:
#      airlock: on the sandbox's own bus, answered by airlock-portal
#      proxy:   through `xdg-dbus-proxy --filter --talk=org.freedesktop.portal.Desktop`
#               and a dbus-daemon, to a godbus service answering the same call
#               (the socket's folder is exposed to the sandbox by its profile)
#      direct:  the same service on the dbus-daemon, no proxy (reference)
#    Latency: one connection, sequential calls (median, p10..p90); throughput:
#    CONC connections calling in a loop. Every case runs REPS times,
#    interleaved; medians over the repetitions are reported, and the CPU time
#    the server-side processes spent per call.
# 2. Memory (VmRSS, and PSS from /proc/PID/smaps_rollup): airlock-portal idle
#    and with 1, 5, 10 sandboxes (`airlock run -- dbusbench hold`, a connected
#    client that made one call), against xdg-desktop-portal + its GTK backend
#    (under Xvfb) idle plus one xdg-dbus-proxy per sandbox (Flatpak's rules),
#    each with a connected client.
#
# Env: REPS (5), N (2000 latency calls), WARMUP (200), CONC (8), DUR (2s),
#      PIN=1 (run everything on CPU 0), AIRLOCK_USER,
#      PERF=1 (profile the broker with perf during the first airlock run and
#      print where its CPU time goes).
# Everything started here is ended by PID on exit; nothing is killed by name.
set -euo pipefail
if [ -n "${PIN:-}" ] && [ -z "${_DBUSBENCH_PINNED:-}" ]; then
	_DBUSBENCH_PINNED=1 exec taskset -c 0 "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"

REPS=${REPS:-5}
N=${N:-2000}
WARMUP=${WARMUP:-200}
CONC=${CONC:-8}
DUR=${DUR:-2s}
SANDBOX_COUNTS="1 5 10"
PORTAL=org.freedesktop.portal.Desktop

[ "$(id -u)" -eq 0 ] || { echo "dbus.sh: run as root (it starts the sandboxes as \$AIRLOCK_USER)" >&2; exit 2; }

BENCH_NAME=dbus.sh
. "$(dirname "$0")/benchlib.sh"
ensure_packages xdg-desktop-portal xdg-desktop-portal-gtk
ensure_go
build_airlock || fail "cannot build airlock"
ensure_user
mk_work dbusbench

wait_line() { # wait_line FILE LINE [TIMEOUT_S]
	local i
	for i in $(seq $((${3:-10} * 20))); do grep -qx "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	fail "timeout waiting for '$2' in $1: $(tail -5 "$1" 2>/dev/null)"
}

# cpu_ticks PID...: utime+stime of the PIDs, in clock ticks.
cpu_ticks() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo $t
}
TCK=$(getconf CLK_TCK)

# --- set-up -----------------------------------------------------------------
BIN=$WORK/bin/dbusbench
(cd "$AIRLOCK_ROOT" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN" ./tests/bench/dbusbench) || fail "go build of dbusbench failed"
# Private copies of the binaries: a rebuild of $AIRLOCK_BUILD by someone else
# during the run then changes nothing here (and perf can still read symbols).
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$WORK/bin/"
AIRLOCK_BIN=$WORK/bin/airlock
PORTAL_BIN=$WORK/bin/airlock-portal
chmod 755 "$WORK/bin" "$WORK/bin"/*
# One profile for every sandbox of this run: the strict default, plus the
# benchmark binary (read-only) and the folder of the anchor's sockets
# (read-write, so that the client can connect), both at their host paths.
# Profile exposures are bind mounts; `airlock run --ro/--rw` would hand them
# through the broker's document store instead, which serves regular files
# only and would add FUSE to the Airlock side alone.
PROFILE=$WORK/dbusbench.toml
cat >"$PROFILE" <<EOF
display_name = "dbusbench"
net = "none"
sound = "none"
display = "none"
expose_ro = ["$WORK/bin"]
expose_rw = ["$RUN/sock"]
EOF
chmod 644 "$PROFILE"

# Bus A: the "host session bus" of the Airlock side and of the latency
# anchor. No service directories: nothing is D-Bus-activated behind our back
# (the broker probes the host's org.freedesktop.portal.Desktop at start-up).
start_bus_a

# The broker, started by us (not by the first `airlock run`) so that we know its PID.
bg_user "$WORK/log/portal.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$PORTAL_BIN"
PORTAL_PID=$BG_PID
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$WORK/log/portal.log")"
sleep 0.5
kill -0 "$PORTAL_PID" 2>/dev/null || fail "airlock-portal exited: $(tail -5 "$WORK/log/portal.log")"

# airlock_run ARGS...: `airlock run` as the user on bus A.
airlock_run() { fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$AIRLOCK_BIN" run --profile "$PROFILE" "$@"; }

# --- 2. memory (first, so that "idle" is a broker that has served nothing) ---
log "memory: airlock-portal idle and with $SANDBOX_COUNTS sandboxes"
sleep 1
read -r P_RSS0 P_PSS0 <<<"$(mem "$PORTAL_PID")"
declare -A P_RSS P_PSS L_PSS
HOLDERS=()
started=0
for n in $SANDBOX_COUNTS; do
	while [ $started -lt "$n" ]; do
		started=$((started + 1))
		bg_user "$WORK/log/hold-$started.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- \
			"$AIRLOCK_BIN" run --profile "$PROFILE" --name "hold$started" -- "$BIN" hold -max 3m
		HOLDERS+=("$BG_PID")
	done
	for i in $(seq "$n"); do wait_line "$WORK/log/hold-$i.log" ready 20; done
	sleep 1
	read -r P_RSS[$n] P_PSS[$n] <<<"$(mem "$PORTAL_PID")"
	# the launchers stay on the host beside their sandboxes: reported, not compared
	read -r _ L_PSS[$n] <<<"$(mem "${HOLDERS[@]}")"
done
for p in "${HOLDERS[@]}"; do kill_tree "$p"; done

# The anchor: the Flatpak portal stack on bus B (Debian's session.conf, so
# that what xdg-desktop-portal activates is ours too), headless under Xvfb,
# with a private XDG_RUNTIME_DIR and HOME.
ANCHOR_ENV=(XDG_RUNTIME_DIR="$RUN/xdg" HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share")
mkfifo "$WORK/displayfd"
chmod 666 "$WORK/displayfd"
bg_user "$WORK/log/xvfb.log" -- sh -c 'exec Xvfb -displayfd 9 -screen 0 1280x800x24 -nolisten tcp 9>"$1"' sh "$WORK/displayfd"
read -r -t 20 DNUM <"$WORK/displayfd" || fail "Xvfb did not start: $(cat "$WORK/log/xvfb.log")"
BUS_B="unix:path=$RUN/bus-b"
bg_user "$WORK/log/bus-b.log" "${ANCHOR_ENV[@]}" DISPLAY=":$DNUM" -- \
	dbus-daemon --config-file=/usr/share/dbus-1/session.conf --nofork --nopidfile --address="$BUS_B"
wait_socket "$RUN/bus-b" "$WORK/log/bus-b.log"
B_ENV=("${ANCHOR_ENV[@]}" DISPLAY=":$DNUM" DBUS_SESSION_BUS_ADDRESS="$BUS_B")
start_svc() { # start_svc VAR BUSNAME CMD...
	local var=$1 name=$2
	shift 2
	bg_user "$WORK/log/$var.log" "${B_ENV[@]}" -- "$@"
	printf -v "$var" %s "$BG_PID"
	wait_name "$BUS_B" "$name" || fail "$1 did not take $name: $(tail -5 "$WORK/log/$var.log")"
}
start_svc PERM_PID org.freedesktop.impl.portal.PermissionStore /usr/libexec/xdg-permission-store --replace
# xdg-document-portal is not started here (xdg-desktop-portal may activate
# it): the Settings calls measured here do not use it, and it is not counted.
start_svc GTK_PID org.freedesktop.impl.portal.desktop.gtk /usr/libexec/xdg-desktop-portal-gtk -r
start_svc XDP_PID "$PORTAL" /usr/libexec/xdg-desktop-portal -r
fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_B" -- "$BIN" probe -dest "$PORTAL" || fail "xdg-desktop-portal does not answer"
log "memory: xdg-desktop-portal + GTK backend idle and with $SANDBOX_COUNTS proxies"
sleep 1
read -r X_RSS0 X_PSS0 <<<"$(mem "$XDP_PID" "$GTK_PID")"
read -r XDP_RSS0 XDP_PSS0 <<<"$(mem "$XDP_PID")"
read -r GTK_RSS0 GTK_PSS0 <<<"$(mem "$GTK_PID")"
read -r PERM_RSS0 PERM_PSS0 <<<"$(mem "$PERM_PID")"
declare -A X_RSS X_PSS PX_RSS PX_PSS
PROXIES=()
started=0
for n in $SANDBOX_COUNTS; do
	while [ $started -lt "$n" ]; do
		started=$((started + 1))
		sock=$RUN/xdg/proxy-$started
		# Flatpak's session-bus rules for an app that only talks to the portals
		bg_user "$WORK/log/proxy-$started.log" "${B_ENV[@]}" -- xdg-dbus-proxy "$BUS_B" "$sock" --filter \
			--talk='org.freedesktop.portal.*' --call='org.freedesktop.portal.*=*' \
			--broadcast='org.freedesktop.portal.*=@/org/freedesktop/portal/*'
		PROXIES+=("$BG_PID")
		wait_socket "$sock" "$WORK/log/proxy-$started.log"
		bg_user "$WORK/log/phold-$started.log" -- "$BIN" hold -sock "$sock" -max 3m
	done
	for i in $(seq "$n"); do wait_line "$WORK/log/phold-$i.log" ready 20; done
	sleep 1
	read -r X_RSS[$n] X_PSS[$n] <<<"$(mem "$XDP_PID" "$GTK_PID")"
	read -r PX_RSS[$n] PX_PSS[$n] <<<"$(mem "${PROXIES[@]}")"
done

echo "resident memory, kB (VmRSS / PSS)"
printf '  %-46s %7s %7s\n' "" VmRSS PSS
printf '  %-46s %7d %7d\n' "airlock-portal idle" "$P_RSS0" "$P_PSS0"
for n in $SANDBOX_COUNTS; do
	printf '  %-46s %7d %7d\n' "airlock-portal, $n sandbox(es)" "${P_RSS[$n]}" "${P_PSS[$n]}"
done
printf '  %-46s %7d %7d\n' "xdg-desktop-portal idle" "$XDP_RSS0" "$XDP_PSS0"
printf '  %-46s %7d %7d\n' "xdg-desktop-portal-gtk idle (Xvfb)" "$GTK_RSS0" "$GTK_PSS0"
for n in $SANDBOX_COUNTS; do
	printf '  %-46s %7d %7d\n' "both + $n xdg-dbus-proxy" "$((X_RSS[$n] + PX_RSS[$n]))" "$((X_PSS[$n] + PX_PSS[$n]))"
done
printf '  %-46s %7d %7d\n' "(not counted) xdg-permission-store" "$PERM_RSS0" "$PERM_PSS0"
last=${SANDBOX_COUNTS##* }
printf '  %-46s %7s %7d\n' "(not counted) $last airlock launchers on the host" "" "${L_PSS[$last]}"
inc() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (a - b) / n }'; }
A_INC_R=$(inc "${P_RSS[$last]}" "$P_RSS0" "$last")
A_INC_P=$(inc "${P_PSS[$last]}" "$P_PSS0" "$last")
X_INC_R=$(inc "$((X_RSS[$last] + PX_RSS[$last]))" "$X_RSS0" "$last")
X_INC_P=$(inc "$((X_PSS[$last] + PX_PSS[$last]))" "$X_PSS0" "$last")
for n in 0 $SANDBOX_COUNTS; do
	if [ "$n" = 0 ]; then
		ar=$P_RSS0 ap=$P_PSS0 xr=$X_RSS0 xp=$X_PSS0 what=idle
	else
		ar=${P_RSS[$n]} ap=${P_PSS[$n]} xr=$((X_RSS[$n] + PX_RSS[$n])) xp=$((X_PSS[$n] + PX_PSS[$n])) what="sandboxes=$n"
	fi
	echo "SUMMARY broker-rss $what airlock=${ar}kB/${ap}kB-pss anchor=${xr}kB/${xp}kB-pss ratio=$(ratio "$ar" "$xr")x/$(ratio "$ap" "$xp")x-pss"
done
echo "SUMMARY broker-rss per-sandbox airlock=${A_INC_R}kB/${A_INC_P}kB-pss anchor=${X_INC_R}kB/${X_INC_P}kB-pss ratio=$(ratio "$A_INC_R" "$X_INC_R")x/$(ratio "$A_INC_P" "$X_INC_P")x-pss (anchor: one xdg-dbus-proxy per sandbox)"

# The anchor stack is done: stop it before timing calls (it would only add noise).
for ((i = ${#TRACKED[@]} - 1; i >= 0; i--)); do
	case " $BUSA_PID $PORTAL_PID " in *" ${TRACKED[$i]} "*) continue ;; esac
	kill_tree "${TRACKED[$i]}"
done
TRACKED=("$BUSA_PID" "$PORTAL_PID")

# --- 1. latency and throughput -----------------------------------------------
# The anchor service answers the same call on the same name and path, on bus
# A (started after the broker, which probed that name at start-up).
bg_user "$WORK/log/svc.log" -- "$BIN" svc -addr "$BUS_A" -name "$PORTAL"
SVC_PID=$BG_PID
wait_line "$WORK/log/svc.log" ready
PROXY_SOCK=$RUN/sock/proxy-bus
bg_user "$WORK/log/proxy.log" -- xdg-dbus-proxy "$BUS_A" "$PROXY_SOCK" --filter --talk="$PORTAL"
PROXY_PID=$BG_PID
wait_socket "$PROXY_SOCK" "$WORK/log/proxy.log"
# sanity: the filter is on (the broker's control name is on bus A, not in --talk)
fg_user -- "$BIN" probe -sock "$PROXY_SOCK" -dest org.airlock.Portal 2>/dev/null &&
	fail "xdg-dbus-proxy let a call to a name outside --talk through: its filter is off"
fg_user -- "$BIN" probe -sock "$PROXY_SOCK" -dest "$PORTAL" || fail "no answer through xdg-dbus-proxy"

declare -A SERVERS=([airlock]="$PORTAL_PID" [proxy]="$PROXY_PID $BUSA_PID $SVC_PID" [direct]="$BUSA_PID $SVC_PID")
BENCH_ARGS=(bench -n "$N" -warmup "$WARMUP" -conc "$CONC" -dur "$DUR")
log "calls from inside a sandbox: $REPS x (airlock, proxy, direct), $N sequential calls + $CONC callers for $DUR each"
for r in $(seq "$REPS"); do
	for c in airlock proxy direct; do
		case $c in
		airlock) args=(-- "$BIN" "${BENCH_ARGS[@]}") ;;
		proxy) args=(-- "$BIN" "${BENCH_ARGS[@]}" -sock "$PROXY_SOCK") ;;
		direct) args=(-- "$BIN" "${BENCH_ARGS[@]}" -sock "$RUN/sock/bus-a") ;;
		esac
		# shellcheck disable=SC2086
		t0=$(cpu_ticks ${SERVERS[$c]})
		PERF_PID=""
		if [ -n "${PERF:-}" ] && [ "$c" = airlock ] && [ "$r" = 1 ]; then
			perf record -q -F 4999 -g -p "$PORTAL_PID" -o "$WORK/perf.data" >"$WORK/log/perf.log" 2>&1 &
			PERF_PID=$!
			track "$PERF_PID"
			sleep 0.5
		fi
		out=$(airlock_run "${args[@]}" 2>&1) ||
			fail "$c run $r failed: $out"
		# shellcheck disable=SC2086
		t1=$(cpu_ticks ${SERVERS[$c]})
		if [ -n "$PERF_PID" ]; then
			kill -INT "$PERF_PID"
			wait "$PERF_PID" || true
		fi
		calls=$(kv calls_made "$(grep '^total ' <<<"$out")")
		[ -n "$calls" ] || fail "$c run $r printed no figures: $out"
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$TCK" -v n="$calls" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
		echo "$c $(grep '^latency ' <<<"$out") $(grep '^throughput ' <<<"$out") server_cpu_us_per_call=$cpu" | tee -a "$WORK/runs"
	done
done

med() { # med CASE KEY
	grep "^$1 " "$WORK/runs" | while read -r line; do kv "$2" "$line"; done | median
}
echo "small call (Settings.ReadOne) from inside an Airlock sandbox, medians of $REPS runs"
printf '  %-34s %9s %9s %9s %12s %14s\n' "" "p10 us" "p50 us" "p90 us" "calls/s x$CONC" "server CPU us"
for c in airlock proxy direct; do
	case $c in
	airlock) what="airlock (broker's bus)" ;;
	proxy) what="xdg-dbus-proxy + dbus-daemon + svc" ;;
	direct) what="dbus-daemon + svc (reference)" ;;
	esac
	printf '  %-34s %9s %9s %9s %12s %14s\n' "$what" "$(med $c p10_us)" "$(med $c p50_us)" "$(med $c p90_us)" "$(med $c calls_per_s)" "$(med $c server_cpu_us_per_call)"
done
A_LAT=$(med airlock p50_us) P_LAT=$(med proxy p50_us) D_LAT=$(med direct p50_us)
A_TP=$(med airlock calls_per_s) P_TP=$(med proxy calls_per_s) D_TP=$(med direct calls_per_s)
echo "SUMMARY dbus-latency airlock=${A_LAT}us proxy=${P_LAT}us ratio=$(ratio "$A_LAT" "$P_LAT")x (direct=${D_LAT}us; p10..p90 airlock=$(med airlock p10_us)..$(med airlock p90_us) proxy=$(med proxy p10_us)..$(med proxy p90_us); target <= 1x)"
echo "SUMMARY dbus-throughput callers=$CONC airlock=${A_TP}calls/s proxy=${P_TP}calls/s ratio=$(ratio "$A_TP" "$P_TP")x (direct=${D_TP}calls/s; target >= 1x)"
echo "SUMMARY dbus-server-cpu airlock=$(med airlock server_cpu_us_per_call)us/call proxy=$(med proxy server_cpu_us_per_call)us/call ratio=$(ratio "$(med airlock server_cpu_us_per_call)" "$(med proxy server_cpu_us_per_call)")x (proxy: xdg-dbus-proxy + dbus-daemon + service)"
if [ -n "${PERF:-}" ]; then
	perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null |
		awk '/^ +[0-9.]+%/ { sub(/%/, "", $1); print $1, $2, $3 }' >"$WORK/perf.txt" || true
	echo "where airlock-portal's CPU time goes (perf, self time, first airlock run; top functions)"
	awk 'NR <= 20 { printf "  %6.2f%%  %s %s\n", $1, $2, $3 }' "$WORK/perf.txt"
	echo "by kind"
	awk '{
		k = "other"
		if ($2 == "[k]") k = "kernel (socket I/O, wake-ups, scheduling)"
		else if ($3 ~ /^runtime\.(mallocgc|gc|scan|greyobject|findObject|tryDefer|wbBuf|bulkBarrier|nextFree|memclr|heapBits|markBits|sweep|\(\*(mspan|mheap|mcache|gcWork|gcBits|spanSet|mcentral|sweepLocked)\))/) k = "Go allocation and GC"
		else if ($3 ~ /^(runtime\.(map|ifaceeq|efaceeq|strhash|memhash|nilinterhash|interhash)|aeshash|memeqbody|internal\/runtime\/maps)/) k = "Go maps (godbus header maps, name tables)"
		else if ($3 ~ /^(runtime\.|gogo|indexbyte)/) k = "Go runtime: scheduler, channels, locks, copies"
		else if ($3 ~ /^github\.com\/godbus/) k = "godbus: message decode/encode"
		else if ($3 ~ /^reflect\./) k = "reflect (used by godbus)"
		else if ($3 ~ /^airlock\//) k = "airlock: routing, handlers"
		else if ($3 ~ /^(syscall|internal\/poll|net\.|os\.|internal\/runtime\/syscall)/) k = "Go syscall/net wrappers"
		else if ($3 ~ /^(bytes|strings|encoding|sync|slices|maps|unicode|sort|strconv|fmt)/) k = "Go standard library"
		t[k] += $1
	} END { for (k in t) printf "  %6.2f%%  %s\n", t[k], k }' "$WORK/perf.txt" | sort -rn
fi
