# tests/shim/test_resident.sh - a mapping partly touched ranks by its
# resident bytes (the MAPPED section's mincore at the snapshot), not its
# mapped size: tests/fixtures/resident.c maps 64 MiB and touches 4 MiB
# (line 21), mallocs 16 MiB and touches it all (line 22), and maps 2 MiB
# touched whole (line 23).  top lists the malloc first, then the 64 MiB
# mapping tagged with resident/mapped ([mmap, 4096 KiB/64.0 MiB
# resident]), then the 2 MiB one ([mmap]: all of it resident); `top
# --format json` gives each mmap group's resident_bytes (none on the
# malloc group) in that order, and `info --format json` the mmap kind's.
# The peak likewise: run's summary, info and `top --peak` leave the
# mapping's untouched 60 MiB out of what they rank and say is touched.
. tests/fixtures/lib.sh
FX_TEST=resident fx_ready resident || return 0
RX=tests/fixtures/resident.c
MiB=1048576

if ! fx_profile "$T/r.hsnap" "$FX/resident" || [ ! -s "$T/r.hsnap" ]; then
  t_fail resident_fixture "exit $?: $(head -c 300 "$T/fx.err")"
  return 0
fi
fx_top resident_top "$T/r.hsnap" -n 0 --include "*resident.c" || return 0
printf '%s\n' "$RX:22: size=16.0 MiB, count=1, average=16.0 MiB" \
  "$RX:21: size=64.0 MiB, count=1, average=64.0 MiB [mmap, 4096 KiB/64.0 MiB resident]" \
  "$RX:23: size=2048 KiB, count=1, average=2048 KiB [mmap]" >"$T/want.txt"
if diff -u "$T/want.txt" "$T/resident_top.txt" >"$T/top.diff"; then
  t_pass resident_partly_touched_mapping_ranks_below_touched_malloc
else t_fail resident_partly_touched_mapping_ranks_below_touched_malloc "$(tr '\n' '|' <"$T/top.diff" | head -c 500)"; fi

# --kind mmap alone: the same share, without the kind's name
"$HEAPSNAP" top "$T/r.hsnap" -n 1 --kind mmap >"$T/mmap.txt" 2>&1
if grep -qxF "$RX:21: size=64.0 MiB, count=1, average=64.0 MiB [4096 KiB/64.0 MiB resident]" "$T/mmap.txt"; then
  t_pass resident_share_shown_under_kind_mmap
else t_fail resident_share_shown_under_kind_mmap "$(head -c 300 "$T/mmap.txt")"; fi

"$HEAPSNAP" top "$T/r.hsnap" -n 0 --include "*resident.c" --format json >"$T/top.json" 2>"$T/top.err" &&
python3 - "$T/top.json" >"$T/tj.err" 2>&1 <<'PY' && t_pass resident_top_json_field || t_fail resident_top_json_field "$(tail -c 300 "$T/tj.err") $(head -c 200 "$T/top.err")"
import json, sys
g = json.load(open(sys.argv[1]))["groups"]
got = [(x["key"].rsplit(":", 1)[1], x.get("kind"), x["bytes"], x.get("resident_bytes")) for x in g]
assert got == [("22", None, 16 << 20, None), ("21", "mmap", 64 << 20, 4 << 20),
               ("23", "mmap", 2 << 20, 2 << 20)], got
PY
"$HEAPSNAP" info "$T/r.hsnap" --format json >"$T/info.json" 2>/dev/null &&
python3 - "$T/info.json" >"$T/ij.err" 2>&1 <<'PY' && t_pass resident_info_json_field || t_fail resident_info_json_field "$(tail -c 300 "$T/ij.err")"
import json, sys
s = json.load(open(sys.argv[1]))["snapshots"][0]
assert s["kinds"]["mmap"] == {"bytes": 66 << 20, "ranges": 2, "resident_bytes": 6 << 20}, s["kinds"]
assert s["mmap_resident_bytes"] == 6 << 20, s.get("mmap_resident_bytes")
PY

# The peak leaves out mapped pages nothing touched (peak_resident): run's
# summary says how much of the 82 MiB peak was touched (16 + 4 + 2 MiB) and
# names the malloc, not the 64 MiB mapping; the exit line likewise; info
# gives "peak touched" and JSON peak.touched_bytes; top --peak ranks as top.
"$HEAPSNAP" run -o "$T/run.hsnap" -- "$FX/resident" >"$T/run.out" 2>&1
if grep -qxF "heapsnap: at exit 82.0 MiB in 3 blocks, 22.0 MiB of it touched" "$T/run.out" &&
   grep -q "^heapsnap: peak 82.0 MiB in 3 blocks at [0-9.]* s, 22.0 MiB of it touched; most at $RX:22 (16.0 MiB in 1 blocks)\$" "$T/run.out"; then
  t_pass resident_run_peak_touched_and_first_site
else t_fail resident_run_peak_touched_and_first_site "$(grep -E 'peak|exit' "$T/run.out" | tr '\n' '|' | head -c 400)"; fi
"$HEAPSNAP" info "$T/r.hsnap" >"$T/info.txt" 2>&1
if grep -qxF "peak touched:     22.0 MiB (60.0 MiB mapped and not touched by the snapshot left out)" "$T/info.txt" &&
   python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['snapshots'][0]['peak']; assert p['touched_bytes'] == 22 << 20 and p['bytes'] == 82 << 20, p" "$T/info.json"; then
  t_pass resident_info_peak_touched
else t_fail resident_info_peak_touched "$(grep -A1 '^peak held' "$T/info.txt" | tr '\n' '|')"; fi
"$HEAPSNAP" top --peak "$T/r.hsnap" -n 0 --include "*resident.c" >"$T/peak.txt" 2>&1
if diff -q "$T/want.txt" "$T/peak.txt" >/dev/null; then t_pass resident_top_peak_ranks_by_touched_bytes
else t_fail resident_top_peak_ranks_by_touched_bytes "$(tr '\n' '|' <"$T/peak.txt" | head -c 400)"; fi
