#!/usr/bin/env bash
# Runs every benchmark of this folder (each *.sh but benchlib.sh and this
# one), one after the other, each measuring Airlock and its anchor in the
# same run, and prints one table of every SUMMARY line they printed:
# figure, Airlock, anchor, ratio. Asserts nothing; a script that fails is a
# row of the table with its exit status and log, and the others still run.
#	bash tests/bench/run_all.sh                 # everything
#	ONLY="launch dbus" bash tests/bench/run_all.sh
#	SKIP="grants" bash tests/bench/run_all.sh
# Each script's own settings (RUNS=..., REPS=...) pass through the
# environment. Logs go to $BENCH_LOGS (default: a new folder in /tmp, kept).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
logs=${BENCH_LOGS:-$(mktemp -d /tmp/airlock-bench-all.XXXXXX)}
mkdir -p "$logs"
chmod 755 "$logs"
summary=$logs/SUMMARY
: >"$summary"

scripts=()
for f in "$here"/*.sh; do
	name=$(basename "$f" .sh)
	case $name in benchlib | run_all) continue ;; esac
	if [ -n "${ONLY:-}" ] && ! grep -qw -- "$name" <<<"$ONLY"; then continue; fi
	if [ -n "${SKIP:-}" ] && grep -qw -- "$name" <<<"$SKIP"; then continue; fi
	scripts+=("$f")
done

printf '\033[1m==> %s\033[0m\n' "run_all: ${#scripts[@]} benchmarks, logs in $logs (machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for f in "${scripts[@]}"; do
	name=$(basename "$f" .sh)
	start=$(date +%s)
	printf '\033[1m==> %s\033[0m\n' "run_all: $name (started $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
	# Both streams to the log; SUMMARY lines may come on either.
	bash "$f" >"$logs/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if grep -q '^SUMMARY ' "$logs/$name.log"; then
		sed -n "s/^SUMMARY /$name\t/p" "$logs/$name.log" >>"$summary"
	elif [ $rc -eq 0 ]; then
		printf '%s\t%s: no SUMMARY line (figures in %s)\n' "$name" "$name" "$logs/$name.log" >>"$summary"
	fi
	if [ $rc -ne 0 ]; then
		printf '%s\tFAILED exit %s after %ss, see %s\n' "$name" "$rc" "$secs" "$logs/$name.log" >>"$summary"
		printf '\033[1m==> %s\033[0m\n' "run_all: $name FAILED (exit $rc, ${secs}s): $(tail -3 "$logs/$name.log" | tr '\n' ' ')" >&2
	else
		printf '\033[1m==> %s\033[0m\n' "run_all: $name done (${secs}s)" >&2
	fi
done

# One row per comparison. A SUMMARY line is "FIGURE [WORDS] key=value ...
# (comment)": what comes before Airlock's value names the figure; the
# value of the first key that is "airlock" or starts with "airlock-" (or is
# "flood") is Airlock's, the first other key but a ratio is the anchor's.
# A line with several "ratio-NAME=" keys gives one row per NAME, NAME's value
# against that anchor. A line without key=value pairs is printed whole.
awk -F'\t' '
function cell(s) { gsub(/\|/, "\\|", s); return s }
function row(fig, a, b, r, note) {
	printf "| %s | %s | %s | %s |%s\n", cell(fig), cell(a), cell(b), cell(r), (note == "" ? "" : " " cell(note) " |")
}
BEGIN {
	print "| figure | Airlock | anchor | ratio | notes |"
	print "| --- | --- | --- | --- | --- |"
}
{
	script = $1; line = $2
	if (line ~ /^FAILED/) { row(script, line, "", "", ""); next }
	note = ""
	if (match(line, / \(.*\)$/)) { note = substr(line, RSTART + 2, RLENGTH - 3); line = substr(line, 1, RSTART - 1) }
	n = split(line, w, " ")
	fig = ""; nk = 0
	delete key; delete val
	# Words, and key=count pairs, before the Airlock value name the figure
	# (broker-rss sandboxes=5, dbus-throughput callers=8).
	first = 0
	for (i = 1; i <= n && !first; i++) if (w[i] ~ /^(airlock|airlock-[A-Za-z0-9_.-]*|flood)=/) first = i
	for (i = 1; i <= n; i++) {
		if (i < first && (w[i] !~ /=/ || w[i] ~ /^[A-Za-z0-9_.-]+=[0-9]+$/)) {
			fig = fig (fig == "" ? "" : " ") w[i]
		} else if (w[i] ~ /^[A-Za-z0-9_.-]+=/) {
			nk++; key[nk] = substr(w[i], 1, index(w[i], "=") - 1); val[nk] = substr(w[i], index(w[i], "=") + 1)
			sub(/;$/, "", val[nk])
		} else if (nk == 0) {
			fig = fig (fig == "" ? "" : " ") w[i]
		} else {
			note = note (note == "" ? "" : " ") w[i]
		}
	}
	sub(/:$/, "", fig)
	if (nk == 0) { row(fig, "", "", "", note); next }
	a = ""; b = ""; bk = ""; r = ""; multi = 0
	for (i = 1; i <= nk; i++) {
		if (key[i] == "ratio") r = val[i]
		else if (key[i] ~ /^ratio-/) multi++
		else if (a == "" && (key[i] == "airlock" || key[i] ~ /^airlock-/ || key[i] == "flood")) a = key[i] "=" val[i]
		else if (b == "" && key[i] !~ /^airlock/) { b = key[i] "=" val[i]; bk = key[i] }
	}
	if (multi == 0) {
		extra = ""
		for (i = 1; i <= nk; i++) {
			kv = key[i] "=" val[i]
			if (key[i] != "ratio" && kv != a && kv != b) extra = extra (extra == "" ? "" : " ") kv
		}
		row(fig, a, b, r, note (note != "" && extra != "" ? "; " : "") extra)
		next
	}
	# Several ratios are each against native where there is a native key.
	for (j = 1; j <= nk; j++) if (key[j] ~ /^native/) { b = key[j] "=" val[j]; break }
	for (i = 1; i <= nk; i++) {
		if (key[i] !~ /^ratio-/) continue
		name = substr(key[i], 7)
		v = ""
		for (j = 1; j <= nk; j++) if (key[j] == name) v = key[j] "=" val[j]
		for (j = 1; j <= nk && v == ""; j++) if (key[j] !~ /^ratio/ && index(key[j], name)) v = key[j] "=" val[j]
		row(fig " (" name ")", v, b, val[i], note)
	}
}' "$summary"
echo
echo "SUMMARY lines: $summary; logs: $logs"
