# test_fresh.sh - blocks the shim keeps fresh (pend_*) do not show:
# another thread's fresh blocks freed by this one are neither live, leaked
# nor foreign; kept ones are live in every walk, in the process and in a
# fork's child; clear_traces forgets them; and under load with API calls,
# forks and a clear at the same time, no block of the load is left and the
# books balance; a thread that keeps its blocks stops keeping them fresh
# and starts again, losing none.
. tests/shim/lib_shim.sh
s_dump_build
if ! s_build fresh; then t_fail fresh_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

# fresh_site's live blocks in a dump: "count bytes" ("" when none)
fresh_live() { s_site_funcs "$T/fresh" "$1" | awk '$1 == "fresh_site" && $2 > 0 { print $2, $3 }'; }
fresh_foreign() { sed -n 's/.* foreign=\([0-9]*\).*/\1/p' "$1"; }

LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/fresh" cross "$T/cross.hsnap" >"$T/cross.out" 2>&1
printf 'unreachable: 0\nlive count unchanged: 1\nsnapshot: 0\n' >"$T/cross.want"
t_golden fresh_other_threads_blocks_freed_here "$T/cross.want" "$T/cross.out"
if s_dump "$T/cross.hsnap" >"$T/cross.dump" 2>&1 && [ -z "$(fresh_live "$T/cross.dump")" ] &&
   [ "$(fresh_foreign "$T/cross.dump")" = 0 ] && [ "$(s_books "$T/cross.dump")" = ok ]; then
  t_pass fresh_cross_snapshot_not_live_nor_foreign
else t_fail fresh_cross_snapshot_not_live_nor_foreign \
  "live '$(fresh_live "$T/cross.dump")' foreign $(fresh_foreign "$T/cross.dump") $(s_books "$T/cross.dump" 2>&1)"; fi

# (the child lists the blocks it inherited, HEAPSNAP_INHERITED=blocks: the
# other threads' fresh blocks are put in its table at the fork)
LD_PRELOAD=$SHIM HEAPSNAP_INHERITED=blocks HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/fresh" live \
  "$T/main.hsnap" "$T/child.hsnap" >"$T/live.out" 2>&1
printf 'main snapshot: 0\nchild snapshot: 0\nchild status: 0\n' >"$T/live.want"
t_golden fresh_live_runs "$T/live.want" "$T/live.out"
for who in main child; do
  if s_dump "$T/$who.hsnap" >"$T/$who.dump" 2>&1 && [ "$(fresh_live "$T/$who.dump")" = "3 12726" ] &&
     [ "$(s_books "$T/$who.dump")" = ok ]; then t_pass fresh_other_threads_blocks_live_in_$who
  else t_fail fresh_other_threads_blocks_live_in_$who \
    "fresh_site live '$(fresh_live "$T/$who.dump")', want '3 12726'; $(s_books "$T/$who.dump" 2>&1)"; fi
done

LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/fresh" clear >"$T/clear.out" 2>&1
printf 'after clear: 0\nafter frees: 0\n' >"$T/clear.want"
t_golden fresh_blocks_forgotten_by_clear_traces "$T/clear.want" "$T/clear.out"

# A thread that keeps what it makes stops keeping blocks fresh, and starts
# again once its blocks die young (pend_keep_none): no block lost either way.
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/fresh" keep "$T/keep.hsnap" >"$T/keep.out" 2>&1
printf 'kept: 244800\nafter frees: 122400\nsnapshot: 0\n' >"$T/keep.want"
t_golden fresh_keep_none_and_again_traced "$T/keep.want" "$T/keep.out"
keep_live() { # a site's live blocks over its stacks: "count bytes" ("" when none)
  s_site_funcs "$T/fresh" "$T/keep.dump" |
    awk '$1 == "'"$1"'" && $2 > 0 { n += $2; b += $3 } END { if (n) print n, b }'; }
if s_dump "$T/keep.hsnap" >"$T/keep.dump" 2>&1 && [ "$(keep_live keep_site)" = "2550 122400" ] &&
   [ -z "$(keep_live young_site)" ] && [ "$(fresh_foreign "$T/keep.dump")" = 0 ] &&
   [ "$(s_books "$T/keep.dump")" = ok ]; then t_pass fresh_keep_none_and_again_snapshot
else t_fail fresh_keep_none_and_again_snapshot \
  "keep_site '$(keep_live keep_site)' young_site '$(keep_live young_site)' foreign $(fresh_foreign "$T/keep.dump") $(s_books "$T/keep.dump" 2>&1)"; fi

# Under load: cross-thread frees of fresh blocks, reallocs, and at the same
# time live counts, leak checks, a clear and forks; the books end at zero.
if s_build fresh_stress; then
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/st.%p.hsnap" "$T/fresh_stress" "$T/st.hsnap" >"$T/st.out" 2>&1
  st_live() { s_site_funcs "$T/fresh_stress" "$T/st.dump" | awk '$1 == "stress_site" && $2 > 0'; }
  if grep -q '^done rounds [0-9]* snapshot 0$' "$T/st.out" && s_dump "$T/st.hsnap" >"$T/st.dump" 2>&1 &&
     [ -z "$(st_live)" ] && [ "$(s_books "$T/st.dump" bytes)" = ok ]; then t_pass fresh_stress_books_balance
  else t_fail fresh_stress_books_balance \
    "$(tail -c 200 "$T/st.out") live '$(st_live)' $(s_books "$T/st.dump" bytes 2>&1)"; fi
else t_fail fresh_stress_builds "cc failed"; fi
