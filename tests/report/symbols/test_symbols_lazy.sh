# tests/report/symbols/test_symbols_lazy.sh - symbolization reads the DWARF the
# snapshot's addresses need, once: only the units that hold an address
# (a unit no frame is in is never read), a unit's top level once for all
# its addresses (not once per address, as dwarf_getscopes walks it), and
# the frames are libdw's own (inlined frames with their call lines).
# Counted by HEAPSNAP_DEBUG=symbols (cux_scopes' counters), not timed.
nfun=400
{
  echo '#include <stdlib.h>'
  echo 'void *volatile keep[64];'
  echo 'static inline __attribute__((always_inline)) void *grab(unsigned n) { return malloc(n); }'
  for i in $(seq 1 $nfun); do # a large top level, none of it allocating
    echo "__attribute__((noinline)) int pad$i(int x) { return x * $i + 1; }"
  done
  for i in $(seq 1 20); do # 20 allocation sites, each through the inline
    echo "__attribute__((noinline)) void site$i(void) { keep[$i] = grab($((i * 16))); }"
  done
} >"$T/big.c"
{
  echo 'void site1(void);'
  for i in $(seq 2 20); do echo "void site$i(void);"; done
  echo 'int main(void) {'
  for i in $(seq 1 20); do echo "  site$i();"; done
  echo '  return 0; }'
} >"$T/main.c"
echo 'int idle(int x) { return x + 42; }' >"$T/idle.c"
if ! gcc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls "$T/big.c" "$T/main.c" \
    "$T/idle.c" -o "$T/lazy" 2>"$T/cc.err"; then
  t_fail symbols_lazy_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
HEAPSNAP_OUTPUT=$T/lazy.hsnap LD_PRELOAD=$SHIM "$T/lazy" || t_fail symbols_lazy_fixture_runs "exit $?"
HEAPSNAP_DEBUG=symbols "$HEAPSNAP" top "$T/lazy.hsnap" --key traceback -n 0 >"$T/tb.txt" 2>"$T/dbg.txt"
line=$(grep -F 'symbols: lazy:' "$T/dbg.txt")
# "lazy: R of N units read, W whole, D DIEs; A addresses, S by libdw's walk"
read -r read_ of_ whole dies addrs slow <<EOF
$(echo "$line" | sed -E 's/.*: ([0-9]+) of ([0-9]+) units read, ([0-9]+) whole, ([0-9]+) DIEs; ([0-9]+) addresses, ([0-9]+) by.*/\1 \2 \3 \4 \5 \6/')
EOF
if [ -z "$line" ] || [ -z "$slow" ]; then
  t_fail symbols_lazy_counted "no counters: $(head -c 300 "$T/dbg.txt")"; return 0
fi
# big.c and main.c hold frames; idle.c holds none.
[ "$read_" -eq 2 ] && [ "$of_" -ge 3 ] && t_pass symbols_lazy_reads_only_units_with_addresses \
  || t_fail symbols_lazy_reads_only_units_with_addresses "$line"
# 20 sites, 20 callers in main and their inlined grab: 40 addresses or more.
# One read of big.c's top level (400+ DIEs) plus each address's path;
# libdw's own walk reads that top level for every address (8,000 and more).
[ "$addrs" -ge 40 ] && [ "$dies" -lt $((3 * nfun)) ] && [ "$slow" -eq 0 ] && [ "$whole" -eq 0 ] \
  && t_pass symbols_lazy_top_level_read_once || t_fail symbols_lazy_top_level_read_once "$line"
if grep -qF '/big.c", line 3, in grab' "$T/tb.txt" \
   && grep -qF "/big.c\", line $((nfun + 3 + 7)), in site7" "$T/tb.txt"; then
  t_pass symbols_lazy_inlined_frames_and_call_lines
else t_fail symbols_lazy_inlined_frames_and_call_lines "$(head -c 400 "$T/tb.txt" | tr '\n' '|')"; fi
# symbols-check asks libdw's own walk too: every chain the same.
HEAPSNAP_DEBUG=symbols-check "$HEAPSNAP" top "$T/lazy.hsnap" >/dev/null 2>"$T/check.txt"
if grep -q 'symbols: lazy: .*; 0 differ from libdw' "$T/check.txt" \
   && ! grep -qE '; [1-9][0-9]* differ from libdw' "$T/check.txt"; then
  t_pass symbols_lazy_same_chains_as_libdw
else t_fail symbols_lazy_same_chains_as_libdw "$(grep symbols "$T/check.txt" | head -c 300)"; fi
# Without the variable, nothing is said.
"$HEAPSNAP" top "$T/lazy.hsnap" >/dev/null 2>"$T/quiet.txt"
[ ! -s "$T/quiet.txt" ] && t_pass symbols_lazy_debug_quiet_by_default \
  || t_fail symbols_lazy_debug_quiet_by_default "$(head -c 200 "$T/quiet.txt")"
