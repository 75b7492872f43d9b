# tests/shim/leak/test_leak_leftovers.sh - a hook that kept the books leaves
# no block address in the thread that called it: none in a caller-saved
# register (integer or vector, as wide as the CPU has them) and none in the
# dead frames below its caller, where a frame the program builds later
# shows it through its holes.  The leak check scans both in a stopped
# thread and would take such a word for the program's reference to a
# block the program dropped (shim/base/scrub.c; fixture
# tests/shim/leak/leftover.c).
t_build leftover tests/shim/leak/leftover.c || { t_fail build "fixture does not build"; return 0 2>/dev/null || exit 0; }

out=$(HEAPSNAP_OUTPUT="$T/lo.%p.hsnap" LD_PRELOAD="$SHIM" "$T/leftover" regs 2>"$T/lo.err")
case "$out" in
  "regs 0 stack "*) t_pass hook_leaves_no_block_address_in_registers ;;
  *) t_fail hook_leaves_no_block_address_in_registers "printed '$out': $(head -c 200 "$T/lo.err")" ;;
esac
case "$out" in
  "regs "*" stack 0") t_pass hook_leaves_no_block_address_in_dead_frames ;;
  *) t_fail hook_leaves_no_block_address_in_dead_frames "printed '$out': $(head -c 200 "$T/lo.err")" ;;
esac
