# tests/shim/test_reserve.sh - address space is not memory: tests/fixtures/reserve.c
# reserves 4 GiB and 1 GiB PROT_NONE (as the CUDA driver and jemalloc do) and
# commits pieces by mprotect and mmap MAP_FIXED at known lines, beside a
# 512 MiB arena it never touches and a 1 MiB malloc.  top and run's peak show the
# committed pieces at the lines that committed them, never a reservation, and
# top lists the untouched arena last, tagged [mmap, untouched], and a piece
# partly resident with its resident/mapped bytes ([mmap, 40.0 MiB/48.0 MiB resident]);
# info, its JSON and run's summary give the reserved total apart, and the
# resident share of each mapped site (the untouched arena: none).  One peak:
# in every mode (exit, --leaks, a signal's snapshot, an interval's, forked
# workers) no snapshot's peak is below its total or below an earlier
# snapshot's total of the same process.
. tests/fixtures/lib.sh
FX_TEST=reserve fx_ready reserve || return 0
MiB=1048576
RX=tests/fixtures/reserve.c

if ! fx_profile "$T/r.hsnap" "$FX/reserve" || [ ! -s "$T/r.hsnap" ]; then
  t_fail reserve_fixture "exit $?: $(head -c 300 "$T/fx.err")"
  return 0
fi
fx_top reserve_top "$T/r.hsnap" -n 0 || return 0
has() { grep -qxF "$RX:$1" "$T/reserve_top.txt"; }
check() { # NAME CONDITION...
  local name=$1; shift
  if "$@"; then t_pass "$name"; else t_fail "$name" "$(grep -h "reserve.c" "$T/reserve_top.txt" | head -8 | tr '\n' '|')"; fi
}
check reserve_commit_by_mprotect has "43: size=48.0 MiB, count=1, average=48.0 MiB [mmap, 40.0 MiB/48.0 MiB resident]"
check reserve_commit_by_map_fixed has "50: size=24.0 MiB, count=3, average=8192 KiB [mmap, 8192 KiB/24.0 MiB resident]"
check reserve_commit_piecewise has "53: size=4096 KiB, count=1, average=4096 KiB [mmap]"
check reserve_never_a_site eval '! grep -qE "^$RX:(42|47|51):" "$T/reserve_top.txt"'
check reserve_untouched_arena_counted has "55: size=512 MiB, count=1, average=512 MiB [mmap, untouched]"
# no page of it resident at the snapshot (MAPPED): listed after every
# site that holds memory, the 1 MiB malloc's included, never first
check reserve_untouched_arena_listed_last eval '[ "$(tail -1 "$T/reserve_top.txt")" = "$RX:55: size=512 MiB, count=1, average=512 MiB [mmap, untouched]" ] &&
  head -1 "$T/reserve_top.txt" | grep -q "^$RX:43: "'

"$HEAPSNAP" info "$T/r.hsnap" >"$T/info.txt" 2>&1
want=$(( (4096 - 48 + 1024 - 24 - 4) * MiB ))
grep -qxF "traced current:   589 MiB ($((589 * MiB)) bytes)" "$T/info.txt" &&
  grep -qxF "traced peak:      589 MiB ($((589 * MiB)) bytes)" "$T/info.txt" &&
  grep -qxF "reserved:         5044 MiB in 8 ranges (address space, not counted)" "$T/info.txt" &&
  grep -qxF "mmap resident:    52.0 MiB of the 588 MiB mapped (pages touched at the snapshot)" "$T/info.txt" &&
  t_pass reserve_info_apart || t_fail reserve_info_apart "$(grep -E 'traced|reserved|resident' "$T/info.txt" | tr '\n' '|')"
"$HEAPSNAP" info "$T/r.hsnap" --format json >"$T/info.json" 2>/dev/null &&
python3 - "$T/info.json" "$want" >"$T/j.err" 2>&1 <<'PY' && t_pass reserve_info_json || t_fail reserve_info_json "$(tail -c 300 "$T/j.err")"
import json, sys
s = json.load(open(sys.argv[1]))["snapshots"][0]
assert s["reserved"] == {"bytes": int(sys.argv[2]), "ranges": 8}, s.get("reserved")
assert s["mmap_resident_bytes"] == 52 << 20, s.get("mmap_resident_bytes")
assert s["current_bytes"] == 589 << 20 and s["peak_bytes"] == 589 << 20, s
PY

# run's summary: the peak holds the committed pieces, the reserved total
# apart, and names what was touched: the untouched arena (line 55) is
# neither the first site nor in the touched figure
"$HEAPSNAP" run -o "$T/run.hsnap" "$FX/reserve" >"$T/run.out" 2>"$T/run.err"
grep -qF "heapsnap: peak 589 MiB in 7 blocks at " "$T/run.err" &&
  grep -qF " s, 53.0 MiB of it touched; most at $RX:43 (48.0 MiB in 1 blocks)" "$T/run.err" &&
  grep -qxF "heapsnap: reserved: 5044 MiB in 8 ranges (address space, not counted)" "$T/run.err" &&
  t_pass reserve_run_summary || t_fail reserve_run_summary "$(grep heapsnap: "$T/run.err" | head -5 | tr '\n' '|')"

# one peak: every snapshot of a process has a peak (the capture, PEAK, and
# META's) at or above its own total and every earlier snapshot's total
peaks_ok() { # NAME SNAP...
  local name=$1; shift
  if "$HEAPSNAP" info --format json "$@" >"$T/$name.json" 2>"$T/$name.err" &&
    python3 - "$T/$name.json" >"$T/$name.py" 2>&1 <<'PY'; then t_pass "$name"; else t_fail "$name" "$(tail -c 300 "$T/$name.py") $(head -c 200 "$T/$name.err")"; fi
import json, sys
snaps = json.load(open(sys.argv[1]))["snapshots"]
assert len(snaps) >= 1
seen = {}
for s in sorted(snaps, key=lambda s: (s["pid"], s["sequence"])):
    cur, most = s["current_bytes"], seen.get(s["pid"], 0)
    seen[s["pid"]] = max(most, cur)
    for p in (s["peak_bytes"], s["peak"]["bytes"]):
        assert p >= cur and p >= most, (s["pid"], s["sequence"], s["reason"], p, cur, most)
print(len(snaps), "snapshots")
PY
}
peaks_ok reserve_peak_at_exit "$T/r.hsnap"
if "$HEAPSNAP" run --leaks -o "$T/l.hsnap" "$FX/reserve" >"$T/l.out" 2>"$T/l.err"; then
  peaks_ok reserve_peak_leaks "$T/l.hsnap"
  grep -qF "heapsnap: peak 589 MiB in 7 blocks at " "$T/l.err" && grep -qF "heapsnap: at exit 589 MiB" "$T/l.err" &&
    t_pass reserve_peak_leaks_summary || t_fail reserve_peak_leaks_summary "$(grep heapsnap: "$T/l.err" | head -3 | tr '\n' '|')"
else t_fail reserve_peak_leaks "exit $?: $(head -c 300 "$T/l.err")"; fi
if HEAPSNAP_SIGNAL=USR2 fx_profile "$T/s.%n.hsnap" "$FX/reserve" signal; then
  ls "$T"/s.*.hsnap >"$T/s.list" 2>/dev/null
  [ "$(grep -c . "$T/s.list")" = 2 ] && peaks_ok reserve_peak_signal $(cat "$T/s.list") ||
    t_fail reserve_peak_signal "$(cat "$T/s.list" | tr '\n' ' ')"
else t_fail reserve_peak_signal "exit $?: $(head -c 300 "$T/fx.err")"; fi
if HEAPSNAP_INTERVAL=1 fx_profile "$T/i.%n.hsnap" "$FX/reserve" sleep; then
  ls "$T"/i.*.hsnap >"$T/i.list" 2>/dev/null
  [ "$(grep -c . "$T/i.list")" -ge 3 ] && peaks_ok reserve_peak_interval $(cat "$T/i.list") ||
    t_fail reserve_peak_interval "$(cat "$T/i.list" | tr '\n' ' ')"
else t_fail reserve_peak_interval "exit $?: $(head -c 300 "$T/fx.err")"; fi
if fx_profile "$T/f.%p.hsnap" "$FX/reserve" fork; then
  ls "$T"/f.*.hsnap >"$T/f.list" 2>/dev/null
  [ "$(grep -c . "$T/f.list")" = 2 ] && peaks_ok reserve_peak_workers $(cat "$T/f.list") ||
    t_fail reserve_peak_workers "$(cat "$T/f.list" | tr '\n' ' ')"
else t_fail reserve_peak_workers "exit $?: $(head -c 300 "$T/fx.err")"; fi
