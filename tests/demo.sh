#!/usr/bin/env bash
# The main job: build Airlock, start the broker, and run a real GTK
# application in a sandbox with its own nested display. The application opens
# a file through the FileChooser portal: Airlock's own chooser appears on the
# host display, the picked file is granted to that sandbox alone, and the
# application saves it back through the document store.
#
# Without a display, it starts Xvfb and a session bus, drives the chooser with
# xdotool like a person, checks the bytes on the host and saves screenshots.
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
	Xvfb ":$n" -screen 0 1440x900x24 -nolisten tcp -noreset >/dev/null 2>&1 &
	started+=($!)
	export DISPLAY=":$n"
	for _ in $(seq 50); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
	log "no display: started Xvfb on $DISPLAY (pid ${started[-1]})"
fi

home=$(getent passwd "$AIRLOCK_USER" | cut -d: -f6 || echo "$HOME")
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
	bus="${AIRLOCK_USER_RUNTIME:-${XDG_RUNTIME_DIR:-/tmp}}/demo-bus"
	# --fork --print-pid: the daemon's own PID, to stop it by PID (the
	# broker that airlock run starts on it exits with it).
	read -r buspid < <(as_user dbus-daemon --session --fork --nopidfile --print-pid=1 --address="unix:path=$bus")
	started+=("$buspid")
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$bus"
	for _ in $(seq 50); do [ -S "$bus" ] && break; sleep 0.1; done
	log "no session bus: started dbus-daemon (pid ${started[-1]}); airlock run starts airlock-portal on it"
fi

# The user's document, and the editor (handed in read-only like any file).
docs=$home/Documents
as_user mkdir -p "$docs"
letter=$docs/letter.txt
as_user sh -c "printf 'Dear reader,\n\nthis letter lives in %s on the host.\n' '$docs' > '$letter'"
app=$(mktemp -d /tmp/airlock-demo-XXXXXX)
cp "$AIRLOCK_ROOT/tests/demo/notes.py" "$app/notes.py"
chmod 755 "$app"
chmod 644 "$app/notes.py"
profile=$app/notes.toml
cat >"$profile" <<TOML
display_name = "Notes"
net = "none"
display = "xephyr"
xephyr_screen = "900x600"
default_grant = "rw"
TOML
chmod 644 "$profile"

run_notes() {
	as_user env DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" "$AIRLOCK_BUILD/airlock" run --verbose \
		--profile "$profile" --ro "$app/notes.py" -- /usr/bin/python3 "$app/notes.py" "$@"
}

if [ $headless -eq 0 ]; then
	log "opening the sandboxed editor on $DISPLAY: use Open… and Save"
	run_notes
	rm -rf "$app"
	exit 0
fi

wait_window() { # NAME: print the id of the first visible window whose name matches
	for _ in $(seq 200); do
		w=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n1 || true)
		[ -n "$w" ] && { echo "$w"; return 0; }
		sleep 0.1
	done
	return 1
}

log "running the GTK3 editor in a sandbox; it asks the portal to open a file"
AS_USER_EXEC=1 run_notes --open --append "Written inside the sandbox, saved through Airlock." &
notes=$! # airlock run itself: TERM reaches the application through init
started+=($notes)

w=$(wait_window "Notes wants to open a file") || { log "the chooser did not appear"; exit 1; }
sleep 1
shot1=$AIRLOCK_BUILD/demo-chooser.png
import -window root "$shot1"
log "Airlock's chooser is on the host display (window $w); picking $letter like a person would"
xdotool windowfocus --sync "$w"
xdotool key ctrl+l
sleep 0.3
xdotool type --delay 5 "$letter"
sleep 0.3
xdotool key Return

for _ in $(seq 100); do grep -q "Written inside the sandbox" "$letter" && break; sleep 0.1; done
sleep 1
shot2=$AIRLOCK_BUILD/demo-screenshot.png
import -window root "$shot2"
as_user env DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" "$AIRLOCK_BUILD/airlock" ps
as_user env DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" "$AIRLOCK_BUILD/airlock" grants
kill -TERM "$notes" 2>/dev/null || true
wait "$notes" 2>/dev/null || true
rm -rf "$app"
log "the host file after the sandboxed save:"
cat "$letter"
grep -q "Written inside the sandbox" "$letter" || { log "the save did not reach the host"; exit 1; }
log "screenshots: the chooser $shot1, the sandboxed editor $shot2"
