# test_unwind_check.sh - the incremental walk (shim/unwind/cfi.c's memo:
# a replay of the thread's last walk, an exact repeat of a named one) gives
# exactly the stacks the full walk gives.  Every program runs with
# HEAPSNAP_UNWIND_CHECK=1, which walks each stack the memo answered again
# from scratch and counts the differences (shim/unwind/check.c); a case
# passes when no stack differed, enough were compared, and the memo really
# answered some (frames replayed), so that the equality is not vacuous.
#   targeted    ucheck.c's modes (recursion re-entered from other call
#               sites, longjmp/siglongjmp, swapcontext coroutines, signal
#               handlers on the stack and on a sigaltstack, threads, fork,
#               vfork, dlclose of a cached library, JIT code) and
#               ucheck_cxx.cc (exceptions across allocating frames)
#   differential  the bench's workloads at their smoke sizes, and the
#               programs of test_unwind_equiv.sh
# tier: full (the memo checked against full walks on every stack)
. tests/shim/lib_shim.sh
flags="-g -O1 -fomit-frame-pointer -fdebug-prefix-map=$PWD=."

# u_check NAME MIN CMD...: run CMD under the check; every process's counts
# (a fork child prints its own) say 0 differed, at least MIN stacks
# compared and some frames replayed.
u_check() {
  local name=$1 min=$2 err; shift 2
  err="$T/$name.err"
  HEAPSNAP_UNWIND_CHECK=1 HEAPSNAP_VERBOSE=1 HEAPSNAP_OUTPUT="$T/$name.%p.hsnap" \
    LD_PRELOAD="$SHIM" "$@" >"$T/$name.out" 2>"$err" </dev/null
  local rc=$? cmp diff rep
  cmp=$(sed -n 's/.*check: stacks compared with the full walk: \([0-9]*\)$/\1/p' "$err" | sort -n | tail -1)
  diff=$(sed -n 's/.*check: stacks that differed: \([0-9]*\)$/\1/p' "$err" | sort -n | tail -1)
  rep=$(sed -n 's/.*frames replayed from the last walk: \([0-9]*\)$/\1/p' "$err" | sort -n | tail -1)
  if [ "$rc" -ne 0 ]; then
    t_fail "$name" "exit $rc: $(tail -c 200 "$err" | tr '\n' ' ')"
  elif [ -z "$cmp" ] || [ -z "$diff" ]; then
    t_fail "$name" "no check counts: $(grep -E 'unwind|CHECK' "$err" | head -3 | tr '\n' ' ')"
  elif [ "$diff" -ne 0 ]; then
    t_fail "$name" "$diff stacks differed: $(grep 'incremental walk differs' "$err" | head -1)"
  elif [ "$cmp" -lt "$min" ] || [ "${rep:-0}" -eq 0 ]; then
    t_fail "$name" "vacuous: $cmp stacks compared (want $min), ${rep:-0} frames replayed"
  else
    t_pass "$name"
  fi
}

if cc $flags tests/shim/unwind/ucheck.c -o "$T/ucheck" -ldl -pthread &&
   cc $flags -fPIC -shared -DUCL_PAD=8 tests/shim/unwind/ucheck_lib.c -o "$T/libucl_a.so" &&
   cc $flags -fPIC -shared -DUCL_PAD=40 tests/shim/unwind/ucheck_lib.c -o "$T/libucl_b.so"; then
  u_check unwind_check_recursion_reentered_from_other_sites 5000 "$T/ucheck" recur
  # With frame pointers, the memo's list is pairs (saved rbp and return
  # address): deep enough for the vector compare (cfi_same_long_avx).
  if cc ${flags/-fomit-frame-pointer/-fno-omit-frame-pointer} tests/shim/unwind/ucheck.c \
       -o "$T/ucheck_fp" -ldl -pthread; then
    u_check unwind_check_recursion_reentered_with_frame_pointers 5000 "$T/ucheck_fp" recur
  else
    t_fail unwind_check_recursion_reentered_with_frame_pointers "cc failed"
  fi
  u_check unwind_check_longjmp_and_siglongjmp 2000 "$T/ucheck" jump
  u_check unwind_check_swapcontext_coroutines 3000 "$T/ucheck" context
  u_check unwind_check_signal_handlers 2000 "$T/ucheck" signal
  u_check unwind_check_signal_handlers_on_sigaltstack 2000 "$T/ucheck" altstack
  u_check unwind_check_threads_and_reused_stacks 8000 "$T/ucheck" threads
  u_check unwind_check_fork_children 1000 "$T/ucheck" fork
  [ "$(grep -c 'check: stacks that differed' "$T/unwind_check_fork_children.err")" -eq 4 ] &&
    t_pass unwind_check_fork_children_report_their_own ||
    t_fail unwind_check_fork_children_report_their_own "$(grep -c 'stacks that differed' "$T/unwind_check_fork_children.err") reports, want 4"
  u_check unwind_check_vfork_child_on_the_parents_stack 1500 "$T/ucheck" vfork
  u_check unwind_check_dlclose_of_a_cached_library 2000 "$T/ucheck" dlclose "$T/libucl_a.so" "$T/libucl_b.so"
  grep -q 'same base 1' "$T/unwind_check_dlclose_of_a_cached_library.out" ||
    t_skip unwind_check_dlclose_same_address "B was not loaded at A's address: the case ran without reuse"
  u_check unwind_check_jit_code_rewritten_in_place 1500 "$T/ucheck" jit
else
  t_fail unwind_check_builds "cc failed"
fi
if command -v c++ >/dev/null && c++ $flags tests/shim/unwind/ucheck_cxx.cc -o "$T/ucheck_cxx"; then
  u_check unwind_check_cxx_exceptions_across_allocating_frames 10000 "$T/ucheck_cxx"
else
  t_skip unwind_check_cxx_exceptions_across_allocating_frames "no c++"
fi

# The differential: the bench's workloads (smoke sizes) ...
b="-O2 -g"
cc $b scripts/bench/programs/churn.c -o "$T/churn" -pthread && cc $b scripts/bench/programs/deep.c -o "$T/deep" &&
  cc $b scripts/bench/programs/realloc.c -o "$T/realloc" && cc $b scripts/bench/programs/bigsnap.c -o "$T/bigsnap" -pthread -Ishim ||
  t_fail unwind_check_bench_builds "cc failed"
u_check unwind_check_bench_churn1 10000 "$T/churn" 200000 20000 1
u_check unwind_check_bench_churn4 10000 "$T/churn" 100000 20000 4
u_check unwind_check_bench_deep 10000 "$T/deep" 20000 10000
u_check unwind_check_bench_realloc 5000 "$T/realloc" 5000 2000
u_check unwind_check_bench_snapshot 10000 "$T/bigsnap" 20000 "$T/bigsnap.hsnap"
if command -v c++ >/dev/null && c++ $b scripts/bench/programs/cxx.cc -o "$T/cxx"; then
  u_check unwind_check_bench_cxx 10000 "$T/cxx" 20000 5000
fi
if command -v python3 >/dev/null; then
  u_check unwind_check_bench_python 10000 env PYTHONMALLOC=malloc PYTHONHASHSEED=0 python3 scripts/bench/programs/dicts.py 2
else
  t_skip unwind_check_bench_python "no python3"
fi
if command -v sqlite3 >/dev/null; then
  sed 's/@ROWS@/3000/g' scripts/bench/programs/sqlite.sql >"$T/sqlite.sql"
  u_check unwind_check_bench_sqlite 10000 sqlite3 -init "$T/sqlite.sql" :memory:
else
  t_skip unwind_check_bench_sqlite "no sqlite3"
fi

# ... and test_unwind_equiv's programs.
cc $flags -fPIC -shared tests/shim/unwind/unwind_lib.c -o "$T/libunwind_lib.so" &&
  cc $flags tests/shim/unwind/unwind_main.c -o "$T/unwind_main" -L"$T" -lunwind_lib -Wl,-rpath,"$T" &&
  cc $flags tests/shim/unwind/unwind_deep.c -o "$T/unwind_deep" -pthread &&
  cc $flags tests/shim/unwind/unwind_memo.c -o "$T/unwind_memo" -pthread &&
  cc $flags tests/shim/unwind/unwind_rbp.c -o "$T/unwind_rbp" ||
  t_fail unwind_check_equiv_builds "cc failed"
u_check unwind_check_equiv_main 100 "$T/unwind_main"
u_check unwind_check_equiv_deep 50 env HEAPSNAP_DEPTH=256 "$T/unwind_deep"
u_check unwind_check_equiv_memo 500 "$T/unwind_memo"
u_check unwind_check_equiv_rbp 10 "$T/unwind_rbp"
