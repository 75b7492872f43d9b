# tests/shim/record/test_failed.sh - failed allocations (FAILED): tests/fixtures/fails.cc
# asks the malloc family for more than its address-space limit at known lines;
# `info` and `top --failed` list each site with its calls and the largest size
# asked, errno is what the real call left, the realloc's old block stays live,
# sampled mode counts every failure, and the reader checks the section.
. tests/fixtures/lib.sh
FX_TEST=failed fx_ready fails sites || return 0
G=tests/golden

"$FX/fails" >"$T/plain.out" 2>&1
if fx_profile "$T/f.hsnap" "$FX/fails" && [ -s "$T/f.hsnap" ]; then
  # errno after each call (and posix_memalign's result) as without the shim,
  # with each failure recorded (the branch that records must keep it)
  calls=$("$HEAPSNAP" info "$T/f.hsnap" 2>/dev/null | sed -n 's/^failed allocations: \([0-9]*\) at.*/\1/p')
  if diff "$T/plain.out" "$T/fx.out" >"$T/errno.diff" && grep -q "^malloc: errno 12$" "$T/fx.out" &&
     [ "$calls" = 10 ]; then
    t_pass failed_errno_preserved
  else t_fail failed_errno_preserved "recorded '$calls' of 10; $(head -c 300 "$T/errno.diff")"; fi
else
  t_fail failed_errno_preserved "the fixture under the shim: exit $?, $(head -c 300 "$T/fx.err")"
fi

if fx_top failed_top "$T/f.hsnap" --failed -n 0; then
  t_golden failed_top "$G/failed_top.txt" "$T/failed_top.txt"
  for want in "fails.cc:34: failed=2, largest=1024 GiB" "fails.cc:38: failed=1, largest=overflow" \
              "fails.cc:41: failed=1, largest=2048 GiB" "fails.cc:45: failed=1, largest=4096 GiB"; do
    name=failed_top_$(case "$want" in *:34:*) echo malloc ;; *:38:*) echo calloc_overflow ;;
                        *:41:*) echo posix_memalign ;; *) echo new_bad_alloc ;; esac)
    grep -qF "$want" "$T/failed_top.txt" && t_pass "$name" || t_fail "$name" "no '$want'"
  done
fi
# the realloc that failed: counted at its line, its old block still live,
# charged to its malloc
fx_top failed_live "$T/f.hsnap" -n 0 &&
  { grep -qF "tests/fixtures/fails.cc:50: size=100 B, count=1," "$T/failed_live.txt" &&
    grep -qxF "tests/fixtures/fails.cc:52: failed=1, largest=8192 GiB" "$T/failed_top.txt" &&
    t_pass failed_realloc_old_block_live ||
    t_fail failed_realloc_old_block_live "$(grep -h 'fails.cc:5[02]' "$T/failed_live.txt" "$T/failed_top.txt")"; }

"$HEAPSNAP" info "$T/f.hsnap" >"$T/info.txt" 2>&1
grep '^failed allocations:' "$T/info.txt" >"$T/info_line.txt"
t_golden failed_info "$G/failed_info.txt" "$T/info_line.txt"

# JSON: info's failed object and top --failed's groups
"$HEAPSNAP" info "$T/f.hsnap" --format json >"$T/info.json" 2>/dev/null &&
"$HEAPSNAP" top "$T/f.hsnap" --failed --format json -n 2 >"$T/top.json" 2>/dev/null &&
python3 - "$T/info.json" "$T/top.json" >"$T/json.err" 2>&1 <<'PY' && t_pass failed_json || t_fail failed_json "$(tail -c 300 "$T/json.err")"
import json, sys
f = json.load(open(sys.argv[1]))["snapshots"][0]["failed"]
assert f == {"calls": 10, "sites": 9, "largest_size": None,
             "largest_site": "tests/fixtures/fails.cc:38"}, f
t = json.load(open(sys.argv[2]))
assert t["failed"] is True and t["groups_total"] == 9, t
g = t["groups"][0]
assert (g["key"], g["failed"], g["largest_size"]) == ("tests/fixtures/fails.cc:34", 2, 1 << 40), g
assert t["groups"][1]["largest_size"] is None and "bytes" not in g, t["groups"][1]
PY

# 50 stacks of their own: the shim's table grows past its first size; with
# 3000 live blocks the section is stored compressed (zstd), and reads the same
if fx_profile "$T/m.hsnap" "$FX/fails" many; then
  "$HEAPSNAP" info "$T/m.hsnap" >"$T/m.info" 2>/dev/null
  grep -qx "failed allocations: 50 at 50 sites, largest 1024 GiB (from tests/fixtures/fails.cc:19)" \
    "$T/m.info" && grep -q "^on disk: .*compressed (zstd)" "$T/m.info" &&
    t_pass failed_many_sites || t_fail failed_many_sites "$(grep -E 'fail|disk' "$T/m.info")"
else t_fail failed_many_sites "fails many: exit $?"; fi

# sampled mode: every failure, unscaled
if HEAPSNAP_SAMPLE=1048576 fx_profile "$T/s.hsnap" "$FX/fails" &&
   fx_top failed_sampled "$T/s.hsnap" --failed -n 0; then
  diff "$G/failed_top.txt" "$T/failed_sampled.txt" >"$T/s.diff" && t_pass failed_sampled_all_counted ||
    t_fail failed_sampled_all_counted "$(head -c 300 "$T/s.diff")"
fi

# a snapshot where nothing failed: no section, "none", and a note from top --failed
fx_profile "$T/ok.hsnap" "$FX/sites"
"$HEAPSNAP" info "$T/ok.hsnap" 2>/dev/null | grep -qx "failed allocations: none" &&
  t_pass failed_none_info || t_fail failed_none_info "$("$HEAPSNAP" info "$T/ok.hsnap" 2>&1 | grep fail)"
"$HEAPSNAP" top "$T/ok.hsnap" --failed >"$T/none.out" 2>"$T/none.err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/none.out" ] && grep -q "no failed allocation" "$T/none.err" &&
  t_pass failed_none_top || t_fail failed_none_top "exit $rc: $(cat "$T/none.out" "$T/none.err" | head -c 300)"
refused() { # NAME WANT CMD...: exit 2 with WANT in its message
  local name=$1 want=$2; shift 2
  "$@" >"$T/ref.out" 2>&1; local rc=$?
  [ $rc -eq 2 ] && grep -qF -- "$want" "$T/ref.out" && t_pass "$name" ||
    t_fail "$name" "exit $rc: $(head -c 300 "$T/ref.out")"
}
refused failed_with_sort "cannot be used with --failed" "$HEAPSNAP" top "$T/f.hsnap" --failed --sort allocations
refused failed_diff_refused "--failed is an option of top only" \
  "$HEAPSNAP" diff "$T/ok.hsnap" "$T/f.hsnap" --failed

# the reader checks FAILED: a trace past TRACES, a bad length; exit 2, one line
damage() { # IN OUT HOW: rewrites FAILED's first item (crc kept right)
  python3 - "$@" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read()); off = 24
while True:
    t, crc, n = struct.unpack_from("<IIQ", b, off)
    if t == 16: break
    if t == 0xffff: sys.exit("no uncompressed FAILED section")
    off += 16 + n
p = off + 16
if sys.argv[3] == "trace":
    struct.pack_into("<I", b, p + 8, 0xfffffff0)
else:
    struct.pack_into("<I", b, p, 99)
struct.pack_into("<I", b, off + 4, zlib.crc32(bytes(b[p:p + n])))
open(sys.argv[2], "wb").write(b)
PY
}
for how in trace count; do
  damage "$T/f.hsnap" "$T/bad_$how.hsnap" "$how"
  "$HEAPSNAP" info "$T/bad_$how.hsnap" >"$T/bad.out" 2>&1; rc=$?
  [ $rc -eq 2 ] && grep -q "section FAILED" "$T/bad.out" && t_pass "failed_damaged_$how" ||
    t_fail "failed_damaged_$how" "exit $rc: $(head -c 300 "$T/bad.out")"
done

# merge keeps FAILED: one item per merged site, the calls summed, the largest
# size the largest of the inputs' (the same program twice, and beside a
# snapshot where nothing failed)
if "$HEAPSNAP" merge "$T/f.hsnap" "$T/f.hsnap" "$T/ok.hsnap" -o "$T/merged.hsnap" 2>"$T/merge.err" &&
   "$HEAPSNAP" top "$T/merged.hsnap" --failed -n 0 >"$T/merged_top.txt" 2>"$T/merge.err"; then
  # every site of one input's list, with its count doubled
  awk -F'failed=' '{ split($2, a, ","); print $1 "failed=" a[1] * 2 "," substr($2, length(a[1]) + 2) }' \
    "$G/failed_top.txt" >"$T/merged_want.txt"
  "$HEAPSNAP" info "$T/merged.hsnap" 2>/dev/null | grep '^failed allocations:' >"$T/merged_info.txt"
  if diff "$T/merged_want.txt" "$T/merged_top.txt" >"$T/merged.diff" &&
     grep -qxF "failed allocations: 20 at 9 sites, largest n * size > 2^64 (from tests/fixtures/fails.cc:38)" \
       "$T/merged_info.txt"; then
    t_pass failed_merged_sums_per_site
  else t_fail failed_merged_sums_per_site "$(head -c 300 "$T/merged.diff") $(cat "$T/merged_info.txt")"; fi
else t_fail failed_merged_sums_per_site "merge/top: $(head -c 300 "$T/merge.err")"; fi
