# tests/shim/leak/test_leak_fork_memory.sh - the leak check's fork holds the
# blocks' copy instead of the live-block table, not beside it: its resident
# set stays within 20 bytes per live block of the process's own (the copy is
# 32 bytes a block; the table, ~23, is unmapped in the fork as the copy is
# made: tbl_drain).  bench/bigsnap.c in collect mode gives
# the process's RSS before the check and the fork's max RSS.
t_build bigsnap scripts/bench/programs/bigsnap.c -O2 -pthread ||
  { t_fail leak_fork_memory_builds "cc failed"; return 0 2>/dev/null || exit 0; }
n=300000
line=$(HEAPSNAP_OUTPUT="$T/exit.%p.hsnap" LD_PRELOAD=$SHIM "$T/bigsnap" $n "$T/c.hsnap" collect 2>"$T/big.err" |
       grep '^bigsnap_mem')
rss=$(echo "$line" | sed -n 's/.* rss_kb=\([0-9]*\).*/\1/p')
child=$(echo "$line" | sed -n 's/.*children_maxrss_kb=\([0-9]*\).*/\1/p')
if [ -z "$rss" ] || [ -z "$child" ] || [ "$child" = 0 ]; then
  t_fail leak_fork_child_holds_copy_not_table "no figures: '$line' $(head -c 200 "$T/big.err")"
else
  per=$(( (child - rss) * 1024 / n ))
  [ "$per" -le 20 ] && t_pass leak_fork_child_holds_copy_not_table ||
    t_fail leak_fork_child_holds_copy_not_table "the fork's RSS is $per B per live block over the process's ($line)"
fi
# and the check it ran is whole: every block in the snapshot, none leaked
"$HEAPSNAP" info "$T/c.hsnap" >"$T/c.info" 2>&1
grep -qE "^blocks: +[0-9]+$" "$T/c.info" && [ "$(sed -n 's/^blocks: *//p' "$T/c.info")" -ge $n ] &&
  "$HEAPSNAP" gate "$T/c.hsnap" >"$T/gate.out" 2>&1 && t_pass leak_fork_drained_check_whole ||
  t_fail leak_fork_drained_check_whole "$(grep -E '^blocks' "$T/c.info") $(head -c 200 "$T/gate.out")"
