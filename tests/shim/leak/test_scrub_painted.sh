# tests/shim/leak/test_scrub_painted.sh - a hook that kept the books never
# went deeper below its caller than it cleared: the stack painted before
# each malloc holds the paint below the cleared words (fixture
# tests/shim/leak/painted.c), with the CFI walk (its rules cached, or
# looked up) and with libunwind's.
t_build painted tests/shim/leak/painted.c || { t_fail build "fixture does not build"; return 0 2>/dev/null || exit 0; }

for unw in auto libunwind; do
  out=$(HEAPSNAP_UNWIND=$unw HEAPSNAP_OUTPUT="$T/pt.%p.hsnap" LD_PRELOAD="$SHIM" "$T/painted" 2>"$T/pt.err")
  case "$out" in
    "painted 6000 below 0") t_pass "scrub_covers_the_walk_$unw" ;;
    *) t_fail "scrub_covers_the_walk_$unw" "printed '$out': $(head -c 200 "$T/pt.err")" ;;
  esac
done
