# tests/shim/lib_kill.sh - helpers of the tests that kill a program and read
# the state file it leaves (sourced after tests/lib.sh).
#
# kill_beats FILE: the state file's heartbeat count (hsnap_state.h: u64 at 48).
kill_beats() { od -An -t u8 -j 48 -N 8 "$1" 2>/dev/null | tr -d ' '; }

# kill_u32 FILE OFFSET: a u32 of the state file's header.
kill_u32() { od -An -t u4 -j "$2" -N 4 "$1" 2>/dev/null | tr -d ' '; }

# kill_settle FILE [BEATS]: waits (30 s at most, or until BEATS more
# heartbeats) until a heartbeat that began after the call found the
# state's document holding every allocation counted (hsnap_state.h:
# doc_fresh, u32 at 196), or the file full (flags at 60, HSTATE_FULL_DOC:
# no newer document comes).  The program holds still once it told the
# test so; two heartbeats after the call, the second began after it.  The
# shim brings an idle process's document up to date within a beat or two
# (state_beat_now), so this is quick.  No fixed sleep.
kill_settle() {
  local b0 i=0 most=${2:-0}
  b0=$(kill_beats "$1"); b0=${b0:-0}
  while [ "$i" -lt 1500 ]; do
    local b fl; b=$(kill_beats "$1")
    if [ -n "$b" ] && [ "$b" -ge $((b0 + 2)) ]; then
      fl=$(kill_u32 "$1" 60)
      [ "$(kill_u32 "$1" 196)" = 1 ] && return 0
      [ $(( ${fl:-0} & 2 )) -ne 0 ] && return 0
      [ "$most" -gt 0 ] && [ "$b" -ge $((b0 + most)) ] && return 1
    fi
    sleep 0.02; i=$((i + 1))
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
