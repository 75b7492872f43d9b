# test_python_killstate.sh - a Python program killed mid-growth leaves a state
# file (by default) whose sites are Python lines (its code objects are in the state), read
# by top, top --peak, timeline and html; with a plain preload and with run.
# Two interpreters (a Debian and a pyenv build) keep it fast: the state holds
# what a snapshot's PYCODE holds, which the other Python tests check per version.
. tests/shim/python/lib_py.sh
. tests/shim/lib_kill.sh

SITE='killgrow.py:[0-9]*: size=3[0-9].[0-9] MiB, count=4000,'

# pykill_read NAME STATE
pykill_read() {
  local name=$1 st=$2 ok=1 why=""
  [ -f "$st" ] || { t_fail "$name" "no state file: $(ls "$(dirname "$st")")"; return; }
  "$HEAPSNAP" top "$st" -n 3 >"$T/$name.top" 2>/dev/null
  grep -q "^tests/shim/python/$SITE" "$T/$name.top" || { ok=0; why="top: $(head -c 200 "$T/$name.top")"; }
  "$HEAPSNAP" top --peak "$st" -n 3 >"$T/$name.peak" 2>/dev/null
  grep -q "$SITE" "$T/$name.peak" || { ok=0; why="$why top --peak: $(head -c 200 "$T/$name.peak")"; }
  "$HEAPSNAP" timeline "$st" >"$T/$name.tl" 2>/dev/null
  grep -q "killgrow.py:[0-9]*  load_chunk" "$T/$name.tl" || { ok=0; why="$why timeline"; }
  "$HEAPSNAP" html "$st" -o "$T/$name.html" 2>/dev/null && grep -q "killgrow.py" "$T/$name.html" ||
    { ok=0; why="$why html"; }
  if [ "$ok" = 1 ]; then t_pass "$name"; else t_fail "$name" "$why"; fi
}

while read -r tag py; do
  d="$T/$tag" && mkdir -p "$d/pre" "$d/run" && mkfifo "$d/pre.fifo" "$d/run.fifo"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/pre/k.%p.hsnap" "$py" tests/shim/python/killgrow.py "$d/pre.fifo" &
  pid=$!
  kill_wait_fifo "$d/pre.fifo" && kill_settle "$d/pre/k.$pid.hsnap.state"
  kill_now "$pid"
  pykill_read "python_sigkill_state_read_by_the_reports_preload_$tag" "$d/pre/k.$pid.hsnap.state"

  "$HEAPSNAP" run -o "$d/run/k.%p.hsnap" -- "$py" tests/shim/python/killgrow.py "$d/run.fifo" \
    2>"$d/run.err" &
  rpid=$!
  kill_wait_fifo "$d/run.fifo"
  cpid=$(kill_child "$rpid")
  kill_settle "$d/run/k.$cpid.hsnap.state"
  kill_now "$cpid"; [ -n "$cpid" ] || kill_now "$rpid"; wait "$rpid" 2>/dev/null
  if grep -q "pid $cpid (.*) was killed by SIGKILL" "$d/run.err"; then
    pykill_read "python_sigkill_state_read_by_the_reports_run_$tag" "$d/run/k.$cpid.hsnap.state"
  else
    t_fail "python_sigkill_state_read_by_the_reports_run_$tag" "run: $(head -c 300 "$d/run.err")"
  fi
done < <(py_interpreters | head -2)
