# tests/report/commands/test_series_rule.sh - one counting rule for every command that
# reads several snapshots (series.h): a series of one process (`run --interval`) reads
# as its latest snapshot in top, diff, export, html and their JSON, or as its peak under
# --peak; the processes of a fork tree sum; each command says which on stderr.
# Fixtures: tests/fixtures/phases.c (6 MiB held then freed, 4 MiB kept to the end),
# forker.c (two processes, 3 x 1111 B made before the fork: in the parent's
# snapshot, summed apart as inherited in the child's, so counted once).
. tests/fixtures/lib.sh
FX_TEST=series_rule fx_ready phases forker || return 0
D=$T/iv
mkdir -p "$D"
"$HEAPSNAP" run --interval 0.05 -o "$D/iv.%p.hsnap" -- "$FX/phases" >"$T/run.out" 2>&1
ALL=$(ls "$D"/iv.*.hsnap 2>/dev/null)
LAST=$(ls "$D"/iv.*.hsnap 2>/dev/null | grep -E '/iv\.[0-9]+\.hsnap$')
FIRST=$(ls "$D"/iv.*.0.hsnap 2>/dev/null)
N=$(echo "$ALL" | grep -c .)
if [ "$N" -lt 3 ] || [ -z "$LAST" ] || [ -z "$FIRST" ]; then
  t_fail series_run "want 3 snapshots or more, the exit one and iv.PID.0: $(ls "$D" | tr '\n' ' ')"
  return 0 2>/dev/null || exit 0
fi
PID=$(basename "$LAST" .hsnap | cut -d. -f2)

# same NAME WANT GOT: the two outputs are the same
same() {
  if cmp -s "$2" "$3"; then t_pass "$1"
  else t_fail "$1" "$(diff "$2" "$3" | head -6 | tr '\n' '|')"; fi
}
# says NAME ERRFILE REGEX: the command's stderr has that line
says() {
  if grep -Eq "$3" "$2"; then t_pass "$1"; else t_fail "$1" "stderr: $(head -c 300 "$2" | tr '\n' '|')"; fi
}
NOTE="^heapsnap: $N snapshots of pid $PID \\(phases\\): the latest, [0-9]{2}:[0-9]{2}:[0-9]{2} \\($LAST\\)\$"

# top: the series is its latest, not the sum of every snapshot
"$HEAPSNAP" top $ALL >"$T/top.all" 2>"$T/top.all.err"
"$HEAPSNAP" top "$LAST" >"$T/top.last" 2>/dev/null
same series_top_reads_the_latest "$T/top.last" "$T/top.all"
says series_top_says_which "$T/top.all.err" "$NOTE"
# --peak: the process's peak (6 MiB at phases.c:22), not the sum of the peaks
"$HEAPSNAP" top --peak $ALL >"$T/peak.all" 2>"$T/peak.all.err"
"$HEAPSNAP" top --peak "$LAST" >"$T/peak.last" 2>/dev/null
same series_top_peak_reads_its_peak "$T/peak.last" "$T/peak.all"
if grep -q '^tests/fixtures/phases.c:22: size=6144 KiB, count=24' "$T/peak.all"; then t_pass series_peak_is_6_mib
else t_fail series_peak_is_6_mib "$(head -3 "$T/peak.all" | tr '\n' '|')"; fi
says series_top_peak_says_which "$T/peak.all.err" "the one at its highest peak"

# JSON: the same groups, one snapshot counted, and how it was read
"$HEAPSNAP" top --format json $ALL >"$T/all.json" 2>/dev/null
"$HEAPSNAP" top --format json "$LAST" >"$T/last.json" 2>/dev/null
if python3 - "$T/all.json" "$T/last.json" "$N" "$LAST" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
r = a["read"]
assert a["groups"] == b["groups"], "groups differ"
assert [s["path"] for s in a["snapshots"]] == [sys.argv[4]], a["snapshots"]
assert (r["rule"], r["given"], r["processes"], r["counted"], r["summed"]) == \
    ("latest", int(sys.argv[3]), 1, 1, False), r
assert r["note"].startswith("%s snapshots of pid" % sys.argv[3]), r["note"]
assert b["read"]["note"] == "" and b["read"]["given"] == 1, b["read"]
PY
then t_pass series_top_json_reads_the_latest_and_says_so
else t_fail series_top_json_reads_the_latest_and_says_so "see above"; fi

# diff of a series: its earliest against its latest
"$HEAPSNAP" diff $ALL >"$T/diff.all" 2>"$T/diff.all.err"
"$HEAPSNAP" diff "$FIRST" "$LAST" >"$T/diff.two" 2>/dev/null
same series_diff_is_earliest_against_latest "$T/diff.two" "$T/diff.all"
says series_diff_says_which "$T/diff.all.err" "the earliest, .*\\($FIRST\\), against the latest, .*\\($LAST\\)\$"
"$HEAPSNAP" diff --format json $ALL 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["read"]["rule"] == "earliest_latest" and d["old"]["path"] == sys.argv[1] and d["new"]["path"] == sys.argv[2], d["read"]
' "$FIRST" "$LAST" && t_pass series_diff_json_says_which || t_fail series_diff_json_says_which "see above"

# export and html: the same latest, and the same line
"$HEAPSNAP" export --format folded $ALL >"$T/exp.all" 2>"$T/exp.all.err"
"$HEAPSNAP" export --format folded "$LAST" >"$T/exp.last" 2>/dev/null
same series_export_reads_the_latest "$T/exp.last" "$T/exp.all"
says series_export_says_which "$T/exp.all.err" "$NOTE"
"$HEAPSNAP" export --format massif -o "$T/ms.out" $ALL 2>"$T/ms.err"
if [ ! -s "$T/ms.err" ] && [ "$(grep -c '^snapshot=' "$T/ms.out")" -ge "$N" ]; then t_pass series_massif_reads_every_snapshot
else t_fail series_massif_reads_every_snapshot "$(head -c 300 "$T/ms.err") $(grep -c '^snapshot=' "$T/ms.out") massif snapshots"; fi
if "$HEAPSNAP" html -o "$T/page.html" $ALL 2>"$T/html.err"; then
  says series_html_says_which "$T/html.err" "$NOTE"
else t_fail series_html_says_which "html exited $?: $(head -c 300 "$T/html.err")"; fi

# several processes: summed, and said so
F=$T/fk
mkdir -p "$F"
"$HEAPSNAP" run -o "$F/fk.%p.hsnap" -- "$FX/forker" >"$T/fk.out" 2>&1
FK=$(ls "$F"/fk.*.hsnap 2>/dev/null)
if [ "$(echo "$FK" | grep -c .)" -ne 2 ]; then
  t_fail series_processes_sum "want 2 snapshots: $(ls "$F" | tr '\n' ' ')"
else
  "$HEAPSNAP" top $FK >"$T/fk.top" 2>"$T/fk.err"
  if grep -q '^tests/fixtures/forker.c:35: size=3333 B, count=3,' "$T/fk.top" &&
     grep -q '^tests/fixtures/forker.c:21: size=22.8 KiB, count=7,' "$T/fk.top" &&
     grep -q '^tests/fixtures/forker.c:27: size=10.8 KiB, count=5,' "$T/fk.top"; then
    t_pass series_processes_sum
  else t_fail series_processes_sum "$(tr '\n' '|' <"$T/fk.top" | head -c 300)"; fi
  says series_processes_say_summed "$T/fk.err" '^heapsnap: 2 processes, summed$'
  # two processes' snapshots and one more process: no series to diff
  "$HEAPSNAP" diff $FK "$LAST" >/dev/null 2>"$T/fk.diff.err"
  rc=$?
  if [ "$rc" = 2 ] && [ "$(wc -l <"$T/fk.diff.err")" = 1 ] &&
     grep -q '^heapsnap: diff: 3 snapshots of 3 processes' "$T/fk.diff.err"; then
    t_pass series_diff_refuses_several_processes
  else t_fail series_diff_refuses_several_processes "exit $rc: $(head -c 300 "$T/fk.diff.err")"; fi
fi
