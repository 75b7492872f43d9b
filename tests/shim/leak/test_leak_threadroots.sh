# tests/shim/leak/test_leak_threadroots.sh - roots a thread leaves behind: the
# return value of a thread that ended but was not joined, which pthread_join
# can still fetch (reachable; a detached thread's, or one already joined and
# dropped, is definitely lost).  Fixture: tests/shim/leak/threadret.c, whose
# header has valgrind's verdicts (the same); the exit check runs in place
# and on a fork (HEAPSNAP_LEAK_FORK=1).  And a signal handler on an
# alternate signal stack (tests/shim/leak/sigalt.c).  Snapshots are read with
# tests/shim/hsnap_dump.c --leaks; blocks are named by their size.

L=tests/shim/leak
t_build threadret $L/threadret.c -pthread &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail threadroots_build "fixtures do not build"; return 0 2>/dev/null || exit 0; }

# tr_check NAME MODE FORK WANT_CLASS (1 reachable, 3 definitely lost)
tr_check() {
  local name=$1 m=$2 fork=$3 want=$4 out f got
  rm -f "$T/tr.$m.$fork".*
  out=$(HEAPSNAP_LEAK_FORK=$fork HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/tr.$m.$fork.%p.hsnap" \
        LD_PRELOAD="$SHIM" "$T/threadret" "$m" 2>"$T/tr.$m.$fork.err")
  f=$(ls "$T"/tr.$m.$fork.*.hsnap 2>/dev/null | head -1)
  got=$([ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" | awk '$1 == "block" && $2 == 48 { print $3 }')
  if [ "$out" = gone ] && [ "$got" = "$want" ]; then t_pass "$name"
  else t_fail "$name" "printed '$out', class '$got' want '$want'; $(head -c 200 "$T/tr.$m.$fork.err")"; fi
}

tr_check unjoined_thread_return_value_is_reachable joinable 0 1
tr_check unjoined_thread_pthread_exit_value_is_reachable exit 0 1
tr_check unjoined_thread_return_value_is_reachable_on_a_fork joinable 1 1
tr_check detached_thread_return_value_is_lost detached 0 3
tr_check joined_then_dropped_return_value_is_lost joined 0 3

# ---- a signal handler on an alternate signal stack (tests/shim/leak/sigalt.c) ----
# The check runs from the handler: its frame on the alternate stack and the
# frame it interrupted on main's stack are roots (memcheck agrees: only 5003
# is lost).  The alternate stack is mmap'd: HEAPSNAP_MAPPED_ROOTS=0 keeps it
# from being a root as a mapping.
t_build sigalt $L/sigalt.c || { t_fail sigalt_build "cc failed"; return 0 2>/dev/null || exit 0; }
rm -f "$T"/sa.*
out=$(HEAPSNAP_MAPPED_ROOTS=0 HEAPSNAP_OUTPUT="$T/sa.exit.%p.hsnap" LD_PRELOAD="$SHIM" \
      "$T/sigalt" "$T/sa.hsnap" 2>"$T/sa.err")
got=$([ -e "$T/sa.hsnap" ] && "$T/hsnap_dump" --leaks "$T/sa.hsnap" |
      awk '$1 == "block" && $2 >= 5001 && $2 <= 5003 { printf "%s:%s ", $2, $3 }')
if [ "$out" = "collect 1" ] && [ "$got" = "5001:1 5002:1 5003:3 " ]; then
  t_pass check_from_handler_on_sigaltstack_scans_both_stacks
else
  t_fail check_from_handler_on_sigaltstack_scans_both_stacks "printed '$out', classes '$got'; $(head -c 200 "$T/sa.err")"
fi

# ---- a check called from a coroutine on a stack of its own (makecontext,
# mmap'd; tests/shim/leak/coroutine.c): the coroutine's running frame and the
# suspended thread stack are both roots (memcheck agrees: only 6003 is
# lost).  The coroutine's stack is found as memory the program mapped
# (HEAPSNAP_MAPPED_ROOTS, the default): docs/limits.md says what =0 misses.
t_build coroutine $L/coroutine.c || { t_fail coroutine_build "cc failed"; return 0 2>/dev/null || exit 0; }
rm -f "$T"/co.*
out=$(HEAPSNAP_OUTPUT="$T/co.exit.%p.hsnap" LD_PRELOAD="$SHIM" "$T/coroutine" "$T/co.hsnap" 2>"$T/co.err")
got=$([ -e "$T/co.hsnap" ] && "$T/hsnap_dump" --leaks "$T/co.hsnap" |
      awk '$1 == "block" && $2 >= 6001 && $2 <= 6003 { printf "%s:%s ", $2, $3 }')
if [ "$out" = "collect 1" ] && [ "$got" = "6001:1 6002:1 6003:3 " ]; then
  t_pass check_from_coroutine_scans_its_stack_and_the_thread_stack
else
  t_fail check_from_coroutine_scans_its_stack_and_the_thread_stack "printed '$out', classes '$got'; $(head -c 200 "$T/co.err")"
fi
