# tests/leaks/test_leak_fork.sh - the leak check on a fork of the process
# (HEAPSNAP_LEAK_FORK, shim/leak/fork.c): the program's threads run while
# the copy is scanned; the copy is invisible to the program (no SIGCHLD, no
# child for wait(), none left behind, also when the program reaps every
# child and ignores SIGCHLD); its verdicts are the in-place check's.
# Fixtures: tests/leaks/forkwatch.c, leaky.c; dumps by tests/shim/hsnap_dump.c.

L=tests/leaks
t_build forkwatch $L/forkwatch.c -pthread &&
t_build leaky $L/leaky.c -pthread -ldl &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz || { t_fail leak_fork_fixtures_build "cc failed"; return 0 2>/dev/null || exit 0; }

# f_watch NAME WANT [ENV...] -- ARGS: forkwatch's line must be WANT
f_watch() {
  local name=$1 want=$2 out; shift 2
  out=$(env "$@" 2>"$T/$name.err")
  if [ "$out" = "$want" ]; then t_pass "$name"
  else t_fail "$name" "got '$out', want '$want' $(head -c 200 "$T/$name.err")"; fi
}
f_watch leak_check_threads_run_while_its_fork_scans \
  "seen=1 exit_signal=0 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  LD_PRELOAD="$SHIM" "$T/forkwatch" 200000
f_watch leak_fork_unseen_by_a_host_that_reaps_every_child \
  "seen=1 exit_signal=0 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  LD_PRELOAD="$SHIM" "$T/forkwatch" 200000 reap
f_watch leak_fork_off_checks_in_place \
  "seen=0 exit_signal=-1 sigchld=0 waitpid=-1 errno=10 leaked=1" \
  HEAPSNAP_LEAK_FORK=0 LD_PRELOAD="$SHIM" "$T/forkwatch" 200000

# the same classes, refcounts, flags, records, retainers and unstopped
# threads on a fork as in place, for each kind of heap of leaky.c; with a
# thread that cannot be stopped (blocked), whose stack is read as it runs,
# the classes, totals and records (its references depend on the moment)
f_keep() { if [ "$1" = blocked ]; then awk '$1 == "block" { print $1, $2, $3; next } $1 != "ret"' "$2"; else cat "$2"; fi; }
bad=""
for mode in basic threads blocked worker; do
  for fk in 1 0; do
    rm -f "$T"/lf.*.hsnap
    HEAPSNAP_LEAK_FORK=$fk HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/lf.%p.hsnap" LD_PRELOAD="$SHIM" \
      "$T/leaky" $mode >/dev/null 2>"$T/lf.err"
    f=$(ls "$T"/lf.*.hsnap 2>/dev/null | head -1)
    : >"$T/lf.$mode.$fk.txt"
    [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" >"$T/lf.dump" && f_keep $mode "$T/lf.dump" >"$T/lf.$mode.$fk.txt"
  done
  if ! grep -q '^total' "$T/lf.$mode.1.txt" || ! cmp -s "$T/lf.$mode.1.txt" "$T/lf.$mode.0.txt"; then
    bad="$bad $mode"
  fi
done
if [ -z "$bad" ]; then t_pass leak_fork_verdicts_equal_in_place
else t_fail leak_fork_verdicts_equal_in_place "differ or missing:$bad"; fi
