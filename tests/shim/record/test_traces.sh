# test_traces.sh - trace interning: identical stacks are stored once, also
# after the per-thread cache has forgotten them.
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
