# test_held.sh - frees the shim holds back (pend_*) do not show: the
# peak stays exact (tracemalloc's traced memory too), another thread's held blocks are neither live nor leaked
# (in the process and in a fork's child), snapshot books balance, and a big
# allocation still reuses a block freed just before it.
. tests/shim/lib_shim.sh
s_dump_build
if ! s_build held; then t_fail held_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/p.hsnap" "$T/held" peak >"$T/peak.out" 2>&1
printf 'current unchanged: 1\npeak unchanged: 1\n' >"$T/peak.want"
t_golden held_peak_stays_exact "$T/peak.want" "$T/peak.out"

# tracemalloc's traced memory on the hooks' plain path (HS_RARE_WATCH)
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/w.hsnap" "$T/held" watch >"$T/watch.out" 2>&1
printf 'watched current: 800\nwatched peak: 4800\n' >"$T/watch.want"
t_golden watch_counts_blocks_born_since_start_in_a_holding_thread "$T/watch.want" "$T/watch.out"

# held_site's live blocks in a dump ("" when none)
held_live() { s_site_funcs "$T/held" "$1" | awk '$1 == "held_site" && $2 > 0'; }

for mode in thread fork; do
  who=main; [ $mode = fork ] && who=child
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/$mode.%p.hsnap" "$T/held" $mode "$T/$mode.hsnap" >"$T/$mode.out" 2>&1
  printf '%s unreachable: 0\n%s live count unchanged: 1\n%s snapshot: 0\n' $who $who $who >"$T/$mode.want"
  [ $mode = fork ] && echo "child status: 0" >>"$T/$mode.want"
  t_golden held_${mode}_blocks_not_live_nor_leaked "$T/$mode.want" "$T/$mode.out"
  if s_dump "$T/$mode.hsnap" >"$T/$mode.dump" 2>&1 && [ -z "$(held_live "$T/$mode.dump")" ] &&
     [ "$(s_books "$T/$mode.dump")" = ok ]; then t_pass held_${mode}_snapshot_books_balance
  else t_fail held_${mode}_snapshot_books_balance "$(held_live "$T/$mode.dump") $(s_books "$T/$mode.dump" 2>&1)"; fi
done

s_same held_big_block_reused "$T/held" big
