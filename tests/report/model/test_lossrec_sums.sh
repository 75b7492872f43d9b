# tests/report/model/test_lossrec_sums.sh - a kind that `heapsnap leaks`
# neither lists nor suppresses is summed straight from BLOCKS
# (lossrec_sums_only), where an --include or --exclude filter makes
# a record of every (trace, kind) and sums the records: both ways give
# the same LEAK SUMMARY.
# The fixture (tests/shim/leak/leaky.c basic) holds every kind: still
# reachable, possibly lost, indirect, direct and cycle blocks.

L=tests/shim/leak
t_build leaky $L/leaky.c -pthread -ldl || { t_fail lossrec_sums_build "leaky.c does not build"; return 0 2>/dev/null || exit 0; }
HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/basic.hsnap" LD_PRELOAD="$SHIM" "$T/leaky" basic >/dev/null 2>"$T/run.err"
[ -s "$T/basic.hsnap" ] || { t_fail lossrec_sums_profiled "$(head -c 300 "$T/run.err")"; return 0 2>/dev/null || exit 0; }

# summary FILE: the LEAK SUMMARY's lines alone
summary() { sed -n '/^LEAK SUMMARY:$/,/^[^ L]/p' "$1" | grep -E '^LEAK SUMMARY:$|^   '; }
"$HEAPSNAP" leaks "$T/basic.hsnap" >"$T/summed.txt" 2>"$T/summed.err"
# a filter that excludes no frame: the same blocks, through records
"$HEAPSNAP" leaks --exclude no_frame_is_named_this "$T/basic.hsnap" >"$T/recorded.txt" 2>"$T/recorded.err"
"$HEAPSNAP" leaks --kinds all "$T/basic.hsnap" >"$T/all.txt" 2>&1
s=$(summary "$T/summed.txt"); r=$(summary "$T/recorded.txt"); a=$(summary "$T/all.txt")
if [ -n "$s" ] && [ "$s" = "$r" ] && [ "$s" = "$a" ] &&
   echo "$s" | grep -qE '^   still reachable: [1-9][0-9]* bytes in [1-9][0-9]* blocks$' &&
   echo "$s" | grep -qE '^   possibly lost: [1-9][0-9]* bytes in [1-9][0-9]* blocks$' &&
   echo "$s" | grep -qE '^   indirect: [1-9][0-9]* bytes in [1-9][0-9]* blocks$'; then
  t_pass leaks_summed_kinds_match_their_records
else
  t_fail leaks_summed_kinds_match_their_records "summed: $(echo "$s" | tr '\n' '|') recorded: $(echo "$r" | tr '\n' '|') all: $(echo "$a" | tr '\n' '|')"
fi

# the records listed are the same either way
if diff <(sed '/^LEAK SUMMARY:$/,/^[^ L]/d' "$T/summed.txt") \
        <(sed '/^LEAK SUMMARY:$/,/^[^ L]/d' "$T/recorded.txt") >/dev/null; then
  t_pass leaks_summed_kinds_list_the_same_records
else
  t_fail leaks_summed_kinds_list_the_same_records "$(diff "$T/summed.txt" "$T/recorded.txt" | head -c 400)"
fi
