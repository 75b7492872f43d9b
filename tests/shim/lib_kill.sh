# tests/shim/lib_kill.sh - helpers of the tests that kill a program and read
# the state file it leaves (sourced after tests/lib.sh).
#
# kill_beats FILE: the state file's heartbeat count (hsnap_state.h: u64 at 48).
kill_beats() { od -An -t u8 -j 48 -N 8 "$1" 2>/dev/null | tr -d ' '; }

# kill_settle FILE: waits (5 s at most) until two heartbeats have passed, so
# that one began after the program told the test it holds its memory: the
# state's document then covers that moment.  No fixed sleep.
kill_settle() {
  local b0 i=0
  b0=$(kill_beats "$1"); b0=${b0:-0}
  while [ "$i" -lt 250 ]; do
    local b; b=$(kill_beats "$1")
    [ -n "$b" ] && [ "$b" -ge $((b0 + 2)) ] && return 0
    sleep 0.02; i=$((i + 1))
  done
  return 1
}

# kill_settle_for FILE PATTERN [TOP-ARGS...]: kill_settle, then (15 s at
# most) until `heapsnap top FILE -n 0 TOP-ARGS` has a line matching
# PATTERN.  Two heartbeats need not bring a document: documents are spaced
# by their cost (state_beat_now: an idle process's a thousand times one's
# CPU time apart), which a Python program's, on a loaded machine, makes
# seconds.
kill_settle_for() {
  local f=$1 pat=$2 i=0; shift 2
  kill_settle "$f" || return 1
  while [ "$i" -lt 75 ]; do
    "$HEAPSNAP" top "$f" -n 0 "$@" 2>/dev/null | grep -q -- "$pat" && return 0
    sleep 0.2; i=$((i + 1))
  done
  return 1
}

# kill_wait_fifo FIFO: the program's "I hold it" (10 s at most).
kill_wait_fifo() { timeout 10 cat "$1" >/dev/null; }

# kill_now PID: SIGKILL to PID (one we started), and its end waited for.
kill_now() { [ -n "$1" ] && kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# kill_child PID: the one child of PID (heapsnap run's program), 10 s at most.
kill_child() {
  local i=0 c
  while [ "$i" -lt 500 ]; do
    c=$(pgrep -P "$1" | head -1)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.02; i=$((i + 1))
  done
  return 1
}
