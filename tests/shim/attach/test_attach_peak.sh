# test_attach_peak.sh - one peak under heapsnap attach: in a session with
# snapshots at a signal (--signal USR2) and the detach's, taken while the
# program grows (10 MB), frees it all and grows again less, no snapshot's
# peak (META's and the capture, PEAK) is below its own total or below an
# earlier snapshot's total of the session; the peak is the session's, not
# the process's before the attach (a 20 MB high-water mark from before,
# freed, is no part of it).
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread

# at_snaps_after N: waits (bounded) for the session's snapshot number N+1
at_snaps_after() {
  local i
  for i in $(seq 1000); do
    [ "$(ls "$AT_DIR" | grep -c '\.hsnap$')" -gt "$1" ] && return 0
    sleep 0.01
  done
  return 1
}

at_start "$T/target"
at_cmd "a 200000"                    # 20 MB before the attach, freed: not the session's
at_cmd f
rm -f "$AT_DIR"/*.hsnap
at_attach --signal USR2; a=$?
at_cmd "a 100000"                    # 10 MB
kill -USR2 "$AT_PID"; at_snaps_after 0; s1=$?
at_cmd f                             # all of it freed
kill -USR2 "$AT_PID"; at_snaps_after 1; s2=$?
at_cmd "a 1000"                      # 100 KB
at_detach
at_end
ls "$AT_DIR"/*.hsnap >"$T/list" 2>/dev/null
if [ "$a$s1$s2$AT_DETACH_RC" = 0000 ] && [ "$(grep -c . "$T/list")" = 3 ] &&
   "$HEAPSNAP" info --format json $(cat "$T/list") >"$T/info.json" 2>"$T/info.err" &&
   python3 - "$T/info.json" >"$T/py.out" 2>&1 <<'PY'; then
import json, sys
snaps = sorted(json.load(open(sys.argv[1]))["snapshots"], key=lambda s: s["sequence"])
most = 0
for s in snaps:
    cur = s["current_bytes"]
    most = max(most, cur)
    for p in (s["peak_bytes"], s["peak"]["bytes"]):
        assert p >= cur and p >= most, (s["sequence"], s["reason"], p, cur, most)
        assert p < 15 * 10**6, ("the peak from before the attach", p)
assert most >= 10**7, most
PY
  t_pass attach_peak_never_below_a_snapshots_total
else t_fail attach_peak_never_below_a_snapshots_total "attach $a signals $s1/$s2 detach $AT_DETACH_RC: $(cat "$T/list" | tr '\n' ' ') $(tail -c 300 "$T/py.out") $(head -c 200 "$T/info.err")"; fi
