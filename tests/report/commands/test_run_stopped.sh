# tests/report/commands/test_run_stopped.sh - run's last line when the program
# ended with recording stopped (tracemalloc's examples end with stop()): no
# exit snapshot is written (shim/pause.c), and run says that is why (the shim
# tells it on run's channel, HSNAP_RUNMSG_STOPPED_MAGIC), not "a signal
# killed it, or it ignores LD_PRELOAD"; started again, the snapshot is written.
. tests/shim/python/lib_py.sh

stopped_says() { # NAME ERRFILE
  if grep -q '^heapsnap: no snapshot was written by .*: it ended with recording stopped' "$2" &&
    ! grep -q 'killed\|ignores LD_PRELOAD' "$2"; then
    t_pass "$1"
  else t_fail "$1" "$(head -c 400 "$2" | tr '\n' '|')"; fi
}

# A C program stopped from its start (HEAPSNAP_PAUSED), never started.
mkdir -p "$T/c"
HEAPSNAP_PAUSED=1 "$HEAPSNAP" run -o "$T/c/c.%p.hsnap" -- sh -c 'exit 3' >/dev/null 2>"$T/c.err"
rc=$?
if [ "$rc" = 3 ] && [ -z "$(ls -A "$T/c")" ]; then stopped_says run_stopped_paused_program_says_why "$T/c.err"
else t_fail run_stopped_paused_program_says_why "status $rc, files: $(ls "$T/c")"; fi

read -r tag py < <(py_interpreters)
if [ -z "$py" ]; then t_skip run_stopped_python "no CPython 3.10-3.13 here"; return 0; fi
mkdir -p "$T/p" "$T/q"
cat >"$T/stop.py" <<'PY'
import heapsnap as tracemalloc
tracemalloc.start()
x = [bytes(100) for _ in range(1000)]
print(tracemalloc.take_snapshot().statistics("lineno")[0].count >= 1000)
tracemalloc.stop()
PY
PYTHONPATH=$PWD/python "$HEAPSNAP" run -o "$T/p/p.%p.hsnap" -- "$py" "$T/stop.py" >"$T/p.out" 2>"$T/p.err"
if [ "$(cat "$T/p.out")" = True ] && [ -z "$(ls -A "$T/p")" ]; then
  stopped_says "run_stopped_by_heapsnap_stop_says_why_$tag" "$T/p.err"
else t_fail "run_stopped_by_heapsnap_stop_says_why_$tag" "out '$(cat "$T/p.out")', files $(ls "$T/p"): $(head -c 300 "$T/p.err")"; fi

# Stopped, then started again: the exit snapshot is written, no such line.
printf 'tracemalloc.start()\n' >>"$T/stop.py"
PYTHONPATH=$PWD/python "$HEAPSNAP" run -o "$T/q/q.%p.hsnap" -- "$py" "$T/stop.py" >/dev/null 2>"$T/q.err"
if grep -q '^heapsnap: wrote ' "$T/q.err" && ! grep -q 'no snapshot was written' "$T/q.err"; then
  t_pass "run_stopped_then_started_writes_its_snapshot_$tag"
else t_fail "run_stopped_then_started_writes_its_snapshot_$tag" "$(head -c 400 "$T/q.err" | tr '\n' '|')"; fi
