# tests/shim/snapshot/test_timeline.sh - memory over time (the SITELINE section and
# `heapsnap timeline`): the phases fixture's sites hold memory in known
# phases (grow_a rises then frees everything, grow_b rises later), sampled
# every 10 ms (HEAPSNAP_SITELINE_COST=0: every point is taken; with the
# default 1%, an idle program's points are fewer); the RSS is there beside
# the heap; the snapshots of one
# process merge; a snapshot without the section (HEAPSNAP_SITELINE=0, or
# a format 1 file) shows the heap alone and says why; damage is refused.
# tier: full (programs run for their phases)
. tests/fixtures/lib.sh
FX_TEST=timeline fx_ready phases spike || return 0

# py NAME SCRIPT FILE: runs the python SCRIPT on the JSON in FILE (as d);
# it prints nothing when the check holds, else why
py() {
  local why
  why=$(python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$3" 2>&1)
  if [ -z "$why" ]; then t_pass "$1"; else t_fail "$1" "$(echo "$why" | tail -3 | tr '\n' ' ')"; fi
}

export HEAPSNAP_SITELINE_COST=0
# stored plain (HEAPSNAP_COMPRESS=0, format 2): a script below edits its SITELINE
if HEAPSNAP_SITELINE=0.01 HEAPSNAP_COMPRESS=0 fx_profile "$T/ph.hsnap" "$FX/phases"; then
  t_pass timeline_phases_profiled
else
  t_fail timeline_phases_profiled "exit $?: $(head -c 300 "$T/fx.err")"
fi
"$HEAPSNAP" timeline "$T/ph.hsnap" >"$T/ph.txt" 2>"$T/ph.err" \
  && "$HEAPSNAP" timeline --format json "$T/ph.hsnap" >"$T/ph.json" 2>>"$T/ph.err" \
  || t_fail timeline_runs "$(head -c 300 "$T/ph.err")"

# The sites by name, and their bytes at each point (0 where a point's slots
# were not all used and the site is not listed: it held nothing).
SITES='p = d["processes"][0]
idx = {s["site"]: i for i, s in enumerate(p["sites"])}
a, b = idx.get("tests/fixtures/phases.c:22"), idx.get("tests/fixtures/phases.c:25")
def at(pt, k):
    for i, v in pt["sites"]:
        if i == k: return v
    return 0 if not pt["full"] else None
A = [(pt["t_ns"], at(pt, a)) for pt in p["points"]]
B = [(pt["t_ns"], at(pt, b)) for pt in p["points"]]
'
py timeline_a_rises_then_falls "$SITES
assert a is not None, 'no grow_a site: %s' % list(idx)
top = max(range(len(A)), key=lambda i: A[i][1])
assert A[top][1] >= 4 << 20, 'grow_a peaked at %d bytes' % A[top][1]
assert any(v < A[top][1] for t, v in A[:top]), 'grow_a did not rise'
assert A[-1][1] == 0 and any(v == 0 for t, v in A[top:]), 'grow_a did not fall to 0: %s' % A[top:]
" "$T/ph.json"
py timeline_b_rises_later "$SITES
assert b is not None, 'no grow_b site: %s' % list(idx)
last_a = max(t for t, v in A if v)
first_b = min(t for t, v in B if v)
assert first_b > last_a, 'grow_b from %d ns, grow_a until %d ns' % (first_b, last_a)
assert B[-1][1] == 4 << 20, 'grow_b ends with %s bytes' % B[-1][1]
assert all(v is not None and v > 0 for t, v in B if t >= first_b)
" "$T/ph.json"
py timeline_rss_beside_heap 'p = d["processes"][0]
assert p["recorded"] == {"rss": True, "sites": True}, p["recorded"]
pts = [pt for pt in p["points"] if not pt.get("captured_peak")]
assert len(pts) >= 20, "%d points" % len(pts)
assert all(pt["rss"] for pt in pts), "a point without rss"
pk = p["points"][p["peak"]["point"]]
assert pk["heap"] == 6 << 20, pk["heap"]
# touched blocks of 256 KiB: resident, so the rss holds the heap.  A
# point reads the heap, then the rss: frees that come between (phase 2
# frees 24 blocks at once, and a busy machine may stop the helper there)
# are in its rss and in the next point'"'"'s heap, not in its own
low = [(a["heap"], a["rss"]) for a, b in zip(pts, pts[1:] + [None])
       if a["rss"] < min(a["heap"], b["heap"] if b else a["heap"])]
assert not low, low
assert all(pt["other"] + sum(v for i, v in pt["sites"]) == pt["heap"] for pt in p["points"])
' "$T/ph.json"
py timeline_json_schema 'assert d["schema"] == "heapsnap-timeline" and d["version"] == 1, d.get("schema")
p = d["processes"][0]
assert p["format"] == 2 and p["sites_per_point"] == 8 and p["first_step_ns"] == 10000000, p
sn = p["snapshots"]
assert len(sn) == 1 and sn[0]["path"].endswith("/ph.hsnap") and sn[0]["pid"] == p["pid"], sn
assert sn[0]["time_ns"] > p["start_ns"] and sn[0]["sample_interval"] == 0, sn
assert p["step_ns"] >= p["first_step_ns"]
assert [pt["t_ns"] for pt in p["points"]] == sorted(pt["t_ns"] for pt in p["points"])
' "$T/ph.json"
# the text: the sites named, the columns, the peak marked
if grep -q '^  \[1\] tests/fixtures/phases.c:22  grow_a$' "$T/ph.txt" &&
   grep -q '^  \[2\] tests/fixtures/phases.c:25  grow_b$' "$T/ph.txt" &&
   grep -qE '^ +time +heap +rss +\[1\] +\[2\] +other$' "$T/ph.txt" &&
   [ "$(grep -c '<- peak$' "$T/ph.txt")" = 1 ] &&
   grep -q '^peak: 6144 KiB at [0-9.]* s; tests/fixtures/phases.c:22 6144 KiB$' "$T/ph.txt"; then
  t_pass timeline_text_columns
else
  t_fail timeline_text_columns "$(head -c 600 "$T/ph.txt")"
fi

# info says what the snapshot holds
"$HEAPSNAP" info "$T/ph.hsnap" >"$T/info.txt" 2>&1
if grep -qE '^memory over time: +[0-9]+ points, RSS and the 8 largest sites at each \(heapsnap timeline\)$' "$T/info.txt"; then
  t_pass timeline_info_line
else
  t_fail timeline_info_line "$(grep -i 'memory over\|timeline' "$T/info.txt")"
fi

# Several snapshots of one process (interval ones and the exit one): one
# table, the points of all of them once each, in time order.
if HEAPSNAP_SITELINE=0.01 HEAPSNAP_INTERVAL=0.2 fx_profile "$T/iv.%n.hsnap" "$FX/phases" &&
   n=$(ls "$T"/iv.*.hsnap | wc -l) && [ "$n" -ge 3 ] &&
   "$HEAPSNAP" timeline --format json "$T"/iv.*.hsnap >"$T/iv.json" 2>"$T/iv.err"; then
  py timeline_snapshots_of_one_process_merge "p = d['processes']
assert len(p) == 1, '%d processes' % len(p)
p = p[0]
assert len(p['snapshots']) == $n, p['snapshots']
t = [pt['t_ns'] for pt in p['points']]
assert t == sorted(set(t)), 'points twice or out of order'
assert t[-1] >= 700 * 10**6, 'last point at %d ns' % t[-1]
" "$T/iv.json"
else
  t_fail timeline_snapshots_of_one_process_merge "$(ls "$T"; head -c 300 "$T/iv.err" "$T/fx.err")"
fi

# The walks' cost limit (the default, 1%): phases is idle most of the time,
# so a walk waits until ten times its budget has passed on the clock: fewer
# points than without it (how many fewer is the machine's timing: 84 -> 44
# on a loaded run, so no ratio is judged).  HEAPSNAP_PEAK=off: the points
# walk (sl_way); those from the per-trace lines cost a few cells a trace,
# and their budget may skip none in phases' run.
HEAPSNAP_PEAK=off HEAPSNAP_SITELINE_COST=1 HEAPSNAP_SITELINE=0.01 fx_profile "$T/cost.hsnap" "$FX/phases"
"$HEAPSNAP" timeline --format json "$T/cost.hsnap" >"$T/cost.json" 2>&1
py timeline_cost_limit_skips_points "n = len(d['processes'][0]['points'])
m = len(json.load(open('$T/ph.json'))['processes'][0]['points'])
assert 2 <= n < m, '%d points with the limit, %d without' % (n, m)
" "$T/cost.json"

# Without the section: the heap alone, and one line saying why.
HEAPSNAP_SITELINE=0 fx_profile "$T/off.hsnap" "$FX/phases"
"$HEAPSNAP" timeline "$T/off.hsnap" >"$T/off.txt" 2>&1
if head -1 "$T/off.txt" | grep -q ', traced heap only: RSS and sites were not recorded (HEAPSNAP_SITELINE=0)$' &&
   "$HEAPSNAP" info "$T/off.hsnap" | grep -q '^memory over time: *not recorded (HEAPSNAP_SITELINE=0)$' &&
   sed -n 2p "$T/off.txt" | grep -qE '^ +time +heap$' && grep -q '^peak: ' "$T/off.txt"; then
  t_pass timeline_off_heap_only
else
  t_fail timeline_off_heap_only "$(head -c 400 "$T/off.txt")"
fi
# a format 1 file (checked in, written before SITELINE existed) still loads
"$HEAPSNAP" timeline tests/fuzz/corpus/real_sites.hsnap >"$T/v1.txt" 2>&1
if head -1 "$T/v1.txt" | grep -q 'RSS and sites were not recorded (snapshot format 1)$' &&
   grep -q '^peak: 1087 KiB at ' "$T/v1.txt"; then
  t_pass timeline_format_1_file_heap_only
else
  t_fail timeline_format_1_file_heap_only "$(head -c 400 "$T/v1.txt")"
fi
py timeline_format_1_json 'p = d["processes"][0]
assert p["format"] == 1 and p["recorded"] == {"rss": False, "sites": False}, p
assert all(pt["rss"] is None and "sites" not in pt for pt in p["points"])
assert p["peak"]["heap"] == max(pt["heap"] for pt in p["points"])
' <("$HEAPSNAP" timeline --format json tests/fuzz/corpus/real_sites.hsnap 2>/dev/null)

# A damaged SITELINE (a site naming a trace that does not exist, checksum
# mended) is refused with one line naming the section.
python3 - "$T/ph.hsnap" "$T/bad.hsnap" <<'PY'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], 'rb').read())
off = 24
while off < len(d):
    t, crc, n = struct.unpack_from('<IIQ', d, off)
    if t == 10:
        struct.pack_into('<I', d, off + 16 + 32 + 32, 0x7fffffff)  # point 0, site 0's trace
        struct.pack_into('<I', d, off + 4, zlib.crc32(bytes(d[off + 16:off + 16 + n])))
    off += 16 + n
open(sys.argv[2], 'wb').write(d)
PY
"$HEAPSNAP" timeline "$T/bad.hsnap" >"$T/bad.out" 2>&1; rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$T/bad.out")" = 1 ] &&
   grep -q 'section SITELINE: point 0: trace id 2147483647 out of range' "$T/bad.out"; then
  t_pass timeline_damaged_siteline_refused
else
  t_fail timeline_damaged_siteline_refused "exit $rc: $(head -c 300 "$T/bad.out")"
fi

# The traced peak is a point of the line: spike rises by 16 MiB and falls
# within a millisecond, between two samples (every 0.1 s), so only the
# shim's peak capture saw it.  The timeline, the HTML report's heap line and
# the massif export all reach the traced peak (info's peak_bytes: 21 MiB).
for mode in sites heap; do
  if [ $mode = sites ]; then sl=0.1; else sl=0; fi
  HEAPSNAP_SITELINE=$sl fx_profile "$T/spike_$mode.hsnap" "$FX/spike" \
    || t_fail timeline_spike_profiled "exit $?: $(head -c 300 "$T/fx.err")"
  "$HEAPSNAP" timeline --format json "$T/spike_$mode.hsnap" >"$T/spike_$mode.json" 2>&1
  "$HEAPSNAP" info --format json "$T/spike_$mode.hsnap" >"$T/spike_$mode.info" 2>&1
  py timeline_peak_is_a_point_$mode "peak = json.load(open('$T/spike_$mode.info'))['snapshots'][0]['peak_bytes']
assert peak == 21 << 20, 'traced peak %d' % peak
p = d['processes'][0]
top = max(pt['heap'] for pt in p['points'])
assert top == peak, 'the line tops out at %d bytes, the traced peak is %d' % (top, peak)
pk = p['points'][p['peak']['point']]
assert pk['heap'] == peak and pk.get('captured_peak'), pk
if '$mode' == 'sites':
    names = {i: s['site'] for i, s in enumerate(p['sites'])}
    at = {names[i]: v for i, v in pk['sites']}
    assert at.get('tests/fixtures/spike.c:21') == 16 << 20 and at.get('tests/fixtures/spike.c:20') == 5 << 20, at
" "$T/spike_$mode.json"
done
"$HEAPSNAP" timeline "$T/spike_sites.hsnap" >"$T/spike.txt" 2>&1
if grep -qE '^ +[0-9.]+ s +21.0 MiB +\* +16.0 MiB +5120 KiB +0 B  <- peak$' "$T/spike.txt" &&
   grep -q '^\*: not a sample: the traced peak, when the shim captured it' "$T/spike.txt"; then
  t_pass timeline_peak_row_marked
else
  t_fail timeline_peak_row_marked "$(head -c 900 "$T/spike.txt")"
fi
if "$HEAPSNAP" html -o "$T/spike.html" "$T/spike_sites.hsnap" 2>"$T/spike.err"; then
  python3 - "$T/spike.html" >"$T/spike.data" <<'PY'
import re, sys
print(re.search(r'<script type="application/json" id="heapsnap-data">(.*?)</script>',
                open(sys.argv[1]).read(), re.S).group(1))
PY
  py timeline_html_heap_line_reaches_peak "heap = [s for s in d['series'] if s['kind'] == 'heap']
assert len(heap) == 1, heap
assert max(heap[0]['v']) == d['snapshots'][0]['peak'] == 21 << 20, (max(heap[0]['v']), d['snapshots'][0]['peak'])
" "$T/spike.data"
else
  t_fail timeline_html_heap_line_reaches_peak "$(head -c 300 "$T/spike.err")"
fi
if "$HEAPSNAP" export --format massif -o "$T/spike.massif" "$T/spike_sites.hsnap" 2>"$T/spike.err"; then
  top=$(sed -n 's/^mem_heap_B=//p' "$T/spike.massif" | sort -n | tail -1)
  n=$(grep -c '^mem_heap_B=22020096$' "$T/spike.massif")
  if [ "$top" = 22020096 ] && [ "$n" = 1 ] && grep -q '^heap_tree=peak$' "$T/spike.massif"; then
    t_pass timeline_massif_peak_once
  else
    t_fail timeline_massif_peak_once "top $top, $n snapshots at the peak"
  fi
else
  t_fail timeline_massif_peak_once "$(head -c 300 "$T/spike.err")"
fi

t_status timeline_needs_snapshot 2 "$HEAPSNAP" timeline
t_status timeline_bad_format 2 "$HEAPSNAP" timeline --format xml "$T/ph.hsnap"
t_status timeline_bad_columns 2 "$HEAPSNAP" timeline -n 17 "$T/ph.hsnap"
