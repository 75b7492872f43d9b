# test_threads.sh - 8 threads x 100k malloc/free with cross-thread frees:
# same output and status, and the snapshot's books balance (every block of
# the churn freed, the 80 kept blocks charged to keep_site); the same again
# with each unwinder.  The books: allocations - frees = live blocks, and the
# traced size = the live blocks' bytes (the global sums are kept in per-thread
# lines without locked instructions: a line written by two threads at once
# would lose counts), and the sites' total counts add up to the allocations;
# also over 12 waves of 8 threads, more threads than there are lines.
. tests/shim/lib_shim.sh
s_dump_build
s_build crossfree || t_fail crossfree_builds "cc failed"

books_check() {
  local r; r=$(s_books "$2")
  if [ "$r" = ok ]; then t_pass "$1"; else t_fail "$1" "$r"; fi
}

for unwind in auto libunwind fp; do
  rm -f "$T"/th.*.hsnap
  HEAPSNAP_UNWIND=$unwind HEAPSNAP_OUTPUT="$T/th.%p.hsnap" s_same "threads_same_output_$unwind" "$T/crossfree"
  snap=$(ls "$T"/th.*.hsnap 2>/dev/null | head -1)
  if [ -z "$snap" ] || ! s_dump "$snap" >"$T/th.dump" 2>"$T/th.err"; then
    t_fail "threads_snapshot_valid_$unwind" "$(cat "$T/th.err" 2>/dev/null)"; continue
  fi
  t_pass "threads_snapshot_valid_$unwind"
  s_site_funcs "$T/crossfree" "$T/th.dump" >"$T/th.sites"
  # keep_site: one site per thread size (1000..1007), 10 blocks each
  got=$(awk '$1=="keep_site" {n+=$2; b+=$3} END {print n+0, b+0}' "$T/th.sites")
  if [ "$got" = "80 80280" ]; then t_pass "threads_kept_blocks_$unwind"
  else t_fail "threads_kept_blocks_$unwind" "keep_site: $got, want '80 80280'"; fi
  # the churn in worker leaves nothing live, and it was all seen
  got=$(awk '$1=="worker" {n+=$2; t+=$4} END {print n+0, t+0}' "$T/th.sites" )
  sites=$(grep -c '^site ' "$T/th.dump")
  allocs=$(sed -n 's/.* allocs=\([0-9]*\) .*/\1/p' "$T/th.dump")
  if [ "${got%% *}" = 0 ] && [ "${allocs:-0}" -ge 800080 ]; then t_pass "threads_churn_balanced_$unwind"
  else t_fail "threads_churn_balanced_$unwind" "worker live/total: $got, allocs=$allocs, sites=$sites"; fi
  books_check "threads_books_balance_$unwind" "$T/th.dump"
  # every allocation is in its site's total (threads keep per-trace deltas of
  # the totals in their lines: traces.c; readers must add them all)
  tot=$(awk '$1=="site" {t+=$4} END {print t+0}' "$T/th.dump")
  if [ "$tot" = "${allocs:-none}" ]; then t_pass "threads_site_totals_add_up_$unwind"
  else t_fail "threads_site_totals_add_up_$unwind" "sites' totals $tot, allocs ${allocs:-none}"; fi
done

rm -f "$T"/th.*.hsnap
HEAPSNAP_OUTPUT="$T/th.%p.hsnap" s_same threads_96_in_waves_same_output "$T/crossfree" 12
snap=$(ls "$T"/th.*.hsnap 2>/dev/null | head -1)
if [ -n "$snap" ] && s_dump "$snap" >"$T/th.dump" 2>"$T/th.err"; then
  books_check threads_96_in_waves_books_balance "$T/th.dump"
  tot=$(awk '$1=="site" {t+=$4} END {print t+0}' "$T/th.dump")
  allocs=$(sed -n 's/.* allocs=\([0-9]*\) .*/\1/p' "$T/th.dump")
  if [ "$tot" = "${allocs:-none}" ]; then t_pass threads_96_in_waves_site_totals_add_up
  else t_fail threads_96_in_waves_site_totals_add_up "sites' totals $tot, allocs ${allocs:-none}"; fi
else
  t_fail threads_96_in_waves_books_balance "no valid snapshot: $(cat "$T/th.err" 2>/dev/null)"
fi
