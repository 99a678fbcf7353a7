#!/usr/bin/env bash
# The nested display's window manager (launcher/nestedwm): what it costs a
# launch, and its memory. Launches of `airlock run -- /bin/true` with a
# nested display, with the window manager and without (window_manager =
# "none"), alternated, in one run; then, in a sandbox that waits, how long
# the window manager takes to manage the display (the launcher's "window
# manager ready") and its RSS beside Xephyr's. Prints the figures side by
# side; asserts nothing. RUNS=10 by default.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_go
build_airlock
ensure_user
RUNS=${RUNS:-10}
WORK=$(mktemp -d /tmp/airlock-wmbench-XXXXXX)
chmod 755 "$WORK"
XPID=""
trap '[ -n "$XPID" ] && kill "$XPID" 2>/dev/null; rm -rf "$WORK"' EXIT
n=$(free_display 90)
Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
for i in $(seq 100); do [ -e /tmp/.X11-unix/X$n ] && break; sleep 0.05; done
export DISPLAY=:$n
printf 'display = "xephyr"\nwindow_manager = "airlock"\n' >"$WORK/with.toml"
printf 'display = "xephyr"\nwindow_manager = "none"\n' >"$WORK/without.toml"
chmod 644 "$WORK"/*.toml
ms() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
: >"$WORK/with" ; : >"$WORK/without"
for i in $(seq "$RUNS"); do
	for v in with without; do
		t0=$(ms)
		as_user "$AIRLOCK_BUILD/airlock" run --profile "$WORK/$v.toml" -- /bin/true
		echo $(($(ms) - t0)) >>"$WORK/$v"
	done
done
echo "launch (airlock run -- /bin/true, nested display), median of $RUNS, ms: with window manager $(median <"$WORK/with"), without $(median <"$WORK/without")"
: >"$WORK/ready"; : >"$WORK/rss"
for i in $(seq 5); do
	AS_USER_EXEC=1 as_user env AIRLOCK_LOG=info "$AIRLOCK_BUILD/airlock" run --profile "$WORK/with.toml" -- /bin/sh -c \
		'until xprop -root _NET_SUPPORTING_WM_CHECK | grep -q "# 0x"; do sleep 0.01; done; sleep 1' 2>"$WORK/log" &
	run=$!
	sleep 0.8
	wm=$(pgrep -u "$AIRLOCK_USER" -f '^airlock-wm ' | head -1 || true)
	xe=$(pgrep -u "$AIRLOCK_USER" -f '^/usr/bin/Xephyr ' | head -1 || true)
	[ -n "$wm" ] && [ -n "$xe" ] && echo "$(awk '/VmRSS/{print $2}' /proc/$wm/status) $(awk '/VmRSS/{print $2}' /proc/$xe/status)" >>"$WORK/rss"
	wait "$run" || true
	sed -n 's/.*window manager ready.*start_ms=\([0-9.]*\).*/\1/p' "$WORK/log" >>"$WORK/ready"
done
echo "window manager ready after (from its start by the launcher), ms: $(tr '\n' ' ' <"$WORK/ready")"
echo "RSS, KiB (window manager, Xephyr): $(tr '\n' ';' <"$WORK/rss")"
