# tests/shim/test_mapped.sh - memory mapped outside malloc (the mmap kind):
# tests/fixtures/mapped.c maps, remaps (MREMAP_MAYMOVE, MREMAP_FIXED) and
# unmaps at known lines beside one
# 32 MiB malloc; top lists each mapped site with its exact bytes and line,
# tagged [mmap], and the malloc once (glibc maps it itself: malloc kind
# only); a mapping no page of which is resident at the snapshot (all but
# line 52's) after the malloc, tagged [mmap, untouched]; --kind separates them; info sums each kind
# (the mmap kind's resident bytes in JSON) and counts the file-backed mapping; the failed 1 TiB mmap is on record; four threads
# mapping at once leave exact sums; the leak check never calls a mapping
# lost; timeline --kind separates the kinds over time.
. tests/fixtures/lib.sh
FX_TEST=mapped fx_ready mapped || return 0
G=tests/golden
MiB=1048576

if ! fx_profile "$T/m.hsnap" "$FX/mapped" || [ ! -s "$T/m.hsnap" ]; then
  t_fail mapped_fixture "exit $?: $(head -c 300 "$T/fx.err")"
  return 0
fi
fx_top mapped_top "$T/m.hsnap" -n 0 && t_golden mapped_top "$G/mapped_top.txt" "$T/mapped_top.txt"
"$HEAPSNAP" top "$T/m.hsnap" --sort allocations -n 0 >"$T/allocs.txt" 2>&1
has() { grep -qxF "tests/fixtures/mapped.c:$1" "$T/mapped_top.txt"; }
lacks() { ! grep -q "^tests/fixtures/mapped.c:$1:" "$T/mapped_top.txt"; }
check() { # NAME CONDITION...: pass when the condition holds
  local name=$1; shift
  if "$@"; then t_pass "$name"; else t_fail "$name" "$(grep -h "mapped.c" "$T/mapped_top.txt" | head -12 | tr '\n' '|')"; fi
}
check mapped_site_64mib has "52: size=64.0 MiB, count=1, average=64.0 MiB [mmap]"
"$HEAPSNAP" info "$T/m.hsnap" >"$T/info.txt" 2>&1
check mapped_malloc_counted_once eval 'has "54: size=32.0 MiB, count=1, average=32.0 MiB" &&
  [ "$(grep -c "^tests/fixtures/mapped.c:54:" "$T/mapped_top.txt")" = 1 ] &&
  grep -q "^by kind: *malloc 32.0 MiB in 1 block, mmap 139 MiB" "$T/info.txt"'
check mapped_mremap_grow_16_to_48 eval 'has "57: size=48.0 MiB, count=1, average=48.0 MiB [mmap, untouched]" && lacks 56'
check mapped_mremap_shrink_in_place eval 'has "59: size=3072 KiB, count=1, average=3072 KiB [mmap, untouched]" && lacks 58'
check mapped_half_unmapped has "60: size=4096 KiB, count=1, average=4096 KiB [mmap, untouched]"
check mapped_hole_splits_range has "62: size=8192 KiB, count=2, average=4096 KiB [mmap, untouched]"
check mapped_unmapped_whole eval 'lacks 64 && grep -qxF "tests/fixtures/mapped.c:64: allocations=1, allocated=2048 KiB, average=2048 KiB (live: size=0 B, count=0) [mmap]" "$T/allocs.txt"'
check mapped_fixed_replaces eval 'has "66: size=4096 KiB, count=2, average=2048 KiB [mmap, untouched]" &&
  has "67: size=2048 KiB, count=1, average=2048 KiB [mmap, untouched]"'
check mapped_shared_anonymous has "68: size=1024 KiB, count=1, average=1024 KiB [mmap, untouched]"
check mapped_mremap_fixed_moves_over_a_mapping eval 'has "74: size=4096 KiB, count=1, average=4096 KiB [mmap, untouched]" &&
  has "72: size=1024 KiB, count=1, average=1024 KiB [mmap, untouched]" && lacks 73 &&
  grep -qxF "tests/fixtures/mapped.c:73: allocations=1, allocated=4096 KiB, average=4096 KiB (live: size=0 B, count=0) [mmap]" "$T/allocs.txt"'

# --kind: each kind alone (no tag then), and a bad value refused
fx_top mapped_malloc "$T/m.hsnap" -n 0 --kind malloc &&
  { [ "$(grep -c . "$T/mapped_malloc.txt")" = 1 ] &&
    grep -qxF "tests/fixtures/mapped.c:54: size=32.0 MiB, count=1, average=32.0 MiB" "$T/mapped_malloc.txt" &&
    t_pass mapped_kind_malloc || t_fail mapped_kind_malloc "$(head -c 300 "$T/mapped_malloc.txt")"; }
fx_top mapped_mmap "$T/m.hsnap" -n 0 --kind mmap &&
  { diff <(grep -F '[mmap' "$G/mapped_top.txt" | sed 's/ \[mmap\]$//; s/ \[mmap, untouched\]$/ [untouched]/') \
      "$T/mapped_mmap.txt" >"$T/k.diff" &&
    t_pass mapped_kind_mmap || t_fail mapped_kind_mmap "$(head -c 300 "$T/k.diff")"; }
"$HEAPSNAP" top "$T/m.hsnap" --kind heap >"$T/bad.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -qF "bad value for --kind: 'heap'" "$T/bad.out" && t_pass mapped_kind_bad_value ||
  t_fail mapped_kind_bad_value "exit $rc: $(head -c 200 "$T/bad.out")"
"$HEAPSNAP" diff "$T/m.hsnap" "$T/m.hsnap" --kind mmap -n 1 >"$T/d.out" 2>&1 &&
  grep -qxF "tests/fixtures/mapped.c:52: size=64.0 MiB (+0 B), count=1 (+0), average=64.0 MiB" "$T/d.out" &&
  t_pass mapped_kind_diff || t_fail mapped_kind_diff "$(head -c 300 "$T/d.out")"

# the failed 1 TiB mmap (ENOMEM under RLIMIT_AS) at its line
fx_top mapped_failed "$T/m.hsnap" --failed &&
  grep -qxF "tests/fixtures/mapped.c:69: failed=1, largest=1024 GiB" "$T/mapped_failed.txt" &&
  "$HEAPSNAP" top "$T/m.hsnap" --failed --kind mmap | grep -qF "mapped.c:69: failed=1" &&
  t_pass mapped_failed_recorded || t_fail mapped_failed_recorded "$(head -c 300 "$T/mapped_failed.txt")"

# info: each kind's sums, the file-backed mapping, the traced total of both
grep -qxF "by kind:          malloc 32.0 MiB in 1 block, mmap 139 MiB in 12 ranges" "$T/info.txt" &&
  grep -qxF "file mappings:    1 made (files: not heap, not counted)" "$T/info.txt" &&
  grep -qxF "traced current:   171 MiB ($((171 * MiB)) bytes)" "$T/info.txt" &&
  t_pass mapped_info_kinds || t_fail mapped_info_kinds "$(grep -E 'kind|mappings|current' "$T/info.txt" | tr '\n' '|')"
"$HEAPSNAP" info "$T/m.hsnap" --format json >"$T/info.json" 2>/dev/null &&
python3 - "$T/info.json" >"$T/j.err" 2>&1 <<'PY' && t_pass mapped_info_json || t_fail mapped_info_json "$(tail -c 300 "$T/j.err")"
import json, sys
k = json.load(open(sys.argv[1]))["snapshots"][0]["kinds"]
assert k == {"malloc": {"bytes": 32 << 20, "blocks": 1},
             "mmap": {"bytes": 139 << 20, "ranges": 12, "resident_bytes": 64 << 20},
             "file_maps": 1}, k
PY

# four threads mapping and unmapping at once: 8000 mappings, 200 kept
if fx_profile "$T/t.hsnap" "$FX/mapped" threads; then
  fx_top mapped_threads "$T/t.hsnap" --kind mmap --sort allocations -n 0 &&
    grep -qxF "tests/fixtures/mapped.c:28: allocations=8000, allocated=500 MiB, average=64.0 KiB (live: size=12.5 MiB, count=200)" \
      "$T/mapped_threads.txt" && [ "$(grep -c . "$T/mapped_threads.txt")" = 1 ] &&
    t_pass mapped_threads_concurrent || t_fail mapped_threads_concurrent "$(head -c 300 "$T/mapped_threads.txt")"
else t_fail mapped_threads_concurrent "exit $?: $(head -c 300 "$T/fx.err")"; fi

# the leak check: mappings are roots, never blocks; none is called lost
if HEAPSNAP_LEAKS=1 fx_profile "$T/l.hsnap" "$FX/mapped"; then
  "$HEAPSNAP" leaks "$T/l.hsnap" >"$T/leaks.txt" 2>&1
  ! grep -E "mapped\.c:(5[0-35-9]|6[0-9])\b" "$T/leaks.txt" >/dev/null &&
    "$HEAPSNAP" top "$T/l.hsnap" -n 1 | grep -qF "mapped.c:52: size=64.0 MiB" &&
    t_pass mapped_never_lost || t_fail mapped_never_lost "$(grep mapped.c "$T/leaks.txt" | head -5 | tr '\n' '|')"
else t_fail mapped_never_lost "exit $?: $(head -c 300 "$T/fx.err")"; fi

# export and html take --kind: the malloc site alone, or the mapped ones alone
"$HEAPSNAP" export --format folded --kind malloc "$T/m.hsnap" >"$T/fm.txt" 2>&1 &&
"$HEAPSNAP" export --format folded --kind mmap "$T/m.hsnap" >"$T/fp.txt" 2>&1 &&
  [ "$(grep -c . "$T/fm.txt")" = 1 ] && grep -q "(tests/fixtures/mapped.c:54) 33554432$" "$T/fm.txt" &&
  [ "$(grep -c . "$T/fp.txt")" = 10 ] && ! grep -q "mapped.c:54)" "$T/fp.txt" &&
  grep -q "(tests/fixtures/mapped.c:52) 67108864$" "$T/fp.txt" &&
  t_pass mapped_kind_export || t_fail mapped_kind_export "$(head -c 300 "$T/fm.txt")"
"$HEAPSNAP" html -o "$T/k.html" --kind mmap "$T/m.hsnap" >"$T/h.out" 2>&1 &&
  grep -qF '"tests/fixtures/mapped.c:52"' "$T/k.html" && ! grep -qF '"tests/fixtures/mapped.c:54"' "$T/k.html" &&
  t_pass mapped_kind_html || t_fail mapped_kind_html "$(head -c 300 "$T/h.out")"

# timeline --kind: each kind's heap at every point (MAPLINE) and its sites;
# the two kinds add up to the whole at every sample; the snapshot's own
# point holds exactly what info says of each kind
for k in mmap malloc; do
  echo "== --kind $k -n 2"
  "$HEAPSNAP" timeline --kind $k -n 2 "$T/m.hsnap" 2>&1 |
    awk '/^  \[/ { print; next } /^ *time / { print; next }
         /^ *[0-9.]+ s / { last = $0 } /^peak:/ { print last }' |
    sed -E 's/^ *[0-9.]+ s +([^ ]+ [^ ]+) +([^ ]+ [^ ]+|[*?]) /  T s  \1  R  /; s/  <- peak$//'
done >"$T/tl_kinds.txt"
t_golden mapped_timeline_kinds "$G/mapped_timeline_kinds.txt" "$T/tl_kinds.txt"
for k in all malloc mmap; do
  "$HEAPSNAP" timeline --kind $k --format json "$T/m.hsnap" >"$T/tl_$k.json" 2>"$T/tl.err" || break
done
python3 - "$T" >"$T/tlj.err" 2>&1 <<'PY' && t_pass mapped_timeline_kinds_add_up || t_fail mapped_timeline_kinds_add_up "$(tail -c 300 "$T/tlj.err") $(head -c 200 "$T/tl.err")"
import json, sys
pts = {k: json.load(open("%s/tl_%s.json" % (sys.argv[1], k)))["processes"][0]["points"]
       for k in ("all", "malloc", "mmap")}
assert len(pts["all"]) == len(pts["malloc"]) == len(pts["mmap"]) >= 2, pts
for a, m, p in zip(pts["all"], pts["malloc"], pts["mmap"]):
    assert a["t_ns"] == m["t_ns"] == p["t_ns"]
    if not a.get("captured_peak"):
        assert m["heap"] + p["heap"] == a["heap"], (a, m, p)
assert pts["malloc"][-1]["heap"] == 32 << 20 and pts["mmap"][-1]["heap"] == 139 << 20, pts["mmap"][-1]
PY
"$HEAPSNAP" timeline --kind heap "$T/m.hsnap" >"$T/tlbad.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -qF "bad value for --kind: 'heap'" "$T/tlbad.out" && t_pass mapped_timeline_kind_bad_value ||
  t_fail mapped_timeline_kind_bad_value "exit $rc: $(head -c 200 "$T/tlbad.out")"
# a snapshot whose points do not say what was mapped (no MAPLINE): refused, one line
python3 - "$T/m.hsnap" "$T/nomap.hsnap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, at = bytearray(d[:24]), 24
while at + 16 <= len(d):
    t, _, n = struct.unpack_from("<IIQ", d, at)
    if t & 0xFFFF != 19:
        out += d[at:at + 16 + n]
    at += 16 + n
struct.pack_into("<Q", out, 16, len(out))
open(sys.argv[2], "wb").write(out)
PY
"$HEAPSNAP" timeline --kind mmap "$T/nomap.hsnap" >"$T/tlno.out" 2>&1; rc=$?
"$HEAPSNAP" timeline "$T/nomap.hsnap" >/dev/null 2>&1; rc_all=$?
[ $rc = 2 ] && [ $rc_all = 0 ] && [ "$(wc -l <"$T/tlno.out")" = 1 ] &&
  grep -qF "do not say which of their bytes were mapped" "$T/tlno.out" &&
  t_pass mapped_timeline_kind_needs_mapline || t_fail mapped_timeline_kind_needs_mapline "exit $rc/$rc_all: $(head -c 200 "$T/tlno.out")"
