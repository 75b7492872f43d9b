# tests/shim/leak/test_leak_fork.sh - the leak check on a fork of the process
# (HEAPSNAP_LEAK_FORK, shim/leak/fork.c): the program's threads run while
# the copy is scanned; the copy is invisible to the program (no SIGCHLD, no
# child for wait(), none left behind, also when the program reaps every
# child and ignores SIGCHLD); its verdicts are the in-place check's.
# Fixtures: tests/shim/leak/forkwatch.c, leaky.c; dumps by tests/shim/hsnap_dump.c.
# tier: full (the leak check on forks, under load)

L=tests/shim/leak
t_build forkwatch $L/forkwatch.c -pthread &&
t_build leaky $L/leaky.c -pthread -ldl &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail leak_fork_fixtures_build "cc failed"; return 0 2>/dev/null || exit 0; }

# f_watch NAME WANT [ENV...] -- ARGS: forkwatch's line must be WANT
f_watch() {
  local name=$1 want=$2 out; shift 2
  out=$(env HEAPSNAP_OUTPUT="$T/$name.%p.hsnap" "$@" 2>"$T/$name.err")
  if [ "$out" = "$want" ]; then t_pass "$name"
  else t_fail "$name" "got '$out', want '$want' $(head -c 200 "$T/$name.err")"; fi
}
f_watch leak_check_threads_run_while_its_fork_scans \
  "seen=1 exit_signal=0 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  LD_PRELOAD="$SHIM" "$T/forkwatch" 200000
f_watch leak_fork_unseen_by_a_host_that_reaps_every_child \
  "seen=1 exit_signal=0 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  LD_PRELOAD="$SHIM" "$T/forkwatch" 200000 reap
# a copy that dies (here by SIGKILL from the program) is no answer: the
# check returns -1 and the warning names the signal
f_watch leak_fork_killed_copy_named_by_its_signal \
  "seen=1 exit_signal=0 sigchld=0 waitpid=-1 errno=10 leaked=-1" \
  LD_PRELOAD="$SHIM" "$T/forkwatch" 200000 kill
if grep -q "leak check skipped: its copy of the process ended without an answer: killed by SIGKILL" \
  "$T/leak_fork_killed_copy_named_by_its_signal.err"; then
  t_pass leak_fork_killed_copy_warns_its_signal
else
  t_fail leak_fork_killed_copy_warns_its_signal "$(head -c 300 "$T/leak_fork_killed_copy_named_by_its_signal.err")"
fi
f_watch leak_fork_off_checks_in_place \
  "seen=0 exit_signal=-1 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  HEAPSNAP_LEAK_FORK=0 LD_PRELOAD="$SHIM" "$T/forkwatch" 200000

# the same classes, refcounts, flags, records, retainers and unstopped
# threads on a fork as in place, for each kind of heap of leaky.c; with a
# thread that cannot be stopped (blocked), whose stack is read as it runs,
# the classes, totals and records (its references depend on the moment);
# there "in place" is auto, which moves that check to a fork as well: never
# in place while a thread runs (test_leak_unstoppable)
f_keep() { if [ "$1" = blocked ]; then awk '$1 == "block" { print $1, $2, $3; next } $1 != "ret"' "$2"; else cat "$2"; fi; }
bad=""
for mode in basic threads blocked worker; do
  for fk in 1 0; do
    rm -f "$T"/lf.*.hsnap
    [ $mode = blocked ] && [ $fk = 0 ] && fk=auto
    HEAPSNAP_LEAK_FORK=$fk HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/lf.%p.hsnap" LD_PRELOAD="$SHIM" \
      "$T/leaky" $mode >/dev/null 2>"$T/lf.err"
    f=$(ls "$T"/lf.*.hsnap 2>/dev/null | head -1)
    [ $fk = auto ] && fk=0
    : >"$T/lf.$mode.$fk.txt"
    [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" >"$T/lf.dump" && f_keep $mode "$T/lf.dump" >"$T/lf.$mode.$fk.txt"
  done
  if ! grep -q '^total' "$T/lf.$mode.1.txt" || ! cmp -s "$T/lf.$mode.1.txt" "$T/lf.$mode.0.txt"; then
    bad="$bad $mode"
  fi
done
if [ -z "$bad" ]; then t_pass leak_fork_verdicts_equal_in_place
else t_fail leak_fork_verdicts_equal_in_place "differ or missing:$bad"; fi

# HEAPSNAP_LEAK_FORK=auto, the default: the exit snapshot's check of a heap
# of at most 16384 live blocks runs in place (no clone to wait for), of a
# bigger heap on a fork, as does every check before exit (forkwatch above);
# 1 forks at exit too.  The place is HEAPSNAP_VERBOSE's line; the leaks
# found are the same in both places.
t_build leakcheck scripts/bench/programs/leakcheck.c -O1 || { t_fail leak_fork_exit_build "cc failed"; return 0 2>/dev/null || exit 0; }
# f_where NAME WANT LIVE [ENV...]: where the exit check of leakcheck LIVE 10 ran
f_where() {
  local name=$1 want=$2 live=$3 got f; shift 3
  rm -f "$T"/lw.*.hsnap
  env "$@" HEAPSNAP_VERBOSE=1 HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/lw.%p.hsnap" LD_PRELOAD="$SHIM" \
    "$T/leakcheck" "$live" 10 >/dev/null 2>"$T/$name.err"
  got=$(sed -n 's/^heapsnap: leak check: \(on a fork\|in place\)$/\1/p' "$T/$name.err")
  f=$(ls "$T"/lw.*.hsnap 2>/dev/null | head -1)
  [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" | grep -v '^meta' >"$T/$name.dump"
  if [ "$got" = "$want" ] && [ -s "$T/$name.dump" ]; then t_pass "$name"
  else t_fail "$name" "check ran '$got', want '$want' $(head -c 200 "$T/$name.err")"; fi
}
f_where leak_fork_auto_exit_small_heap_in_place "in place" 16000
f_where leak_fork_on_exit_small_heap_on_a_fork "on a fork" 16000 HEAPSNAP_LEAK_FORK=1
f_where leak_fork_auto_exit_big_heap_on_a_fork "on a fork" 17000
# without a stop signal, threads still running at exit could move pointers
# under an in-place scan: the fork's image stands still
f_where leak_fork_auto_exit_no_stop_signal_on_a_fork "on a fork" 16000 HEAPSNAP_STOP_SIGNAL=off
if [ -s "$T/leak_fork_auto_exit_small_heap_in_place.dump" ] &&
   grep -q '^total' "$T/leak_fork_auto_exit_small_heap_in_place.dump" &&
   cmp -s "$T/leak_fork_auto_exit_small_heap_in_place.dump" "$T/leak_fork_on_exit_small_heap_on_a_fork.dump"; then
  t_pass leak_fork_exit_in_place_same_leaks
else
  t_fail leak_fork_exit_in_place_same_leaks "the exit check in place and on a fork differ: $(diff "$T/leak_fork_auto_exit_small_heap_in_place.dump" "$T/leak_fork_on_exit_small_heap_on_a_fork.dump" | head -c 300)"
fi
