#!/usr/bin/env bash
# The main job: build Airlock, then run a real GTK application in a sandbox
# with its own nested display and one file handed in read-only. On a machine
# without a display it starts Xvfb, drives a short scripted demo and saves a
# screenshot; with $DISPLAY set it opens the window there and waits.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_packages
ensure_go
ensure_fuse
log "building into $AIRLOCK_BUILD"
build_airlock
ensure_user

started=()
cleanup() { for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

headless=0
if [ -z "${DISPLAY:-}" ]; then
	headless=1
	n=$(free_display 90)
	Xvfb ":$n" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
	started+=($!)
	export DISPLAY=":$n"
	for _ in $(seq 50); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
	log "no display: started Xvfb on $DISPLAY (pid ${started[0]})"
fi

doc=$(mktemp -d /tmp/airlock-demo-XXXXXX)
chmod 755 "$doc"
cat >"$doc/letter.txt" <<TXT
Hello from the host.

This file was handed to the sandbox read-only. The application sees it at
/run/user/UID/doc/<random id>/letter.txt and nothing else of your files.
Its network is loopback only, its host name is neutral, its machine-id is
fresh, and its window lives in a nested X server of its own.
TXT
chmod 644 "$doc/letter.txt"

log "running zenity (GTK3) in a sandbox: airlock run --display xephyr --ro $doc/letter.txt -- zenity --text-info ..."
as_user "$AIRLOCK_BUILD/airlock" run --verbose --display xephyr --name "Airlock demo" \
	--ro "$doc/letter.txt" -- zenity --text-info --width 640 --height 420 \
	--title "Sandboxed zenity" --filename="$doc/letter.txt" &
app=$!
started+=($app)

if [ $headless -eq 1 ]; then
	# Wait for the application's window inside the nested display, then
	# photograph the host screen.
	for _ in $(seq 100); do
		xdotool search --name "Airlock demo" >/dev/null 2>&1 && break
		sleep 0.1
	done
	sleep 2
	shot=$AIRLOCK_BUILD/demo-screenshot.png
	import -window root "$shot"
	as_user "$AIRLOCK_BUILD/airlock" ps
	kill -TERM "$app" 2>/dev/null || true
	wait "$app" || true
	rm -rf "$doc"
	log "screenshot of the sandboxed application: $shot"
else
	wait "$app" || true
	rm -rf "$doc"
fi
