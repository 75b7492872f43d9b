# test_unwind_equiv.sh - recorded stacks stay as complete and correct as
# libunwind's: a program built WITHOUT frame pointers allocating through a
# library built WITHOUT frame pointers is recorded with HEAPSNAP_UNWIND=auto
# (the default) and =libunwind, and every trace is compared frame by frame
# (symbolized: function, file and line of each frame, outermost included).
# Every function of the malloc family is called; auto must have started
# each walk at the hook's caller, known from the recording hook's own frame
# (unwind.c), and never deferred to libunwind.
# The stacks must reach through the library into main.  (fp alone cannot
# do this; auto may only pick it where it is known to be right.)
# Variants, each auto against libunwind: a library's constructor that
# allocates, its stacks ending in ld.so's _dl_start_user (no FDE there);
# a 200-frame recursion (one side with an rbp-based CFA) with
# HEAPSNAP_DEPTH=256 and, truncated, with the default depth, in the main
# thread and another; a C++ library that throws and catches (landing pads,
# cold parts, remember/restore_state); stacks that share parts with the
# one before (the CFI walk's memo, also with frame pointers); two walks
# that start alike and differ only in an rbp their first CFA is based on.
# tier: full (many stack shapes walked twice)
. tests/shim/lib_shim.sh
flags="-g -O1 -fomit-frame-pointer -fdebug-prefix-map=$PWD=."
cc $flags -fPIC -shared tests/shim/unwind/unwind_lib.c -o "$T/libunwind_lib.so" &&
  cc $flags tests/shim/unwind/unwind_main.c -o "$T/unwind_main" -L"$T" -lunwind_lib -Wl,-rpath,"$T" ||
  t_fail unwind_equiv_builds "cc failed"

# u_equiv NAME EXE [VAR=VALUE...]: auto and libunwind give identical
# symbolized tracebacks (left in $T/NAME_auto.txt), and auto took every
# stack with its own CFI walk (HEAPSNAP_VERBOSE reports the stacks it left
# to libunwind: none, for these programs), so the equality is not vacuous.
# U_DEFER (default 0): stacks auto may leave to libunwind.
u_equiv() {
  local name=$1 exe=$2 m defer=${U_DEFER:-0}; shift 2
  for m in auto libunwind; do
    env "$@" HEAPSNAP_VERBOSE=1 HEAPSNAP_UNWIND=$m HEAPSNAP_OUTPUT="$T/${name}_$m.hsnap" \
      LD_PRELOAD="$SHIM" "$exe" 2>"$T/${name}_$m.err"
    "$HEAPSNAP" top --key traceback -n 0 "$T/${name}_$m.hsnap" >"$T/${name}_$m.txt" 2>&1
  done
  if [ -s "$T/${name}_libunwind.txt" ] && cmp -s "$T/${name}_auto.txt" "$T/${name}_libunwind.txt"; then
    t_pass "$name"
  else
    t_fail "$name" "$(diff "$T/${name}_libunwind.txt" "$T/${name}_auto.txt" | head -6 | tr '\n' ' ')"
  fi
  if grep -q "stacks auto left to libunwind: [0-$defer]\$" "$T/${name}_auto.err" &&
     grep -q "stacks auto did not start at the hook's caller: [0-$defer]\$" "$T/${name}_auto.err"; then
    t_pass "${name}_by_cfi"
  else
    t_fail "${name}_by_cfi" "$(grep -E 'left to libunwind|start at the hook' "$T/${name}_auto.err" | tr '\n' ' ' || echo no report)"
  fi
}

u_equiv unwind_auto_equals_libunwind_frame_by_frame "$T/unwind_main"
cp "$T/unwind_auto_equals_libunwind_frame_by_frame_auto.txt" "$T/uw_auto.txt"
# Completeness: the deepest library stack (7 lib_inner frames) reaches main.
if grep -q 'lib_inner' "$T/uw_auto.txt" && grep -q 'lib_outer' "$T/uw_auto.txt" &&
   grep -q 'app_loop' "$T/uw_auto.txt" && grep -q 'main' "$T/uw_auto.txt"; then
  t_pass unwind_auto_reaches_main_through_the_library
else
  t_fail unwind_auto_reaches_main_through_the_library "$(head -c 300 "$T/uw_auto.txt")"
fi

if cc $flags tests/shim/unwind/unwind_deep.c -o "$T/unwind_deep" -pthread; then
  u_equiv unwind_auto_equals_libunwind_200_deep_depth256 "$T/unwind_deep" HEAPSNAP_DEPTH=256
  # 200 recursion frames and the thread's start_thread/clone were all kept
  f="$T/unwind_auto_equals_libunwind_200_deep_depth256_auto.txt"
  if [ "$(grep -c 'deep_odd' "$f")" -ge 100 ] && grep -q 'deep_thread' "$f" &&
     grep -q 'deep_rounds' "$f"; then
    t_pass unwind_auto_200_deep_stacks_are_complete
  else
    t_fail unwind_auto_200_deep_stacks_are_complete "$(grep -c deep_odd "$f") deep_odd lines"
  fi
  u_equiv unwind_auto_equals_libunwind_truncated "$T/unwind_deep" HEAPSNAP_DEPTH=64
else
  t_fail unwind_deep_builds "cc failed"
fi

# The walk's memo (cfi_memo_*): stacks sharing inner or outer parts with
# the one before; the memo must have been used, or the equality says nothing.
if cc $flags tests/shim/unwind/unwind_memo.c -o "$T/unwind_memo" -pthread; then
  u_equiv unwind_auto_equals_libunwind_with_the_memo "$T/unwind_memo"
  f="$T/unwind_auto_equals_libunwind_with_the_memo_auto"
  n=$(sed -n 's/.*frames replayed from the last walk: \([0-9]*\)$/\1/p' "$f.err")
  if [ "${n:-0}" -gt 1000 ] && grep -q 'memo_site_a' "$f.txt" && grep -q 'memo_site_b' "$f.txt"; then
    t_pass unwind_memo_replays_unchanged_frames
  else
    t_fail unwind_memo_replays_unchanged_frames "replayed ${n:-none}; $(head -c 200 "$f.txt")"
  fi
else
  t_fail unwind_memo_builds "cc failed"
fi
# The same with frame pointers: there an exact repeat compares each frame's
# return address and saved rbp, adjacent words, as one 16-byte pair
# (cfi_memo_pairs), and memo_site_a's and memo_site_b's walks differ only in
# such a pair's return address.
if cc $flags -fno-omit-frame-pointer tests/shim/unwind/unwind_memo.c -o "$T/unwind_memo_fp" -pthread; then
  u_equiv unwind_auto_equals_libunwind_with_the_memo_fp "$T/unwind_memo_fp"
  f="$T/unwind_auto_equals_libunwind_with_the_memo_fp_auto"
  n=$(sed -n 's/.*frames replayed from the last walk: \([0-9]*\)$/\1/p' "$f.err")
  if [ "${n:-0}" -gt 1000 ] && grep -q 'memo_site_a' "$f.txt" && grep -q 'memo_site_b' "$f.txt"; then
    t_pass unwind_memo_fp_replays_unchanged_frames
  else
    t_fail unwind_memo_fp_replays_unchanged_frames "replayed ${n:-none}; $(head -c 200 "$f.txt")"
  fi
else
  t_fail unwind_memo_fp_builds "cc failed"
fi

# A walk that would start where a kept walk started (same return address,
# same stack pointer) but with another rbp, on which the first frame's CFA is
# based: not a repeat, even where every return address word it would read
# holds what it held (unwind_rbp.c plants them).
if cc $flags tests/shim/unwind/unwind_rbp.c -o "$T/unwind_rbp"; then
  if [ "$("$T/unwind_rbp")" = "aligned 1" ]; then
    u_equiv unwind_auto_equals_libunwind_same_start_other_rbp "$T/unwind_rbp"
  else
    t_fail unwind_rbp_calibrates "the two paths did not meet at one stack pointer"
  fi
else
  t_fail unwind_rbp_builds "cc failed"
fi

if command -v c++ >/dev/null &&
   c++ $flags -fPIC -shared tests/shim/unwind/unwind_cxx.cc -o "$T/libunwind_cxx.so" &&
   cc $flags tests/shim/unwind/unwind_cxx_main.c -o "$T/unwind_cxx" -L"$T" -lunwind_cxx -Wl,-rpath,"$T"; then
  # libstdc++'s emergency exception pool is allocated in its constructor,
  # from ld.so's _dl_init: auto walks that stack too (unwind_ctor below)
  u_equiv unwind_auto_equals_libunwind_cxx_exceptions "$T/unwind_cxx"
  # the throw's exception object (allocated in __cxa_allocate_exception, a
  # wrapper the report skips) and the handler's string both have stacks
  f="$T/unwind_auto_equals_libunwind_cxx_exceptions_auto.txt"
  throw=$(grep -n 'throw std::runtime_error' tests/shim/unwind/unwind_cxx.cc | cut -d: -f1)
  catch=$(grep -n 'new std::string(e.what())' tests/shim/unwind/unwind_cxx.cc | cut -d: -f1)
  if grep -q "unwind_cxx.cc\", line $throw, in cxx_fail" "$f" &&
     grep -q "unwind_cxx.cc\", line $catch, in cxx_guarded" "$f"; then
    t_pass unwind_cxx_throw_and_handler_stacks_recorded
  else
    t_fail unwind_cxx_throw_and_handler_stacks_recorded "no line $throw / $catch: $(head -c 300 "$f")"
  fi
else
  t_fail unwind_cxx_builds "c++ failed"
fi

# A library loaded with the program allocates in its constructor, called
# from ld.so's _dl_init: the stacks end in _dl_start_user, which has no
# FDE, and with rbp 0, where libunwind ends them.  auto ends them there
# too, each by its own walk (u_equiv's _by_cfi: none left to libunwind).
if cc $flags -fPIC -shared tests/shim/unwind/unwind_ctor.c -o "$T/libunwind_ctor.so" &&
   cc $flags tests/shim/unwind/unwind_main.c -o "$T/unwind_ctor_main" -L"$T" -lunwind_lib \
     -Wl,--no-as-needed -lunwind_ctor -Wl,-rpath,"$T"; then
  u_equiv unwind_auto_equals_libunwind_in_a_constructor "$T/unwind_ctor_main"
  f="$T/unwind_auto_equals_libunwind_in_a_constructor_auto.txt"
  if grep -q 'in ctor_leaf' "$f" && grep -q 'in _dl_init' "$f" && grep -q 'in _dl_start_user' "$f"; then
    t_pass unwind_constructor_stacks_reach_dl_start_user
  else
    t_fail unwind_constructor_stacks_reach_dl_start_user "$(grep -A6 ctor_leaf "$f" | head -c 300)"
  fi
else
  t_fail unwind_ctor_builds "cc failed"
fi
