# test_livesums.sh - live count and bytes per trace are derived when the
# snapshot is written (snap_live_init), from the BLOCKS copy or, with
# HEAPSNAP_BLOCKS=0, from a walk of the table; the global sums are sharded
# per thread (trace_intern).  On the 8-thread churn with cross-thread frees
# both ways must give the same per-site live sums, and the books balance:
# the sites' live bytes add up to META's current, frees = allocs - live
# blocks, and the peak is at least the current size (and sane: under 100 MB;
# a wrapped unsigned sum once made it 2^64 - 21).
. tests/shim/lib_shim.sh
s_dump_build
s_build crossfree || t_fail livesums_builds "cc failed"

for blocks in 1 0; do
  rm -f "$T"/ls.*.hsnap
  HEAPSNAP_BLOCKS=$blocks HEAPSNAP_OUTPUT="$T/ls.%p.hsnap" LD_PRELOAD=$SHIM "$T/crossfree" >/dev/null 2>&1
  snap=$(ls "$T"/ls.*.hsnap 2>/dev/null | head -1)
  if [ -z "$snap" ] || ! s_dump "$snap" >"$T/ls$blocks.dump" 2>"$T/ls.err"; then
    t_fail "livesums_snapshot_blocks_$blocks" "$(head -c 200 "$T/ls.err" 2>/dev/null)"; continue
  fi
  s_site_funcs "$T/crossfree" "$T/ls$blocks.dump" | sort >"$T/ls$blocks.sites"
  got=$(awk '$1=="keep_site" {n+=$2; b+=$3} END {print n+0, b+0}' "$T/ls$blocks.sites")
  if [ "$got" = "80 80280" ]; then t_pass "livesums_kept_blocks_blocks_$blocks"
  else t_fail "livesums_kept_blocks_blocks_$blocks" "keep_site: $got, want '80 80280'"; fi
  books=$(s_books "$T/ls$blocks.dump")
  cur=$(sed -n 's/^meta .* current=\([0-9]*\) .*/\1/p' "$T/ls$blocks.dump")
  peak=$(sed -n 's/^meta .* peak=\([0-9]*\) .*/\1/p' "$T/ls$blocks.dump")
  allocs=$(sed -n 's/^meta .* allocs=\([0-9]*\) .*/\1/p' "$T/ls$blocks.dump")
  if [ "$books" = ok ] && [ "$peak" -ge "$cur" ] && [ "$peak" -lt 100000000 ] &&
     [ "$allocs" -ge 800080 ]; then
    t_pass "livesums_books_balance_blocks_$blocks"
  else
    t_fail "livesums_books_balance_blocks_$blocks" "$books; current=$cur peak=$peak allocs=$allocs"
  fi
done
if [ -s "$T/ls1.sites" ] && cmp -s "$T/ls1.sites" "$T/ls0.sites"; then t_pass livesums_same_with_and_without_blocks
else t_fail livesums_same_with_and_without_blocks "$(diff "$T/ls1.sites" "$T/ls0.sites" 2>&1 | head -4 | tr '\n' ' ')"; fi
