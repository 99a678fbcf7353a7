#!/usr/bin/env bash
# Clipboard crossing latency against its anchor, in one run, as an ordinary
# user (run this script as root; it drops to $AIRLOCK_USER for everything but
# set-up). Prints our figures, the anchor's and the ratios; asserts nothing.
#
# Figure: from the copy key press until the text is read in the destination,
# for 1 KiB and 1 MiB of text, RUNS times each (median, p10..p90).
#   airlock: two sandboxes A and B with display = "xephyr" on one host Xvfb,
#            xclip inside each. A's CLIPBOARD holds the text (xclip -i in A);
#            then: Ctrl+Shift+C over A's window (xdotool), wait until
#            `airlock clipboard show` reports the copy, Ctrl+Shift+V over B's
#            window, wait until the broker offers it (show says empty), and
#            `xclip -o` inside B reads it all (checked by its byte count).
#   anchor:  two plain Xvfb servers X1 and X2: `xclip -o -d X1 | xclip -i -d
#            X2`, then `xclip -o -d X2` reads it all: what a user script moving
#            a clipboard between two X servers does, without typing, checking,
#            re-encoding or policy.
# The airlock figure includes two xdotool runs, the polls of `airlock
# clipboard show` (a process each) and the command pipe into B; the anchor's
# includes three xclip processes.
#
# Env: RUNS (10), AIRLOCK_USER. Everything started here is ended by PID on exit.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BENCH_NAME=clipboard.sh
. "$(dirname "$0")/benchlib.sh"

RUNS=${RUNS:-10}

[ "$(id -u)" -eq 0 ] || { echo "clipboard.sh: run as root (it runs everything as \$AIRLOCK_USER)" >&2; exit 2; }

ensure_packages xclip xdotool xvfb xserver-xephyr
ensure_go
ensure_fuse
build_airlock || fail "cannot build airlock"
ensure_user
mk_work clipboard
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$AIRLOCK_BUILD/airlock-chooser" "$WORK/bin/"
chmod 755 "$WORK/bin" "$WORK/bin"/*

# run_user VAR=VALUE... -- CMD...: CMD as the user, keeping stdin and
# stdout (fg_user reads /dev/null and stops after 300 s).
run_user() {
	local extra=()
	while [ "$1" != "--" ]; do extra+=("$1"); shift; done
	shift
	# shellcheck disable=SC2046
	setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups --reset-env \
		env $(user_env) "${extra[@]}" "$@"
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
pct() { sort -g | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.5); if (i<1) i=1; if (i>NR) i=NR; print a[i]}'; }

# Inside each sandbox: numbered commands on stdin, "N answer" on stdout.
IN_SCRIPT='
while IFS=" " read -r seq cmd arg; do
  case $cmd in
  set) head -c "$arg" /dev/zero | tr "\0" x | xclip -selection clipboard -i >/dev/null 2>&1
       until timeout 5 xclip -selection clipboard -t TARGETS -o >/dev/null 2>&1; do sleep 0.01; done
       echo "$seq ok";;
  count) echo "$seq $(timeout 30 xclip -selection clipboard -t UTF8_STRING -o 2>/dev/null | wc -c)";;
  esac
done'

# --- airlock -----------------------------------------------------------------
start_xvfb_user
X_ENV=(DISPLAY=":$DNUM")
start_bus_a
log "airlock: host display :$DNUM, broker on a private bus"
AENV=("${X_ENV[@]}" HOME="$RUN/home" DBUS_SESSION_BUS_ADDRESS="$BUS_A")

coproc SBA { run_user "${AENV[@]}" -- "$WORK/bin/airlock" run --name bencha --display xephyr -- /bin/sh -c "$IN_SCRIPT" 2>"$WORK/log/sandbox-a.log"; }
SBA_PID_=$SBA_PID
track "$SBA_PID_"
exec {A_IN}>&"${SBA[1]}" {A_OUT}<&"${SBA[0]}"
coproc SBB { run_user "${AENV[@]}" -- "$WORK/bin/airlock" run --name benchb --display xephyr -- /bin/sh -c "$IN_SCRIPT" 2>"$WORK/log/sandbox-b.log"; }
SBB_PID_=$SBB_PID
track "$SBB_PID_"
exec {B_IN}>&"${SBB[1]}" {B_OUT}<&"${SBB[0]}"

SEQ=0
ask() { # ask IN OUT COMMAND: one command, its answer on stdout
	local in=$1 out=$2 line
	SEQ=$((SEQ + 1))
	echo "$SEQ $3" >&"$in"
	while read -r -t 120 line <&"$out"; do
		[ "${line%% *}" = "$SEQ" ] && { echo "${line#* }"; return 0; }
	done
	fail "no answer to $3: $(tail -5 "$WORK/log/sandbox-a.log" "$WORK/log/sandbox-b.log" "$RUN/rt/airlock/portal.log" 2>/dev/null)"
}
user() { fg_user "${AENV[@]}" -- "$@"; }
show() { user "$WORK/bin/airlock" clipboard show; }

ask "$A_IN" "$A_OUT" "count" >/dev/null
ask "$B_IN" "$B_OUT" "count" >/dev/null
WA=$(user xdotool search --name '^bencha \(Airlock sandbox\)$')
WB=$(user xdotool search --name '^benchb \(Airlock sandbox\)$')
[ -n "$WA" ] && [ -n "$WB" ] || fail "no Xephyr windows"

airlock_once() { # airlock_once BYTES: prints ms
	local n=$1 t0 got
	ask "$A_IN" "$A_OUT" "set $n" >/dev/null
	user xdotool windowfocus --sync "$WA"
	t0=$(ms)
	user xdotool key ctrl+shift+c
	until show | grep -q "^$n bytes of text"; do :; done
	user xdotool windowfocus --sync "$WB" key ctrl+shift+v
	until show | grep -q "empty"; do :; done
	got=$(ask "$B_IN" "$B_OUT" count)
	echo $(( $(ms) - t0 ))
	[ "$got" = "$n" ] || fail "B read $got bytes, want $n"
}

# --- anchor: two plain X servers ----------------------------------------------
start_xvfb_user
X1=$DNUM
start_xvfb_user
X2=$DNUM
anchor_once() {
	local n=$1 t0 got
	fg_user -- sh -c "head -c $n /dev/zero | tr '\\0' x | xclip -d :$X1 -selection clipboard -i >/dev/null 2>&1"
	until fg_user -- xclip -d ":$X1" -selection clipboard -t TARGETS -o >/dev/null 2>&1; do :; done
	t0=$(ms)
	fg_user -- sh -c "xclip -d :$X1 -selection clipboard -o | xclip -d :$X2 -selection clipboard -i >/dev/null 2>&1"
	got=$(fg_user -- xclip -d ":$X2" -selection clipboard -o | wc -c)
	echo $(( $(ms) - t0 ))
	[ "$got" = "$n" ] || fail "anchor read $got bytes, want $n"
}

declare -A MED
printf '%-34s %18s %18s %8s\n' "" "airlock ms" "anchor ms" "ratio"
for size in 1024 1048576; do
	: >"$WORK/a-$size" ; : >"$WORK/x-$size"
	for i in $(seq "$RUNS"); do
		airlock_once "$size" >>"$WORK/a-$size"
		anchor_once "$size" >>"$WORK/x-$size"
	done
	am=$(median <"$WORK/a-$size"); xm=$(median <"$WORK/x-$size")
	ar="$(pct 10 <"$WORK/a-$size")..$(pct 90 <"$WORK/a-$size")"
	xr="$(pct 10 <"$WORK/x-$size")..$(pct 90 <"$WORK/x-$size")"
	printf '%-34s %8s (%8s) %8s (%8s) %7sx\n' "copy key to text read, $size B" "$am" "$ar" "$xm" "$xr" "$(ratio "$am" "$xm")"
	MED[$size]="airlock=${am}ms anchor=${xm}ms ratio=$(ratio "$am" "$xm")x"
done
echo "SUMMARY clipboard-1KiB ${MED[1024]} (median of $RUNS; anchor: xclip -o | xclip -i between two Xvfb)"
echo "SUMMARY clipboard-1MiB ${MED[1048576]} (median of $RUNS; anchor: xclip -o | xclip -i between two Xvfb)"
echo "$SEQ" >/dev/null
exec {A_IN}>&- {B_IN}>&-
