# Shared bookkeeping for grants.sh and chooser.sh (sourced, after ../lib.sh):
# every process is started as $AIRLOCK_USER through bg_user/fg_user, carries
# BENCH_RUN=$WORK in its environment and is ended by PID in the EXIT trap.
# Nothing is killed by name. Adapted from ../../shared/anchors/lib.sh and
# dbus.sh (copied, not sourced: nothing here depends on them at run time).

WORK=""
TRACKED=()
BENCH_NAME=${BENCH_NAME:-bench}
track() { TRACKED+=("$1"); }

# descendants PID: every descendant of PID, deepest first.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}

# kill_tree PID: TERM PID's descendants and PID (by PID), then KILL leftovers.
kill_tree() {
	local p=$1 all i
	kill -0 "$p" 2>/dev/null || return 0
	all=$(descendants "$p")
	for i in $all $p; do kill -TERM "$i" 2>/dev/null || true; done
	for i in $(seq 30); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	for i in $all $p; do kill -KILL "$i" 2>/dev/null || true; done
	wait "$p" 2>/dev/null || true
	return 0
}

# sweep_marked: leftovers of this run (D-Bus-activated services, processes
# re-parented to PID 1) found by the BENCH_RUN=$WORK marker, ended by PID.
sweep_marked() {
	local p left=""
	for p in $(ps -eo pid=); do
		[ "$p" = "$$" ] && continue
		if { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qxF "BENCH_RUN=$WORK"; then
			left+=" $p"
		fi
	done
	[ -z "$left" ] && return 0
	echo "$BENCH_NAME: ending leftover processes of this run:$left" >&2
	for p in $left; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
}

fail() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

cleanup() {
	local i rc=$?
	set +e
	[ $rc -ne 0 ] && echo "$BENCH_NAME: FAILED (exit $rc); cleaning up" >&2
	for ((i = ${#TRACKED[@]} - 1; i >= 0; i--)); do kill_tree "${TRACKED[$i]}"; done
	[ -n "$WORK" ] || return $rc
	sweep_marked
	# FUSE mounts (document portal, document store) that outlived their process
	grep -F " $WORK/" /proc/self/mounts | awk '{print $2}' | while read -r m; do
		fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$WORK"
	return $rc
}

# mk_work NAME: private scratch folder, removed on exit; installs the trap.
mk_work() {
	WORK=$(mktemp -d "/tmp/airlock-$1.XXXXXX")
	chmod 755 "$WORK"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$WORK/bin" "$WORK/log"
	RUN=$WORK/run
	USER_HOME=$(getent passwd "$AIRLOCK_USER" | cut -d: -f6)
	install -d -m 0700 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" "$RUN" "$RUN/sock" "$RUN/rt" "$RUN/xdg" \
		"$RUN/home" "$RUN/home/.config" "$RUN/home/.local" "$RUN/home/.local/share" "$RUN/home/.cache"
}

# user_env: the environment of every process started as the user. The
# user's XDG_RUNTIME_DIR is private to this run ($RUN/rt): the broker's
# document store and the sandbox records do not meet other runs'.
user_env() {
	echo HOME="$USER_HOME" USER="$AIRLOCK_USER" XDG_RUNTIME_DIR="$RUN/rt" \
		PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 AIRLOCK_DATADIR="$AIRLOCK_ROOT/data" \
		NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory BENCH_RUN="$WORK"
}
# bg_user LOG VAR=VALUE... -- CMD...: CMD as the user in the background;
# BG_PID is CMD's own PID (setpriv and env exec).
bg_user() {
	local logf=$1
	shift
	local extra=()
	while [ "$1" != "--" ]; do extra+=("$1"); shift; done
	shift
	# shellcheck disable=SC2046
	(exec setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups --reset-env \
		env $(user_env) "${extra[@]}" "$@" >"$logf" 2>&1 </dev/null) &
	BG_PID=$!
	track "$BG_PID"
}
# fg_user VAR=VALUE... -- CMD...: CMD as the user in the foreground (at most
# 300 s: a hung step fails the run instead of stalling it).
fg_user() {
	local extra=()
	while [ "$1" != "--" ]; do extra+=("$1"); shift; done
	shift
	# shellcheck disable=SC2046
	timeout 300 setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups --reset-env \
		env $(user_env) "${extra[@]}" "$@" </dev/null
}

wait_socket() { # wait_socket PATH LOG
	local i
	for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	fail "socket $1 did not appear: $(tail -5 "$2" 2>/dev/null)"
}
wait_name() { # wait_name BUS NAME
	local i
	for i in $(seq 200); do
		if fg_user -- dbus-send --bus="$1" --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner "string:$2" 2>/dev/null | grep -q 'boolean true'; then
			return 0
		fi
		sleep 0.05
	done
	echo "$BENCH_NAME: timeout waiting for $2 on $1" >&2
	return 1
}

# start_bus_a: a session dbus-daemon of the user with no service folders
# (nothing is activated behind our back); sets BUS_A.
start_bus_a() {
	cat >"$WORK/bus-a.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$RUN/sock/bus-a</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
	chmod 644 "$WORK/bus-a.conf"
	BUS_A="unix:path=$RUN/sock/bus-a"
	bg_user "$WORK/log/bus-a.log" -- dbus-daemon --config-file="$WORK/bus-a.conf" --nofork --nopidfile
	BUSA_PID=$BG_PID
	wait_socket "$RUN/sock/bus-a" "$WORK/log/bus-a.log"
}

# start_bus_b VAR=VALUE...: a dbus-daemon with Debian's session.conf (the
# anchor's portals activate what they need, as children of this daemon);
# sets BUS_B. The anchor gets its own XDG_RUNTIME_DIR and HOME.
ANCHOR_ENV=()
start_bus_b() {
	ANCHOR_ENV=(XDG_RUNTIME_DIR="$RUN/xdg" HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config"
		XDG_DATA_HOME="$RUN/home/.local/share" XDG_CACHE_HOME="$RUN/home/.cache" "$@")
	BUS_B="unix:path=$RUN/bus-b"
	bg_user "$WORK/log/bus-b.log" "${ANCHOR_ENV[@]}" -- \
		dbus-daemon --config-file=/usr/share/dbus-1/session.conf --nofork --nopidfile --address="$BUS_B"
	BUSB_PID=$BG_PID
	wait_socket "$RUN/bus-b" "$WORK/log/bus-b.log"
	ANCHOR_ENV+=(DBUS_SESSION_BUS_ADDRESS="$BUS_B")
}
# start_anchor_svc VAR BUSNAME CMD...: an anchor service on bus B, PID in VAR.
start_anchor_svc() {
	local var=$1 name=$2
	shift 2
	bg_user "$WORK/log/$var.log" "${ANCHOR_ENV[@]}" -- "$@"
	printf -v "$var" %s "$BG_PID"
	wait_name "$BUS_B" "$name" || fail "$1 did not take $name: $(tail -5 "$WORK/log/$var.log")"
}

# start_xvfb_user: Xvfb as the user on a free display; sets DNUM and XVFB_PID.
# -noreset, as a desktop session's X server: without it Xvfb resets whenever
# its last client leaves, and root-window properties go with it (GTK 3 caches
# its GL visual choice there, GDK_VISUALS: without it every GTK process
# initialises Mesa/llvmpipe again, ~35 ms and ~56 MB here).
start_xvfb_user() {
	local fifo
	fifo=$(mktemp -u "$WORK/displayfd.XXXX")
	mkfifo "$fifo"
	chmod 666 "$fifo"
	bg_user "$WORK/log/xvfb-${fifo##*.}.log" -- sh -c 'exec Xvfb -displayfd 9 -noreset -screen 0 1280x800x24 -nolisten tcp 9>"$1"' sh "$fifo"
	XVFB_PID=$BG_PID
	read -r -t 20 DNUM <"$fifo" || fail "Xvfb did not start: $(cat "$WORK/log/xvfb-${fifo##*.}.log")"
}

# mem PID...: "rss_kB pss_kB", summed.
mem() {
	local p r=0 s=0 a b
	for p in "$@"; do
		a=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status") || fail "process $p is gone"
		b=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup") || fail "process $p is gone"
		r=$((r + a)) s=$((s + b))
	done
	echo "$r $s"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f", a / b }'; }
