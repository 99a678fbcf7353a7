#!/usr/bin/env bash
# Printing against its anchors, in one run, as an ordinary user (run this
# script as root: cupsd runs the 0700 cups-pdf backend as root; everything
# else runs as $AIRLOCK_USER). Prints our figures, the anchors' and the
# ratios; asserts nothing.
#
#   dialog:    PreparePrint -> print dialog mapped on Xvfb (polled every ~2 ms),
#              then Escape. Airlock: the client (printbench.py client) in a
#              sandbox, airlock-portal's airlock-chooser draws GTK's print
#              dialog. Anchor: xdg-desktop-portal + xdg-desktop-portal-gtk on a
#              private session bus, the client on the host.
#   print:     Print(fd, token) -> cups-pdf's output PDF complete (the job left
#              the queue), the broker's rewrite sanitiser included. Anchor: `lp`
#              of the same PDF -> output complete.
#   sanitiser: `airlock run` of the broker's rewrite and rasterize scripts on a
#              1-page and a 10-page PDF (cost per page = (t10 - t1) / 9); anchor:
#              the same qpdf / gs commands on the host, without a sandbox.
# A private cupsd (unix socket only) with one cups-pdf queue, as tests/print.
# Env: RUNS (5), AIRLOCK_USER. Everything started here is ended by PID on exit.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BENCH_NAME=print.sh
. "$(dirname "$0")/benchlib.sh"

RUNS=${RUNS:-5}
[ "$(id -u)" -eq 0 ] || { echo "print.sh: run as root" >&2; exit 2; }

ensure_packages xdg-desktop-portal xdg-desktop-portal-gtk
ensure_go
ensure_fuse
build_airlock || fail "cannot build airlock"
ensure_user
mk_work print
cp "$AIRLOCK_BUILD/airlock" "$AIRLOCK_BUILD/airlock-portal" "$AIRLOCK_BUILD/airlock-chooser" "$WORK/bin/"
cp "$AIRLOCK_ROOT/tests/bench/printbench.py" "$WORK/bin/"
chmod 755 "$WORK/bin" "$WORK/bin"/*
PB="$WORK/bin/printbench.py"

# --- cupsd ---------------------------------------------------------------
C="$WORK/cups"
mkdir -p "$C/conf" "$C/spool/tmp" "$C/cache" "$C/state" "$C/log" "$C/out"
chmod 755 "$WORK" "$C"
chown -R root:lp "$C/spool" "$C/cache" "$C/state"
chmod 0710 "$C/spool"; chmod 1770 "$C/spool/tmp"; chmod 770 "$C/cache" "$C/state"; chmod 1777 "$C/out"
Q=airlockbench$$
cat >"$C/conf/cupsd.conf" <<EOF
LogLevel warn
Listen $C/cups.sock
Browsing No
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
cat >"$C/conf/cups-files.conf" <<EOF
ServerRoot $C/conf
RequestRoot $C/spool
TempDir $C/spool/tmp
CacheDir $C/cache
StateDir $C/state
ErrorLog $C/log/error_log
AccessLog $C/log/access_log
PageLog $C/log/page_log
Printcap $C/printcap
User lp
Group lp
SystemGroup root
EOF
printf 'Out %s\nAnonDirName %s\nUserUMask 0022\nGrp lp\n' "$C/out" "$C/out" >"/etc/cups/cups-pdf-$Q.conf"
trap 'rm -f "/etc/cups/cups-pdf-$Q.conf"; cleanup' EXIT
cupsd -f -c "$C/conf/cupsd.conf" -s "$C/conf/cups-files.conf" >"$C/log/cupsd.out" 2>&1 &
track $!
for i in $(seq 200); do [ -S "$C/cups.sock" ] && break; sleep 0.025; done
export CUPS_SERVER="$C/cups.sock"
lpadmin -p "$Q" -E -v "cups-pdf:/$Q" -P /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd 2>/dev/null
lpadmin -p "$Q" -o pdftops-renderer-default=pdftops
lpadmin -d "$Q"
log "cupsd on $CUPS_SERVER, queue $Q"

# --- documents -------------------------------------------------------------
mkdoc() { # mkdoc OUT PAGES
	local i
	for i in $(seq "$2"); do echo "/Helvetica findfont 20 scalefont setfont 72 700 moveto (Benchmark page $i) show 72 680 moveto (The quick brown fox jumps over the lazy dog) show showpage"; done |
		gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=pdfwrite -o "$1" -
	chmod 644 "$1"
}
mkdoc "$WORK/p1.pdf" 1
mkdoc "$WORK/p10.pdf" 10

# --- sanitiser cost ----------------------------------------------------------
cat >"$WORK/sanitizer.toml" <<EOF
display_name = "Airlock print sanitiser"
net = "none"
sound = "none"
display = "none"
bus_names = []
open_uri = "none"
clipboard_copy = "none"
clipboard_paste = "none"
print = false
EOF
chmod 644 "$WORK/sanitizer.toml"
REWRITE='cat > /tmp/in.pdf; qpdf --warning-exit-0 --no-original-object-ids --empty --pages /tmp/in.pdf 1-z -- /tmp/out.pdf >&2; qpdf --show-npages /tmp/out.pdf; cat /tmp/out.pdf'
RASTER='cat > /tmp/in.pdf; gs -q -dSAFER -dBATCH -dNOPAUSE -dPDFSTOPONERROR -sDEVICE=pdfimage24 -r150 -sOutputFile=/tmp/out.pdf /tmp/in.pdf >&2; qpdf --show-npages /tmp/out.pdf; cat /tmp/out.pdf'
ms_of() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || fail "$* failed"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
sandboxed() { # sandboxed SCRIPT FILE
	fg_user -- sh -c "exec \"\$0\" run --profile \"\$1\" --net none --display none --sound none -- /bin/sh -c \"\$2\" < \"\$3\"" \
		"$WORK/bin/airlock" "$WORK/sanitizer.toml" "$1" "$2"
}
hosted() { # hosted SCRIPT FILE: the same commands on the host, in a fresh folder
	fg_user -- sh -c 'cd "$(mktemp -d)" && exec /bin/sh -c "$0" < "$1"' "${1//\/tmp\//./}" "$2"
}
declare -A S
for kind in rewrite raster; do
	[ $kind = rewrite ] && sc=$REWRITE || sc=$RASTER
	for n in 1 10; do
		a=() h=()
		for r in $(seq "$RUNS"); do
			a+=("$(ms_of sandboxed "$sc" "$WORK/p$n.pdf")")
			h+=("$(ms_of hosted "$sc" "$WORK/p$n.pdf")")
		done
		S[$kind-a-$n]=$(printf '%s\n' "${a[@]}" | median)
		S[$kind-h-$n]=$(printf '%s\n' "${h[@]}" | median)
		log "$kind, $n page(s): sandboxed ${S[$kind-a-$n]} ms, host ${S[$kind-h-$n]} ms (medians of $RUNS)"
	done
done
perpage() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 9 }'; }

# --- dialog and print: airlock -----------------------------------------------
start_xvfb_user
export DISPLAY=":$DNUM"
X_ENV=(DISPLAY=":$DNUM" CUPS_SERVER="$CUPS_SERVER")
install -d -m 0700 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" "$RUN/home-airlock"
start_bus_a
bg_user "$WORK/log/portal.log" "${X_ENV[@]}" HOME="$RUN/home-airlock" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- "$WORK/bin/airlock-portal"
wait_name "$BUS_A" org.airlock.Portal || fail "airlock-portal did not start: $(tail -5 "$WORK/log/portal.log")"
sleep 2
CLIENT=("$WORK/bin/airlock" run --name bench --net none --sound none --display none --ro "$PB" --ro "$WORK/p1.pdf" -- /usr/bin/python3 "$PB" client "$WORK/p1.pdf")
log "airlock: PreparePrint -> dialog, $RUNS+1"
A_DIALOG=$(fg_user "${X_ENV[@]}" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- /usr/bin/python3 "$PB" dialog "$RUNS" '^bench wants to print$' -- "${CLIENT[@]}" 2>"$WORK/log/a-dialog.log") ||
	fail "airlock dialog runs failed: $(tail -5 "$WORK/log/a-dialog.log"; tail -5 "$WORK/log/portal.log")"
echo "$A_DIALOG" | sed 's/^/  airlock dialog /'
log "airlock: Print -> job complete, $RUNS+1"
A_PRINT=$(fg_user "${X_ENV[@]}" DBUS_SESSION_BUS_ADDRESS="$BUS_A" -- /usr/bin/python3 "$PB" print "$RUNS" '^bench wants to print$' "$C/out" "$Q" "$WORK/p1.pdf" -- "${CLIENT[@]}" 2>"$WORK/log/a-print.log") ||
	fail "airlock print runs failed: $(tail -5 "$WORK/log/a-print.log"; tail -5 "$WORK/log/portal.log")"
echo "$A_PRINT" | sed 's/^/  airlock print  /'
log "anchor: lp -> job complete, $RUNS+1"
L_PRINT=$(fg_user CUPS_SERVER="$CUPS_SERVER" -- /usr/bin/python3 "$PB" lp "$RUNS" "$C/out" "$Q" "$WORK/p1.pdf" 2>"$WORK/log/lp.log") || fail "lp runs failed: $(tail -5 "$WORK/log/lp.log")"
echo "$L_PRINT" | sed 's/^/  lp             /'

# --- dialog: anchor ------------------------------------------------------------
kill_tree "$XVFB_PID"
start_xvfb_user
export DISPLAY=":$DNUM"
start_bus_b DISPLAY=":$DNUM" CUPS_SERVER="$CUPS_SERVER" XDG_CURRENT_DESKTOP=GNOME
start_anchor_svc PERM_PID org.freedesktop.impl.portal.PermissionStore /usr/libexec/xdg-permission-store --replace
start_anchor_svc DOC_PID org.freedesktop.portal.Documents /usr/libexec/xdg-document-portal
start_anchor_svc GTK_PID org.freedesktop.impl.portal.desktop.gtk /usr/libexec/xdg-desktop-portal-gtk -r
start_anchor_svc XDP_PID org.freedesktop.portal.Desktop /usr/libexec/xdg-desktop-portal -r
sleep 1
log "anchor: PreparePrint -> xdg-desktop-portal-gtk's dialog, $RUNS+1"
X_DIALOG=$(fg_user "${ANCHOR_ENV[@]}" -- /usr/bin/python3 "$PB" dialog "$RUNS" '^Bench$' -- /usr/bin/python3 "$PB" client 2>"$WORK/log/x-dialog.log") ||
	fail "anchor dialog runs failed: $(tail -5 "$WORK/log/x-dialog.log"; tail -5 "$WORK/log/GTK_PID.log")"
echo "$X_DIALOG" | sed 's/^/  anchor dialog  /'

# --- report ----------------------------------------------------------------------
get() { kv "$3" "$(grep "^$2 " <<<"$1")"; }
AD=$(get "$A_DIALOG" warm map_ms) XD=$(get "$X_DIALOG" warm map_ms)
ADF=$(get "$A_DIALOG" first map_ms) XDF=$(get "$X_DIALOG" first map_ms)
AP=$(get "$A_PRINT" warm print_ms) LP=$(get "$L_PRINT" warm print_ms)
echo
echo "printing, RUNS=$RUNS, $(nproc) CPUs"
printf '%-46s %12s %12s %8s\n' "" airlock anchor ratio
printf '%-46s %9s ms %9s ms %7sx\n' "PreparePrint -> dialog mapped, warm median" "$AD" "$XD" "$(ratio "$AD" "$XD")"
printf '%-46s %9s ms %9s ms %7sx\n' "PreparePrint -> dialog mapped, first" "$ADF" "$XDF" "$(ratio "$ADF" "$XDF")"
printf '%-46s %9s ms %9s ms %7sx\n' "Print -> job complete (1 page; anchor: lp)" "$AP" "$LP" "$(ratio "$AP" "$LP")"
for kind in rewrite raster; do
	a1=${S[$kind-a-1]} a10=${S[$kind-a-10]} h1=${S[$kind-h-1]} h10=${S[$kind-h-10]}
	printf '%-46s %9s ms %9s ms %7sx\n' "$kind, 1 page (anchor: same, no sandbox)" "$a1" "$h1" "$(ratio "$a1" "$h1")"
	printf '%-46s %9s ms %9s ms %7sx\n' "$kind, per further page" "$(perpage "$a1" "$a10")" "$(perpage "$h1" "$h10")" "$(ratio "$(perpage "$a1" "$a10")" "$(perpage "$h1" "$h10")")"
done
echo
echo "SUMMARY print-dialog-warm airlock=${AD}ms anchor=${XD}ms ratio=$(ratio "$AD" "$XD")x (anchor: xdg-desktop-portal-gtk)"
echo "SUMMARY print-job airlock=${AP}ms anchor=${LP}ms ratio=$(ratio "$AP" "$LP")x (Print with token -> cups-pdf output; anchor: lp)"
echo "SUMMARY print-rasterize-per-page airlock=$(perpage "${S[raster-a-1]}" "${S[raster-a-10]}")ms host=$(perpage "${S[raster-h-1]}" "${S[raster-h-10]}")ms first-page=${S[raster-a-1]}ms"
echo "SUMMARY print-rewrite-per-page airlock=$(perpage "${S[rewrite-a-1]}" "${S[rewrite-a-10]}")ms host=$(perpage "${S[rewrite-h-1]}" "${S[rewrite-h-10]}")ms first-page=${S[rewrite-a-1]}ms"
