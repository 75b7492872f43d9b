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

# Every word a malloc hook wrote below its caller is cleared, however its
# stack was named: a new stack's walk and intern, a known stack walked
# again by the cached rules (hook_stack_named's narrower window when
# unwind_deep did not move), and the same under HEAPSNAP_UNWIND_CHECK,
# whose walk from scratch lies deeper (fixture paintdeep.c: the dead stack
# painted before each malloc, any word left neither the paint nor 0 is a
# stray); calloc: the same through calloc's tracked path; fresh: each
# block freed young, so kept fresh (hook_malloc_fresh's path);
# realloc: a young block grown by realloc's tracked path; evict: fresh
# blocks, half of them kept and pushed out of their slots into the table
# (hook_malloc_fresh's one frame, pend_fresh_evict below it); churn: old
# blocks freed at random before each malloc from 4 stacks named again and
# again, so that the thread holds old frees and a malloc releases them
# (trace_new_peak: the held path, which reaches 640-767 bytes below the
# caller under the named walk's window of 768; a window of 512 left words
# on 93 of 20,000 mallocs).  -z now: a lazy binding's resolver writes
# below the caller first.
if t_build paintdeep tests/shim/leak/paintdeep.c -O2 -Wl,-z,now; then
  for mode in plain check calloc fresh realloc evict churn; do
    chk=0; [ "$mode" = check ] && chk=1
    how=; case "$mode" in calloc|fresh|realloc|evict|churn) how=$mode ;; esac
    stacks=20000; [ "$mode" = churn ] && stacks=4
    out=$(HEAPSNAP_UNWIND_CHECK=$chk HEAPSNAP_OUTPUT="$T/pd.%p.hsnap" LD_PRELOAD="$SHIM" \
          "$T/paintdeep" 20000 $stacks $how 2>"$T/pd.err")
    case "$out" in
      "stray 0 0 deepest "*) t_pass "hook_clears_every_word_it_wrote_below_its_caller_$mode" ;;
      *) t_fail "hook_clears_every_word_it_wrote_below_its_caller_$mode" \
                "printed '$out' (new stacks, known stacks): $(head -c 200 "$T/pd.err")" ;;
    esac
  done
else
  t_fail hook_clears_every_word_it_wrote_below_its_caller_plain "fixture does not build"
fi

# The same in a process that runs Python (paintdeep.c as a library that
# paintdeep.py calls through ctypes): mallocs with Python's frames under
# them (the splice's window), from a native thread of the process (a
# native stack's walk where pyfr_on holds, whose path reaches deeper), and
# with Python's frames from 16 stacks met again and again (repeat: the
# native walk named by the memo, the Python frames found by pyfr_again in
# hook_stack, above the frames' array: painted, the path wrote at most 920
# bytes below the caller, under HOOK_DEPTH_PY's 1,280).
if gcc -O2 -shared -fPIC -DPD_LIBRARY -Ishim -Wl,-z,now -pthread \
     tests/shim/leak/paintdeep.c -o "$T/libpaintdeep.so" 2>"$T/pdlib.err"; then
  out=$(HEAPSNAP_OUTPUT="$T/pdpy.%p.hsnap" LD_PRELOAD="$SHIM" \
        /usr/bin/python3 tests/shim/leak/paintdeep.py "$T/libpaintdeep.so" 20000 20000 2>"$T/pdpy.err")
  for kind in python native repeat wrapped; do
    case "$out" in
      *"$kind stray 0 0 deepest "*) t_pass "hook_clears_every_word_it_wrote_below_its_caller_$kind" ;;
      *) t_fail "hook_clears_every_word_it_wrote_below_its_caller_$kind" \
                "printed '$out': $(head -c 200 "$T/pdpy.err")" ;;
    esac
  done
  # HEAPSNAP_PYTHON_NATIVE=caller: the Python frames' stacks without a
  # native walk (hook_stack_caller: a stack met lately within
  # HOOK_DEPTH_PY, a new one's frames and intern past its ip[]; wrapped:
  # strdup's caller walked to, hook_stack_unwrap)
  out=$(HEAPSNAP_PYTHON_NATIVE=caller HEAPSNAP_OUTPUT="$T/pdpy.%p.hsnap" LD_PRELOAD="$SHIM" \
        /usr/bin/python3 tests/shim/leak/paintdeep.py "$T/libpaintdeep.so" 20000 20000 2>"$T/pdpyc.err")
  for kind in python repeat wrapped; do
    case "$out" in
      *"$kind stray 0 0 deepest "*) t_pass "hook_clears_every_word_it_wrote_below_its_caller_${kind}_caller" ;;
      *) t_fail "hook_clears_every_word_it_wrote_below_its_caller_${kind}_caller" \
                "printed '$out': $(head -c 200 "$T/pdpyc.err")" ;;
    esac
  done
else
  t_fail hook_clears_every_word_it_wrote_below_its_caller_python "library does not build: $(head -c 200 "$T/pdlib.err")"
fi
