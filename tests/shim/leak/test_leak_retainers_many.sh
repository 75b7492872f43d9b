# tests/shim/leak/test_leak_retainers_many.sh - the RETAINERS section holds
# every (target site, source) pair when there are more of them than its
# index is made for at first (retain.c's RET_MIN_SLOTS, at most half full):
# the pairs' array and index grow while the check runs and no reference is
# lost or counted twice.  The fixture (tests/shim/leak/chain.c) keeps a
# chain of 3,000 blocks, each from a stack of its own (chain_link's walk of
# LEVELS frames through two call sites a level), each pointing to the one
# made before it, the last one held by the global g_head:
#   chain.c:L_LINK  3,000 blocks, all reachable: 2,999 references from
#                   blocks of that line (2,999 pairs, one per stack),
#                   1 from module data (g_head)
if ! t_build chain tests/shim/leak/chain.c -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls; then
  t_fail retainers_pairs_past_the_first_index_all_counted "the fixture does not build"
  return 0
fi
line=$(grep -n 'L_LINK' tests/shim/leak/chain.c | head -1 | cut -d: -f1)
(cd "$T" && "$HEAPSNAP" run --leaks -q -o chain.hsnap -- "$T/chain" 3000 >/dev/null 2>"$T/chain.err")
(cd "$T" && "$HEAPSNAP" top --retainers chain.hsnap) >"$T/ret.out" 2>"$T/ret.err"
blocks=$(grep -c . <(sed -n "s/^ *blocks from .*chain.c:$line: \([0-9]*\) refs, first to reach \([0-9]*\) blocks.*/\1 \2/p" "$T/ret.out"))
got=$(sed -n "s/^ *blocks from .*chain.c:$line: \([0-9]*\) refs, first to reach \([0-9]*\) blocks.*/\1 \2/p" "$T/ret.out")
data=$(sed -n 's/^ *module data (globals): \([0-9]*\) refs, first to reach \([0-9]*\) blocks.*/\1 \2/p' "$T/ret.out")
traces=$("$HEAPSNAP" info "$T/chain.hsnap" 2>/dev/null | sed -n 's/^traces: *//p')
if [ "$blocks" = 1 ] && [ "$got" = "2999 2999" ] && [ "$data" = "1 1" ] && [ "${traces:-0}" -ge 3000 ]; then
  t_pass retainers_pairs_past_the_first_index_all_counted
else
  t_fail retainers_pairs_past_the_first_index_all_counted "blocks '$got' data '$data' traces '$traces': $(head -c 400 "$T/ret.out") $(head -c 200 "$T/ret.err")"
fi
