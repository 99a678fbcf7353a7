#!/usr/bin/env bash
# File chooser latency against its anchor, in one run, as an ordinary user
# (run this script as root; it drops to $AIRLOCK_USER for everything but
# set-up). Prints our figures, the anchor's and the ratios; asserts nothing.
#
# Figure: from the application's FileChooser.OpenFile call until the dialog is
# mapped on the screen (each side on a fresh Xvfb -noreset of its own), found by polling `xdotool search --onlyvisible`
# every ~2 ms (not --sync, which polls every 0.5 s). Each dialog is then
# focused and closed with Escape; the Response must come (Airlock answers 1,
# cancelled; xdg-desktop-portal-gtk answers 2: Escape makes GtkDialog respond
# GTK_RESPONSE_DELETE_EVENT, which the backend maps to 2), and the Escape ->
# Response time is printed too. One first run, then RUNS warm
# runs (median, p10..p90). The same driver and client (tests/bench/chooserbench)
# serve both sides:
#   airlock: the client runs inside an Airlock sandbox (`airlock run --ro
#            chooserbench -- chooserbench client`) and calls OpenFile on the
#            sandbox's bus; airlock-portal spawns airlock-chooser (GTK 3) on
#            the Xvfb display for each dialog.
#   anchor:  xdg-desktop-portal-gtk -r, then xdg-desktop-portal -r (and the
#            permission store and document portal) on a private session bus
#            with a private XDG_RUNTIME_DIR and HOME, as
#            ../../shared/anchors/filechooser.sh does; the client runs on the host.
# Reference: airlock-chooser spawned by the driver itself with the request the
# broker would send (no broker, no sandbox, no D-Bus): the chooser's own share.
# Memory (VmRSS / PSS, kB), idle before the first dialog and after the runs:
# airlock-portal against xdg-desktop-portal + xdg-desktop-portal-gtk +
# xdg-document-portal; also the RSS of the process that shows the dialog
# while it is open (airlock-chooser; xdg-desktop-portal-gtk).
#
# Both sides are paced alike: one OpenFile every EVERY (3.2 s), since the
# broker answers 2 to more than 4 dialogs in a burst and then to more than
# one per 3 s (portal/filechooser/limit.go); nobody opens dialogs faster.
#
# Env: RUNS (10), EVERY (3.2s), AIRLOCK_USER. Everything started here is ended by PID on exit.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BENCH_NAME=chooser.sh
. "$(dirname "$0")/benchlib.sh"

RUNS=${RUNS:-10}
EVERY=${EVERY:-3.2s}

[ "$(id -u)" -eq 0 ] || { echo "chooser.sh: run as root (it runs everything as \$AIRLOCK_USER)" >&2; exit 2; }

ensure_packages xdg-desktop-portal xdg-desktop-portal-gtk
ensure_go
ensure_fuse
build_airlock || fail "cannot build airlock"
ensure_user
mk_work chooser

BIN=$WORK/bin/chooserbench
(cd "$AIRLOCK_ROOT" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN" ./tests/bench/chooserbench) || fail "go build of chooserbench failed"
# private copies (airlock-portal finds airlock-chooser beside itself)
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$AIRLOCK_BUILD/airlock-chooser" "$WORK/bin/"
chmod 755 "$WORK/bin" "$WORK/bin"/*
# Both sides get an empty HOME of their own (the dialogs list its folder or
# the recent files: nothing in either).
install -d -m 0700 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" "$RUN/home-airlock"

start_xvfb_user
export DISPLAY=":$DNUM"
log "Xvfb on $DISPLAY"
X_ENV=(DISPLAY=":$DNUM")

# --- airlock -----------------------------------------------------------------
start_bus_a
bg_user "$WORK/log/portal.log" "${X_ENV[@]}" HOME="$RUN/home-airlock" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock-portal"
PORTAL_PID=$BG_PID
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$WORK/log/portal.log")"
sleep 2
# The broker and the chooser it keeps started ahead of need (its child).
A_IDLE=$(mem "$PORTAL_PID" $(ps -o pid= --ppid "$PORTAL_PID"))
log "airlock: OpenFile from inside a sandbox, $RUNS+1 dialogs"
# The chooser's window title is the trusted line "<sandbox> wants to open a
# file", not the application's title.
A_OUT=$(fg_user "${X_ENV[@]}" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$BIN" drive -runs "$RUNS" -every "$EVERY" -want 1 \
	-window '^chooserbench wants to open a file$' -- \
	"$WORK/bin/airlock" run --name chooserbench --net none --sound none --display none \
	--ro "$BIN" -- "$BIN" client 2>"$WORK/log/airlock-drive.log") ||
	fail "airlock runs failed: $(tail -5 "$WORK/log/airlock-drive.log"; tail -5 "$WORK/log/portal.log")"
echo "$A_OUT" | sed 's/^/  airlock /'
sleep 2
A_AFTER=$(mem "$PORTAL_PID" $(ps -o pid= --ppid "$PORTAL_PID"))
log "reference: airlock-chooser spawned directly (no broker, no sandbox), $RUNS+1 dialogs"
C_OUT=$(fg_user "${X_ENV[@]}" HOME="$RUN/home-airlock" -- "$BIN" drive -runs "$RUNS" -want 1 \
	-window '^chooserbench wants to open a file$' -chooser "$WORK/bin/airlock-chooser" 2>"$WORK/log/chooser-drive.log") ||
	fail "airlock-chooser runs failed: $(tail -5 "$WORK/log/chooser-drive.log")"
echo "$C_OUT" | sed 's/^/  chooser /'

# --- anchor ------------------------------------------------------------------
# A fresh X server of its own (-noreset, as Airlock's): GTK's cached GL
# visuals (GDK_VISUALS on the root window) left by airlock-chooser must not
# spare xdg-desktop-portal-gtk its own GL set-up.
kill_tree "$XVFB_PID"
start_xvfb_user
export DISPLAY=":$DNUM"
log "anchor on a fresh Xvfb on $DISPLAY"
X_ENV=(DISPLAY=":$DNUM")
start_bus_b "${X_ENV[@]}"
start_anchor_svc PERM_PID org.freedesktop.impl.portal.PermissionStore /usr/libexec/xdg-permission-store --replace
start_anchor_svc DOC_PID org.freedesktop.portal.Documents /usr/libexec/xdg-document-portal
# GTK_USE_PORTAL must not reach the backend: it must not use portals itself
start_anchor_svc GTK_PID org.freedesktop.impl.portal.desktop.gtk /usr/libexec/xdg-desktop-portal-gtk -r
start_anchor_svc XDP_PID org.freedesktop.portal.Desktop /usr/libexec/xdg-desktop-portal -r
sleep 1
X_IDLE=$(mem "$XDP_PID" "$GTK_PID" "$DOC_PID")
X_IDLE_PARTS="xdg-desktop-portal $(mem "$XDP_PID"), -gtk $(mem "$GTK_PID"), xdg-document-portal $(mem "$DOC_PID")"
log "anchor: OpenFile on xdg-desktop-portal, $RUNS+1 dialogs"
X_OUT=$(fg_user "${ANCHOR_ENV[@]}" -- "$BIN" drive -runs "$RUNS" -every "$EVERY" -window '^%s$' -want 2 -- "$BIN" client \
	2>"$WORK/log/anchor-drive.log") ||
	fail "anchor runs failed: $(tail -5 "$WORK/log/anchor-drive.log"; tail -5 "$WORK/log/GTK_PID.log")"
echo "$X_OUT" | sed 's/^/  anchor  /'
sleep 1
X_AFTER=$(mem "$XDP_PID" "$GTK_PID" "$DOC_PID")

# --- report ------------------------------------------------------------------
get() { kv "$3" "$(grep "^$2 " <<<"$1")"; }
drss() { grep '^run ' <<<"$1" | grep -v ' first ' | while read -r l; do kv dialog_rss_kB "$l"; done | median; }
AW=$(get "$A_OUT" warm map_ms) XW=$(get "$X_OUT" warm map_ms)
AF=$(get "$A_OUT" first map_ms) XF=$(get "$X_OUT" first map_ms)
AE=$(get "$A_OUT" warm escape_to_response_ms) XE=$(get "$X_OUT" warm escape_to_response_ms)
echo
echo "file chooser: OpenFile -> dialog mapped on Xvfb, RUNS=$RUNS, $(nproc) CPUs"
printf '%-40s %16s %16s %8s\n' "" airlock anchor ratio
printf '%-40s %13s ms %13s ms %7sx\n' "warm, median" "$AW" "$XW" "$(ratio "$AW" "$XW")"
printf '%-40s %16s %16s\n' "warm, p10..p90 (ms)" "$(get "$A_OUT" warm map_p10_ms)..$(get "$A_OUT" warm map_p90_ms)" "$(get "$X_OUT" warm map_p10_ms)..$(get "$X_OUT" warm map_p90_ms)"
printf '%-40s %13s ms %13s ms %7sx\n' "first dialog" "$AF" "$XF" "$(ratio "$AF" "$XF")"
CW=$(get "$C_OUT" warm map_ms) CF=$(get "$C_OUT" first map_ms)
printf '%-40s %13s ms %16s\n' "  of which airlock-chooser alone, warm" "$CW" ""
printf '%-40s %13s ms %16s\n' "  of which airlock-chooser alone, first" "$CF" ""
printf '%-40s %13s ms %13s ms %7sx\n' "OpenFile reply (request handle), warm" "$(get "$A_OUT" warm call_ms)" "$(get "$X_OUT" warm call_ms)" "$(ratio "$(get "$A_OUT" warm call_ms)" "$(get "$X_OUT" warm call_ms)")"
printf '%-40s %13s ms %13s ms %7sx\n' "Escape -> Response, warm" "$AE" "$XE" "$(ratio "$AE" "$XE")"
printf '%-40s %13s kB %13s kB\n' "RSS of the dialog's process, open" "$(drss "$A_OUT")" "$(drss "$X_OUT")"
echo "memory, kB (VmRSS PSS): airlock-portal + the chooser started ahead, idle $A_IDLE, after the runs $A_AFTER"
echo "                        anchor (xdg-desktop-portal + -gtk + xdg-document-portal) idle $X_IDLE, after the runs $X_AFTER"
echo "                        anchor idle by process: $X_IDLE_PARTS"
echo
echo "SUMMARY chooser-map-warm airlock=${AW}ms anchor=${XW}ms ratio=$(ratio "$AW" "$XW")x (median of $RUNS; anchor: xdg-desktop-portal-gtk)"
echo "SUMMARY chooser-alone-map-warm airlock-chooser=${CW}ms first=${CF}ms (reference: spawned directly, no broker, no sandbox)"
echo "SUMMARY chooser-map-first airlock=${AF}ms anchor=${XF}ms ratio=$(ratio "$AF" "$XF")x"
echo "SUMMARY chooser-escape-response airlock=${AE}ms anchor=${XE}ms ratio=$(ratio "$AE" "$XE")x"
read -r ar ap <<<"$A_IDLE"
read -r xr xp <<<"$X_IDLE"
echo "SUMMARY chooser-idle-memory airlock=${ar}kB/${ap}kB-pss anchor=${xr}kB/${xp}kB-pss ratio=$(ratio "$ar" "$xr")x/$(ratio "$ap" "$xp")x-pss (anchor: xdg-desktop-portal + xdg-desktop-portal-gtk + xdg-document-portal)"
