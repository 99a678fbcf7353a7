#!/usr/bin/env bash
# File grants against their anchor, in one run, as an ordinary user (run this
# script as root; it drops to $AIRLOCK_USER for everything but set-up). Prints
# our figures, the anchor's and the ratios; asserts nothing.
#
# One SIZE_MB file (default 512) on the host's file system is measured by the
# same static program (grantbench fs) three ways:
#   native:    at its host path, on the host;
#   airlock:   inside an Airlock sandbox, `airlock run --ro grantbench --rw FILE
#              -- grantbench fs FILE`: the file is granted through airlock-portal's
#              document store and read at /run/user/UID/doc/<id>/<name>;
#   docportal: through the Flatpak document portal (xdg-document-portal on a
#              private session bus, the file added with Documents.Add and
#              granted read+write to an app id, read at doc/by-app/<app>/<id>/<name>:
#              the path a Flatpak app sees as /run/user/UID/doc/<id>/<name>).
# Each way: one read to warm the caches, then REPS full reads (1 MiB reads,
# median); N x stat(path)+open+close (median of the single timings); REPS
# rewrites of the whole file (O_TRUNC, 1 MiB writes), timed buffered and
# including fsync (median).
# Then the page cache is inspected (grantbench folios, as the user with
# CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH: /proc/self/pagemap and
# /proc/kpageflags): how many of the cached pages of each view of the file
# sit in large folios.
#
# Env: SIZE_MB (512), REPS (5), N (20000), AIRLOCK_USER, FOLIOS=0 to skip the
# page-cache inspection. Everything started here is ended by PID on exit.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BENCH_NAME=grants.sh
. "$(dirname "$0")/benchlib.sh"

SIZE_MB=${SIZE_MB:-512}
REPS=${REPS:-5}
N=${N:-20000}
APP=org.airlock.Bench

[ "$(id -u)" -eq 0 ] || { echo "grants.sh: run as root (it runs everything as \$AIRLOCK_USER)" >&2; exit 2; }

ensure_packages xdg-desktop-portal
ensure_go
ensure_fuse
build_airlock || fail "cannot build airlock"
ensure_user
mk_work grants

BIN=$WORK/bin/grantbench
(cd "$AIRLOCK_ROOT" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN" ./tests/bench/grantbench) || fail "go build of grantbench failed"
# private copies: a rebuild of $AIRLOCK_BUILD by someone else changes nothing here
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$WORK/bin/"
chmod 755 "$WORK/bin" "$WORK/bin"/*

# The file, on the host's file system (/tmp here), owned by the user.
install -d -m 0755 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" "$WORK/data"
FILE=$WORK/data/payload.bin
log "creating a ${SIZE_MB} MiB file on $(df --output=fstype "$WORK/data" | tail -1)"
fg_user -- dd if=/dev/urandom of="$FILE" bs=1M count="$SIZE_MB" conv=fdatasync status=none || fail "cannot create $FILE"

FS_ARGS=(fs -reps "$REPS" -n "$N")
# folios PATH: page-cache folio sizes of PATH, as the user (whose FUSE mounts
# admit only the user) with the two capabilities pagemap and kpageflags need.
folios() {
	[ "${FOLIOS:-1}" = 0 ] && return 0
	# shellcheck disable=SC2046
	timeout 60 setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups \
		--inh-caps=+sys_admin,+dac_read_search --ambient-caps=+sys_admin,+dac_read_search --reset-env \
		env $(user_env) "$BIN" folios "$1" </dev/null || echo "folios failed"
}
declare -A OUT FOL

# --- native ------------------------------------------------------------------
log "native: $FILE"
OUT[native]=$(fg_user -- "$BIN" "${FS_ARGS[@]}" "$FILE") || fail "native run failed"
echo "${OUT[native]}" | sed 's/^/  native    /'
FOL[native]=$(folios "$FILE")

# --- airlock -----------------------------------------------------------------
start_bus_a
bg_user "$WORK/log/portal.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock-portal"
PORTAL_PID=$BG_PID
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$WORK/log/portal.log")"
log "airlock: inside a sandbox, through the document store"
# -hold keeps the sandbox (and so its view of the store) alive after the
# figures, for the page-cache inspection; the sandbox is then ended by PID.
bg_user "$WORK/log/airlock-run.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- \
	"$WORK/bin/airlock" run --name grantbench --net none --sound none --display none \
	--ro "$BIN" --rw "$FILE" -- "$BIN" "${FS_ARGS[@]}" -hold 120s "$FILE"
RUN_PID=$BG_PID
for i in $(seq 1200); do
	grep -qx held "$WORK/log/airlock-run.log" && break
	kill -0 "$RUN_PID" 2>/dev/null || fail "the sandboxed run ended: $(tail -5 "$WORK/log/airlock-run.log")"
	sleep 0.1
done
grep -qx held "$WORK/log/airlock-run.log" || fail "no figures from the sandbox: $(tail -5 "$WORK/log/airlock-run.log")"
OUT[airlock]=$(grep -v '^held$' "$WORK/log/airlock-run.log")
echo "${OUT[airlock]}" | sed 's/^/  airlock   /'
INSIDE=$(kv path "$(grep '^file ' <<<"${OUT[airlock]}")")
case $INSIDE in /run/user/*/doc/*/*) ;; *) fail "the sandbox did not see the file through the document store: $INSIDE" ;; esac
# the same inode seen from the host: the sandbox's view folder of the store
DOCREL=${INSIDE#/run/user/*/doc/}
# (looked up as the user: the store's FUSE mount admits only its owner, not root)
VIEW=$(fg_user -- sh -c 'ls -d "$1"/doc-*/by-sandbox/*/"$2"' sh "$RUN/rt/airlock" "$DOCREL" 2>/dev/null | head -1 || true)
if [ -n "$VIEW" ]; then FOL[airlock]=$(folios "$VIEW"); else FOL[airlock]="view not found under $RUN/rt/airlock"; fi
FOL[native_after]=$(folios "$FILE")
kill_tree "$RUN_PID"
PORTAL_RSS=$(mem "$PORTAL_PID")

# --- docportal ---------------------------------------------------------------
start_bus_b
start_anchor_svc PERM_PID org.freedesktop.impl.portal.PermissionStore /usr/libexec/xdg-permission-store --replace
start_anchor_svc DOC_PID org.freedesktop.portal.Documents /usr/libexec/xdg-document-portal
for i in $(seq 100); do grep -qF " $RUN/xdg/doc " /proc/mounts && break; sleep 0.05; done
grep -qF " $RUN/xdg/doc " /proc/mounts || fail "xdg-document-portal did not mount $RUN/xdg/doc: $(tail -5 "$WORK/log/DOC_PID.log")"
ADD=$(fg_user "${ANCHOR_ENV[@]}" -- "$BIN" docadd -app "$APP" "$FILE") || fail "Documents.Add failed"
APPP=$(kv app_path "$ADD")
log "docportal: $APPP"
OUT[docportal]=$(fg_user "${ANCHOR_ENV[@]}" -- "$BIN" "${FS_ARGS[@]}" "$APPP") || fail "document portal run failed"
echo "${OUT[docportal]}" | sed 's/^/  docportal /'
FOL[docportal]=$(folios "$APPP")
DOC_RSS=$(mem "$DOC_PID")

# --- report ------------------------------------------------------------------
get() { kv "$3" "$(grep "^$2 " <<<"${OUT[$1]}")"; }
row() { # row LABEL KIND KEY UNIT [inverse]
	local n a d
	n=$(get native "$2" "$3") a=$(get airlock "$2" "$3") d=$(get docportal "$2" "$3")
	printf '%-34s %11s %11s %11s %9s %9s\n' "$1" "$n $4" "$a $4" "$d $4" "$(ratio "$a" "$n")x" "$(ratio "$d" "$n")x"
}
echo
echo "grants: ${SIZE_MB} MiB file, 1 MiB reads/writes, REPS=$REPS, N=$N, $(nproc) CPUs, kernel $(uname -r)"
printf '%-34s %11s %11s %11s %9s %9s\n' "" native airlock docportal "airl/nat" "docp/nat"
row "warm sequential read (median)" read gbps GB/s
row "first read (warms the view)" read first_gbps GB/s
row "write, buffered" write buffered_gbps GB/s
row "write, including fsync" write fsync_gbps GB/s
row "stat+open+close p50" stat p50_us us
row "stat+open+close mean" stat mean_us us
row "  of which stat(path) alone, p50" split stat_p50_us us
row "  of which open+close alone, p50" split open_close_p50_us us
echo "(ratios are airlock/native and docportal/native: above 1x is faster for GB/s, slower for us)"
echo
echo "page cache of the file after the reads (grantbench folios):"
for k in native airlock native_after docportal; do printf '  %-13s %s\n' "$k" "${FOL[$k]:-skipped}"; done
echo "memory, kB (VmRSS / PSS) after the runs: airlock-portal $PORTAL_RSS; xdg-document-portal $DOC_RSS"
echo

for f in "read gbps read" "write buffered_gbps write-buffered" "write fsync_gbps write-fsync"; do
	set -- $f
	n=$(get native "$1" "$2") a=$(get airlock "$1" "$2") d=$(get docportal "$1" "$2")
	echo "SUMMARY grants-$3 airlock=${a}GB/s native=${n}GB/s docportal=${d}GB/s ratio-airlock=$(ratio "$a" "$n")x ratio-docportal=$(ratio "$d" "$n")x"
done
n=$(get native stat p50_us) a=$(get airlock stat p50_us) d=$(get docportal stat p50_us)
echo "SUMMARY grants-open-stat-close airlock=${a}us native=${n}us docportal=${d}us ratio-airlock=$(ratio "$a" "$n")x ratio-docportal=$(ratio "$d" "$n")x (median of $N; ratio = times native latency)"
