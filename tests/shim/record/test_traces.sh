# test_traces.sh - trace interning: identical stacks are stored once, also
# after the per-thread cache has forgotten them, and their totals are exact.
. tests/shim/lib_shim.sh
s_build manystacks && s_dump_build
HEAPSNAP_DEPTH=16 HEAPSNAP_OUTPUT="$T/ms.hsnap" LD_PRELOAD="$SHIM" "$T/manystacks"
# depth 16 keeps stacks of depth >= 15 identical (the innermost 16 frames are
# all `descend`), so depths 0..14 give 15 stacks and everything deeper one
# more: 16.  The program allocates nothing else (start-up allocations come
# before the shim is active or from ld.so).
n=$("$HEAPSNAP" info "$T/ms.hsnap" | sed -n 's/^traces: *//p')
if [ "$n" = 16 ]; then t_pass traces_interned_once_after_cache_eviction
else t_fail traces_interned_once_after_cache_eviction "traces: ${n:-?}, want 16"; fi
HEAPSNAP_OUTPUT="$T/ms64.hsnap" LD_PRELOAD="$SHIM" "$T/manystacks"
n=$("$HEAPSNAP" info "$T/ms64.hsnap" | sed -n 's/^traces: *//p')
# depth 64: depths 0..62 distinct (63 stacks), deeper ones truncate to one.
if [ "$n" = 64 ]; then t_pass traces_deep_interned_once
else t_fail traces_deep_interned_once "traces: ${n:-?}, want 64"; fi
# The same 64 stacks take turns past the thread's 32 delta slots, so most
# charges go to their trace's record (trace_delta_other) and some move a
# slot: each trace's total is every allocation all the same, 10 a stack
# and 5,370 for the one the deeper 537 truncate to.
got=$("$HEAPSNAP" export -f folded --value alloc_objects "$T/ms64.hsnap" |
      awk '{print $NF}' | sort -n | uniq -c | awk '{printf "%s:%s ", $1, $2}')
if [ "$got" = "63:10 1:5370 " ]; then t_pass trace_totals_exact_past_delta_slots
else t_fail trace_totals_exact_past_delta_slots "stacks:total counts: ${got:-none}"; fi
