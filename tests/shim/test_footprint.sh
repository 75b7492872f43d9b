# test_footprint.sh - the shim's fixed memory cost stays small (issue 21:
# peak RSS at most 1.25x native, which a small program pays mostly in this
# fixed part).  What the shim adds to a program's anonymous resident memory
# at start-up, under the default unwinder, is at most 400 KiB: the rule
# cache's and the tables' touched pages, the walk memos, the arena's first
# chunk.  It was ~510 KiB while libunwind's unw_backtrace warmed itself up
# at start-up (a 256 KiB per-thread cache, filled, that auto never reads).
#   startup_anon_memory_small   the shim's start-up anonymous RSS <= 400 KiB
t_build footprint tests/shim/footprint.c
anon() { sed -n 's/^anon_kb //p' "$1"; }
best_plain="" best_shim=""
for i in 1 2 3; do # the smallest of three: a page or two more is the kernel's doing
  "$T/footprint" >"$T/plain.out" 2>&1
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/f.%p.hsnap" "$T/footprint" >"$T/shim.out" 2>&1
  p=$(anon "$T/plain.out") s=$(anon "$T/shim.out")
  { [ -z "$best_plain" ] || [ "${p:-0}" -lt "$best_plain" ]; } && best_plain=$p
  { [ -z "$best_shim" ] || [ "${s:-0}" -lt "$best_shim" ]; } && best_shim=$s
done
if [ -n "$best_plain" ] && [ -n "$best_shim" ] && [ $((best_shim - best_plain)) -le 400 ]; then
  t_pass "startup_anon_memory_small ($((best_shim - best_plain)) KiB)"
else
  t_fail startup_anon_memory_small "the shim added $((${best_shim:-0} - ${best_plain:-0})) KiB (plain ${best_plain:-?}, shim ${best_shim:-?})"
fi
