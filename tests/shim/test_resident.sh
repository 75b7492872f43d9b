# tests/shim/test_resident.sh - a mapping partly touched ranks by its
# resident bytes (the MAPPED section's mincore at the snapshot), not its
# mapped size: tests/fixtures/resident.c maps 64 MiB and touches 4 MiB
# (line 21), mallocs 16 MiB and touches it all (line 22), and maps 2 MiB
# touched whole (line 23).  top lists the malloc first, then the 64 MiB
# mapping tagged with resident/mapped ([mmap, 4096 KiB/64.0 MiB
# resident]), then the 2 MiB one ([mmap]: all of it resident); `top
# --format json` gives each mmap group's resident_bytes (none on the
# malloc group) in that order, and `info --format json` the mmap kind's.
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
