#!/usr/bin/env bash
# File grants against their anchor, in one run, as an ordinary user (run this
# script as root; it drops to $AIRLOCK_USER for everything but set-up). Prints
# our figures, the anchor's and the ratios; asserts nothing.
#
# One SIZE_MB file (default 512) on the host's file system is measured by the
# same static program (grantbench fs) these ways:
#   native:    at its host path, on the host;
#   airlock ro: inside a sandbox of the default profile, `--ro FILE`: granted
#              read-only, revocable (grants = "revocable", the default), so
#              served by the document store only;
#   airlock ro native: the same with a profile that says grants =
#              "native-irrevocable": the sandbox's init binds the host file
#              over the document's entry (host speed; revoking cannot cut a
#              descriptor the application opened);
#   airlock:   inside an Airlock sandbox, `airlock run --ro grantbench --rw FILE
#              -- grantbench fs FILE`: the file is granted through airlock-portal's
#              document store and read at /run/user/UID/doc/<id>/<name>;
#   docportal: through the Flatpak document portal (xdg-document-portal on a
#              private session bus, the file added with Documents.Add and
#              granted read+write to an app id, read at doc/by-app/<app>/<id>/<name>:
#              the path a Flatpak app sees as /run/user/UID/doc/<id>/<name>).
# Each way: one read to warm the caches (reported as "first read"), then
# READ_REPS full reads (1 MiB reads; median and best); N x stat(path)+open+close
# (median of the single timings), then N/2 x stat alone and open+close alone;
# REPS rewrites of the whole file (O_TRUNC, 1 MiB writes), timed buffered and
# including fsync (median). The three ways run in ROUNDS interleaved rounds (a
# new sandbox each round): other load on the machine then hits all three
# alike; the figures are medians over the rounds.
# Controls without FUSE, read the same way in each round: the file copied to a
# tmpfs that caches it in 4 KiB pages and to one with huge=always (2 MiB folios).
# Then the page cache is inspected (grantbench folios, as the user with
# CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH: /proc/self/pagemap and
# /proc/kpageflags): how many of the cached pages of each view of the file
# sit in large folios.
#
# Env: SIZE_MB (512), ROUNDS (3), READ_REPS (15), REPS (3), N (20000),
# AIRLOCK_USER, FOLIOS=0 to skip the page-cache inspection.
# Everything started here is ended by PID on exit; nothing is killed by name.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BENCH_NAME=grants.sh
. "$(dirname "$0")/benchlib.sh"

SIZE_MB=${SIZE_MB:-512}
ROUNDS=${ROUNDS:-3}
READ_REPS=${READ_REPS:-15}
REPS=${REPS:-3}
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

FS_ARGS=(fs -read-reps "$READ_REPS" -reps "$REPS" -n "$N")
# folios PATH: page-cache folio sizes of PATH, as the user (whose FUSE mounts
# admit only the user) with the two capabilities pagemap and kpageflags need.
folios() {
	[ "${FOLIOS:-1}" = 0 ] && return 0
	# shellcheck disable=SC2046
	timeout 60 setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups \
		--inh-caps=+sys_admin,+dac_read_search --ambient-caps=+sys_admin,+dac_read_search --reset-env \
		env $(user_env) "$BIN" folios "$1" </dev/null || echo "folios failed"
}
declare -A FOL
: >"$WORK/figures"
# record ROUND COLUMN OUTPUT: keep the figures, show them
record() {
	sed "s/^/r$1 $2 /" <<<"$3" >>"$WORK/figures"
	sed "s/^/  round $1 $(printf '%-9s' "$2") /" <<<"$3"
}

# --- set-up: Airlock's broker, the document portal --------------------------
start_bus_a
bg_user "$WORK/log/portal.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock-portal"
PORTAL_PID=$BG_PID
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$WORK/log/portal.log")"
start_bus_b
start_anchor_svc PERM_PID org.freedesktop.impl.portal.PermissionStore /usr/libexec/xdg-permission-store --replace
start_anchor_svc DOC_PID org.freedesktop.portal.Documents /usr/libexec/xdg-document-portal
for i in $(seq 100); do grep -qF " $RUN/xdg/doc " /proc/mounts && break; sleep 0.05; done
grep -qF " $RUN/xdg/doc " /proc/mounts || fail "xdg-document-portal did not mount $RUN/xdg/doc: $(tail -5 "$WORK/log/DOC_PID.log")"
ADD=$(fg_user "${ANCHOR_ENV[@]}" -- "$BIN" docadd -app "$APP" "$FILE") || fail "Documents.Add failed"
APPP=$(kv app_path "$ADD")
log "document portal: $APPP"

# airlock_round ROUND: the tool inside a new sandbox, the file granted --rw.
# In round 1 -hold keeps the sandbox (and its view of the store) alive after
# the figures for the page-cache inspection; it is then ended by PID.
airlock_round() {
	local r=$1 out inside docrel view i
	if [ "$r" != 1 ]; then
		out=$(fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock" run --name "grantbench$r" \
			--net none --sound none --display none --ro "$BIN" --rw "$FILE" -- "$BIN" "${FS_ARGS[@]}" "$FILE") ||
			fail "sandboxed run $r failed: $out"
		record "$r" airlock "$out"
		return
	fi
	bg_user "$WORK/log/airlock-run.log" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- \
		"$WORK/bin/airlock" run --name grantbench1 --net none --sound none --display none \
		--ro "$BIN" --rw "$FILE" -- "$BIN" "${FS_ARGS[@]}" -hold 120s "$FILE"
	local run_pid=$BG_PID
	for i in $(seq 1200); do
		grep -qx held "$WORK/log/airlock-run.log" 2>/dev/null && break
		kill -0 "$run_pid" 2>/dev/null || fail "the sandboxed run ended: $(tail -5 "$WORK/log/airlock-run.log")"
		sleep 0.1
	done
	grep -qx held "$WORK/log/airlock-run.log" || fail "no figures from the sandbox: $(tail -5 "$WORK/log/airlock-run.log")"
	out=$(grep -v '^held$' "$WORK/log/airlock-run.log")
	record "$r" airlock "$out"
	inside=$(kv path "$(grep '^file ' <<<"$out")")
	case $inside in /run/user/*/doc/*/*) ;; *) fail "the sandbox did not see the file through the document store: $inside" ;; esac
	# the same inode seen from the host: the sandbox's view folder of the
	# store (looked up as the user: the mount admits only its owner, not root)
	docrel=${inside#/run/user/*/doc/}
	view=$(fg_user -- sh -c 'ls -d "$1"/doc-*/by-sandbox/*/"$2"' sh "$RUN/rt/airlock" "$docrel" 2>/dev/null | head -1 || true)
	if [ -n "$view" ]; then FOL[airlock]=$(folios "$view"); else FOL[airlock]="view not found under $RUN/rt/airlock"; fi
	FOL[native]=$(folios "$FILE")
	kill_tree "$run_pid"
}

# Controls without FUSE: the same bytes on two tmpfs mounts, one caching them
# in 4 KiB pages (the default, huge=never) and one in 2 MiB folios
# (huge=always). Same file system, only the folio size differs.
for t in tmpfs4k:never tmpfs2m:always; do
	d=$WORK/${t%%:*}
	mkdir -p "$d"
	mount -t tmpfs -o "size=$((SIZE_MB + 64))M,huge=${t##*:},mode=0755,uid=$(id -u "$AIRLOCK_USER")" tmpfs "$d" || fail "cannot mount tmpfs at $d"
	fg_user -- cp "$FILE" "$d/payload.bin" || fail "cannot copy the file to $d"
done
CTRL_ARGS=(fs -read-reps "$READ_REPS" -reps 1 -n 1000)

# airlock_ro_round ROUND [PROFILE COLUMN]: the file granted read-only. With
# the default profile (grants = "revocable") it is served by the document
# store only; with $NATIVE_PROFILE (grants = "native-irrevocable") the
# sandbox's init binds the host file itself over the document's entry, so
# reads bypass FUSE. No writes (read-only).
NATIVE_PROFILE=$WORK/data/native.toml
fg_user -- sh -c 'printf "grants = \"native-irrevocable\"\n" >"$1"' sh "$NATIVE_PROFILE"
airlock_ro_round() {
	local out prof=() col=airlock-ro
	[ $# -gt 1 ] && prof=(--profile "$2") col=$3
	out=$(fg_user DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock" run --name "grantbench-$col$1" "${prof[@]}" \
		--net none --sound none --display none --ro "$BIN" --ro "$FILE" -- "$BIN" fs -read-reps "$READ_REPS" -reps 0 -n "$N" "$FILE") ||
		fail "sandboxed read-only run $1 ($col) failed: $out"
	record "$1" "$col" "$out"
}

# --- rounds: native, airlock, docportal, interleaved -------------------------
for r in $(seq "$ROUNDS"); do
	log "round $r/$ROUNDS: native, airlock read-only and read-write (inside sandboxes), docportal"
	out=$(fg_user -- "$BIN" "${FS_ARGS[@]}" "$FILE") || fail "native run failed"
	record "$r" native "$out"
	airlock_ro_round "$r"
	airlock_ro_round "$r" "$NATIVE_PROFILE" airlock-nat
	airlock_round "$r"
	out=$(fg_user "${ANCHOR_ENV[@]}" -- "$BIN" "${FS_ARGS[@]}" "$APPP") || fail "document portal run failed"
	record "$r" docportal "$out"
	[ "$r" = 1 ] && FOL[docportal]=$(folios "$APPP")
	for t in tmpfs4k tmpfs2m; do
		out=$(fg_user -- "$BIN" "${CTRL_ARGS[@]}" "$WORK/$t/payload.bin") || fail "$t run failed"
		record "$r" "$t" "$out"
		[ "$r" = 1 ] && FOL[$t]=$(folios "$WORK/$t/payload.bin")
	done
done
PORTAL_RSS=$(mem "$PORTAL_PID")
DOC_RSS=$(mem "$DOC_PID")

# --- report ------------------------------------------------------------------
# get COLUMN KIND KEY: median over the rounds of that figure
get() { grep " $1 $2 " "$WORK/figures" | while read -r l; do kv "$3" "$l"; done | median; }
# spread COLUMN KIND KEY: lowest..highest over the rounds
spread() { grep " $1 $2 " "$WORK/figures" | while read -r l; do kv "$3" "$l"; done | sort -g | sed -n '1p;$p' | paste -sd/ | sed 's#/#..#'; }
row() { # row LABEL KIND KEY UNIT
	local n o a d v
	n=$(get native "$2" "$3") o=$(get airlock-ro "$2" "$3") v=$(get airlock-nat "$2" "$3") a=$(get airlock "$2" "$3") d=$(get docportal "$2" "$3")
	local or="$(ratio "$o" "$n")x" ov="$o $4" vr="$(ratio "$v" "$n")x" vv="$v $4"
	case $o in "" | nan) ov="-" or="-" ;; esac # read-only: no writes
	case $v in "" | nan) vv="-" vr="-" ;; esac
	printf '%-34s %11s %11s %11s %11s %11s %9s %9s %9s %9s\n' "$1" "$n $4" "$ov" "$vv" "$a $4" "$d $4" "$or" "$vr" "$(ratio "$a" "$n")x" "$(ratio "$d" "$n")x"
}
echo
echo "grants: ${SIZE_MB} MiB file, 1 MiB reads/writes, ROUNDS=$ROUNDS READ_REPS=$READ_REPS REPS=$REPS N=$N, $(nproc) CPUs, kernel $(uname -r)"
printf '%-34s %11s %11s %11s %11s %11s %9s %9s %9s %9s\n' "" native "airlock ro" "ro native" "airlock rw" docportal "ro/nat" "rnat/nat" "rw/nat" "docp/nat"
row "warm sequential read (median)" read gbps GB/s
row "warm sequential read (best)" read best_gbps GB/s
row "first read (warms the view)" read first_gbps GB/s
row "write, buffered" write buffered_gbps GB/s
row "write, including fsync" write fsync_gbps GB/s
row "stat+open+close p50" stat p50_us us
row "stat+open+close mean" stat mean_us us
row "  of which stat(path) alone, p50" split stat_p50_us us
row "  of which open+close alone, p50" split open_close_p50_us us
for t in "tmpfs4k:tmpfs, 4 KiB pages" "tmpfs2m:tmpfs huge=always, 2 MiB folios"; do
	v=$(get "${t%%:*}" read gbps)
	printf '%-58s %11s  %sx native\n' "warm read, control without FUSE: ${t#*:}" "$v GB/s" "$(ratio "$v" "$(get native read gbps)")"
done
printf '%-34s %11s %11s %11s\n' "read median, lowest..highest round" "$(spread native read gbps)" "$(spread airlock read gbps)" "$(spread docportal read gbps)"
echo "(figures: median over $ROUNDS interleaved rounds of each round's median; \"airlock ro\": granted read-only, revocable (grants = \"revocable\", the default): served by the document store (FUSE); \"ro native\": granted read-only with grants = \"native-irrevocable\", bound natively by the sandbox's init; \"airlock rw\": granted writable, served by the document store; ratios against native: above 1x is faster for GB/s, slower for us)"
echo
echo "page cache of the file after the reads (grantbench folios):"
for k in native airlock docportal tmpfs4k tmpfs2m; do printf '  %-13s %s\n' "$k" "${FOL[$k]:-skipped}"; done
echo "memory, kB (VmRSS / PSS) after the runs: airlock-portal $PORTAL_RSS; xdg-document-portal $DOC_RSS"
echo

n=$(get native read gbps) o=$(get airlock-ro read gbps) v=$(get airlock-nat read gbps) a=$(get airlock read gbps) d=$(get docportal read gbps)
echo "SUMMARY grants-read airlock-ro=${o}GB/s airlock-ro-native=${v}GB/s airlock-rw=${a}GB/s native=${n}GB/s docportal=${d}GB/s ratio-airlock-ro=$(ratio "$o" "$n")x ratio-airlock-ro-native=$(ratio "$v" "$n")x ratio-airlock-rw=$(ratio "$a" "$n")x ratio-docportal=$(ratio "$d" "$n")x (ro: revocable, the default; ro-native: grants = \"native-irrevocable\")"
n=$(get native read first_gbps) o=$(get airlock-ro read first_gbps) v=$(get airlock-nat read first_gbps)
echo "SUMMARY grants-first-read-ro airlock-ro=${o}GB/s airlock-ro-native=${v}GB/s native=${n}GB/s ratio-airlock-ro=$(ratio "$o" "$n")x ratio-airlock-ro-native=$(ratio "$v" "$n")x"
n=$(get native stat p50_us) o=$(get airlock-ro stat p50_us) v=$(get airlock-nat stat p50_us)
echo "SUMMARY grants-open-stat-close-ro airlock-ro=${o}us airlock-ro-native=${v}us native=${n}us ratio-airlock-ro=$(ratio "$o" "$n")x ratio-airlock-ro-native=$(ratio "$v" "$n")x (read-only grant: revocable store / native bind)"
for f in "read gbps read-store" "write buffered_gbps write-buffered" "write fsync_gbps write-fsync"; do
	set -- $f
	n=$(get native "$1" "$2") a=$(get airlock "$1" "$2") d=$(get docportal "$1" "$2")
	echo "SUMMARY grants-$3 airlock=${a}GB/s native=${n}GB/s docportal=${d}GB/s ratio-airlock=$(ratio "$a" "$n")x ratio-docportal=$(ratio "$d" "$n")x"
done
n=$(get native read gbps) t4=$(get tmpfs4k read gbps) t2=$(get tmpfs2m read gbps)
echo "SUMMARY grants-read-control tmpfs-4k-pages=${t4}GB/s tmpfs-2m-folios=${t2}GB/s native-ext4=${n}GB/s ratio-4k=$(ratio "$t4" "$n")x ratio-2m=$(ratio "$t2" "$n")x (no FUSE: folio size alone)"
n=$(get native stat p50_us) a=$(get airlock stat p50_us) d=$(get docportal stat p50_us)
echo "SUMMARY grants-open-stat-close airlock=${a}us native=${n}us docportal=${d}us ratio-airlock=$(ratio "$a" "$n")x ratio-docportal=$(ratio "$d" "$n")x (median of $N; ratio = times native latency)"
