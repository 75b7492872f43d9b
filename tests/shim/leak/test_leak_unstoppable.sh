# tests/shim/leak/test_leak_unstoppable.sh - threads the leak check cannot stop
# (they block the stop signal with the raw system call): the check never
# scans in place while one runs.  It moves to a fork of the process, whose
# image stands still (and judges nothing lost: their registers are unread), or,
# when no fork may be made (HEAPSNAP_LEAK_FORK=0), it is skipped and the
# snapshot says so.  And a thread the shim did not see start (its
# pthread_create hook bypassed) is stopped and scanned all the same: the
# stop reaches every task of /proc/self/task.  Fixtures:
# tests/shim/leak/unstoppable.c, hiddenthread.c + hiddenlib.c (valgrind:
# definitely lost 0 for both).  And more threads than one chunk of the
# registry holds (hiddenthread.c many).

L=tests/shim/leak
t_build unstoppable $L/unstoppable.c -O1 -pthread || { t_fail leak_unstoppable_build "cc failed"; return 0 2>/dev/null || exit 0; }

# three runs: a scan in place while the lists change failed every time
bad=""
for i in 1 2 3; do
  (cd "$T" && "$HEAPSNAP" run --gate -- ./unstoppable 50 >"$T/u.$i.out" 2>&1) || bad="$bad run$i:$(tail -2 "$T/u.$i.out" | tr '\n' ' ')"
done
if [ -z "$bad" ]; then t_pass leak_unstoppable_threads_check_on_a_fork
else t_fail leak_unstoppable_threads_check_on_a_fork "$bad"; fi

# never a fork: no check, said in the snapshot, in info and by gate (2)
rm -f "$T"/us.*.hsnap
HEAPSNAP_LEAK_FORK=0 HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/us.%p.hsnap" LD_PRELOAD="$SHIM" \
  "$T/unstoppable" 50 2>"$T/us.err"
f=$(ls "$T"/us.*.hsnap 2>/dev/null | head -1)
if [ -n "$f" ] && "$HEAPSNAP" info "$f" | grep -q '^leak check: *skipped (a thread could not be stopped' &&
   grep -q 'leak check skipped: a thread could not be stopped' "$T/us.err"; then
  t_pass leak_unstoppable_no_fork_skips_and_says_so
else
  t_fail leak_unstoppable_no_fork_skips_and_says_so "$( [ -n "$f" ] && "$HEAPSNAP" info "$f" | grep 'leak check'; head -c 200 "$T/us.err")"
fi
out=$("$HEAPSNAP" gate "$f" 2>&1); rc=$?
if [ "$rc" = 2 ] && echo "$out" | grep -q 'skipped: a thread could not be stopped'; then
  t_pass leak_unstoppable_gate_names_the_skip
else t_fail leak_unstoppable_gate_names_the_skip "exit $rc: $out"; fi

# a thread started past the shim's hook (dlsym(RTLD_NEXT, "pthread_create")
# from a library, as jemalloc does) holds a block only on its stack while
# main exits (its check in place, then on a fork)
t_build libhidden.so $L/hiddenlib.c -shared -fPIC -ldl &&
t_build hiddenthread $L/hiddenthread.c -pthread -L"$T" -lhidden -Wl,-rpath,"$T" || { t_fail leak_hidden_thread_build "cc failed"; return 0 2>/dev/null || exit 0; }
for fk in 0 1; do
  out=$(cd "$T" && HEAPSNAP_LEAK_FORK=$fk "$HEAPSNAP" run --gate -- ./hiddenthread 2>&1); rc=$?
  if [ $rc = 0 ]; then t_pass leak_hidden_thread_stack_is_a_root_fork$fk
  else t_fail leak_hidden_thread_stack_is_a_root_fork$fk "exit $rc: $(echo "$out" | grep -E 'FAIL|direct' | head -2)"; fi
done
# the same thread blocking every signal (jemalloc's background threads do):
# it is never stopped, so the check runs on a fork, where its whole stack is
# found by its TCB and scanned (before: not scanned, the block direct)
out=$(cd "$T" && "$HEAPSNAP" run --gate -- ./hiddenthread blocked 2>&1); rc=$?
if [ $rc = 0 ]; then t_pass leak_hidden_unstoppable_thread_stack_is_a_root
else t_fail leak_hidden_unstoppable_thread_stack_is_a_root "exit $rc: $(echo "$out" | grep -E 'FAIL|direct' | head -2)"; fi
# the same thread while main runs the on-demand check
out=$(cd "$T" && HEAPSNAP_OUTPUT="$T/hid.%p.hsnap" LD_PRELOAD="$SHIM" ./hiddenthread api 2>&1)
if [ "$out" = "collect 0" ]; then t_pass leak_hidden_thread_stack_is_a_root_api
else t_fail leak_hidden_thread_stack_is_a_root_api "got '$out', want 'collect 0'"; fi

# ---- more threads than one chunk of the registry's slots (mapped as the
# threads come): 150 registered (three chunks) and 70 hidden ones, whose
# slots the stop maps while it runs; every one stopped, every block held
# on their stacks reachable (hiddenthread.c many)
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail leak_many_threads_build "cc failed"; return 0 2>/dev/null || exit 0; }
rm -f "$T"/many.*
out=$(HEAPSNAP_OUTPUT="$T/many.exit.%p.hsnap" LD_PRELOAD="$SHIM" "$T/hiddenthread" many "$T/many.hsnap" 2>"$T/many.err")
[ -e "$T/many.hsnap" ] && "$T/hsnap_dump" --leaks "$T/many.hsnap" >"$T/many.txt"
got=$(awk '$1 == "block" && ($2 == 7001 || $2 == 7002) { print $2 ":" $3 }' "$T/many.txt" 2>/dev/null |
      sort | uniq -c | awk '{ printf "%s*%s ", $2, $1 }')
if [ "$out" = "collect 0" ] && [ "$got" = "7001:1*150 7002:1*70 " ] && grep -qx 'unstopped 0' "$T/many.txt"; then
  t_pass leak_threads_past_one_registry_chunk_are_stopped_and_scanned
else
  t_fail leak_threads_past_one_registry_chunk_are_stopped_and_scanned "printed '$out', blocks '$got', $(grep unstopped "$T/many.txt" 2>&1); $(head -c 200 "$T/many.err")"
fi
