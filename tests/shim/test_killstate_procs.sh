# test_killstate_procs.sh - the state file a SIGKILL leaves, across a
# process's life (shim/state/state.c, state_after_fork_child), under a plain preload with the state
# file at its default: a forked child killed mid-growth leaves its own, and
# its parent's stays its parent's (the sums of a parent of 20,000 stacks
# moved whole); a raw clone child (no fork handler) that
# frees what it inherited leaves its parent's sums alone; an image that
# execs leaves no state file, the program it becomes leaves its own (with
# HEAPSNAP_EXEC_SNAPSHOT=1 or not), and an exec that failed keeps it.
# Every kill follows a FIFO handshake and two heartbeats (lib_kill.sh).
# tier: full (SIGKILL across a process's life)
. tests/shim/lib_kill.sh

t_build killproc tests/shim/killproc.c
t_build killgrow tests/shim/killgrow.c -pthread
PARENT='killproc.c:[0-9]*: size=800 KiB, count=100, average=8192 B'
CHILD='killproc.c:[0-9]*: size=15.6 MiB, count=1000, average=16.0 KiB'
GROW='killgrow.c:[0-9]*: size=15.6 MiB, count=1000, average=16.0 KiB'
SPREAD='killproc.c:[0-9]*: size=625 KiB, count=20000, average=32 B'

# kp_top NAME STATE: `top` on a state file into $T/NAME.top (empty: none)
kp_top() { : >"$T/$1.top"; [ -f "$2" ] && "$HEAPSNAP" top "$2" >"$T/$1.top" 2>/dev/null; }

# kp_appear FILE: waits (5 s at most) until FILE exists.
kp_appear() {
  local i=0
  while [ ! -f "$1" ] && [ "$i" -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
  [ -f "$1" ]
}

# kp_fork MODE: killproc MODE in $T/MODE ($d) as $pid; its forked child
# ($cpid) is killed once its state settles, then the parent once it has
# waited for the child and its own state settles.
kp_fork() {
  d=$T/$1 && mkdir -p "$d" && mkfifo "$d/fifo"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/k.%p.hsnap" "$T/killproc" "$1" "$d/fifo" &
  pid=$!
  kill_wait_fifo "$d/fifo"
  cpid=$(pgrep -P "$pid" | head -1)
  kill_settle "$d/k.$cpid.hsnap.state"
  [ -n "$cpid" ] && kill -KILL "$cpid" # the parent's: it waits for it, then says "p"
  kill_wait_fifo "$d/fifo" && kill_settle "$d/k.$pid.hsnap.state"
  kill_now "$pid"
}

# ---- fork: the child's own state, the parent's untouched
kp_fork fork
kp_top child "$d/k.$cpid.hsnap.state"
if [ -n "$cpid" ] && grep -q "^tests/shim/$CHILD" "$T/child.top" && grep -q "$PARENT" "$T/child.top"
then t_pass fork_child_killed_leaves_its_own_state
else t_fail fork_child_killed_leaves_its_own_state "child $cpid: $(ls "$d"; head -c 300 "$T/child.top")"; fi
kp_top parent "$d/k.$pid.hsnap.state"
if grep -q "^tests/shim/$PARENT" "$T/parent.top" && ! grep -q "killproc.c:[0-9]*: size=15" "$T/parent.top"
then t_pass fork_parent_state_keeps_its_own_sites
else t_fail fork_parent_state_keeps_its_own_sites "$(ls "$d"; head -c 300 "$T/parent.top")"; fi

# ---- fork of a parent whose cells fill more chunks than a small fork
# moves a page at a time (STATE_MOVE_FEW): every chunk bounced whole, so
# the child's state holds the 20,000 blocks of 20,000 stacks it inherited
kp_fork forkmany
kp_top many "$d/k.$cpid.hsnap.state"
if [ -n "$cpid" ] && grep -q "^tests/shim/$CHILD" "$T/many.top" && grep -q "$PARENT" "$T/many.top" &&
   grep -q "^tests/shim/$SPREAD" "$T/many.top"
then t_pass fork_child_of_many_stacks_keeps_their_sums
else t_fail fork_child_of_many_stacks_keeps_their_sums "child $cpid: $(ls "$d"; head -c 300 "$T/many.top")"; fi

# ---- a raw clone child frees the blocks it inherited: the parent's cells
# are not its own (it shares their pages), so its parent still holds them
d=$T/rawclone && mkdir -p "$d" && mkfifo "$d/fifo"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/k.%p.hsnap" "$T/killproc" rawclone "$d/fifo" &
pid=$!
kill_wait_fifo "$d/fifo" && kill_settle "$d/k.$pid.hsnap.state"
kill_now "$pid"
kp_top rawclone "$d/k.$pid.hsnap.state"
if grep -q "^tests/shim/$PARENT" "$T/rawclone.top" && [ "$(ls "$d" | grep -c state)" = 1 ]
then t_pass rawclone_child_leaves_parent_state_alone
else t_fail rawclone_child_leaves_parent_state_alone "$(ls "$d" | tr '\n' ' '; head -c 300 "$T/rawclone.top")"; fi

# ---- exec: a failed one keeps the file; after one that works, the
# program it became leaves its own and the image before leaves none
for es in 0 1; do
  d=$T/exec$es && mkdir -p "$d" && mkfifo "$d/fifo"
  HEAPSNAP_EXEC_SNAPSHOT=$es LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/%e.%p.hsnap" \
    "$T/killproc" exec "$d/fifo" "$T/killgrow" 1000 "$d/fifo" &
  pid=$!
  kill_wait_fifo "$d/fifo"
  kp_appear "$d/killproc.$pid.hsnap.state" && kill_settle "$d/killproc.$pid.hsnap.state"
  kp_top failed$es "$d/killproc.$pid.hsnap.state"
  if grep -q "^tests/shim/$PARENT" "$T/failed$es.top"
  then t_pass "exec_failed_keeps_the_state_file_$es"
  else t_fail "exec_failed_keeps_the_state_file_$es" "$(ls "$d" | tr '\n' ' ')"; fi
  echo go >"$d/fifo"
  kill_wait_fifo "$d/fifo" && kill_settle "$d/killgrow.$pid.hsnap.state"
  kill_now "$pid"
  kp_top exec$es "$d/killgrow.$pid.hsnap.state"
  if grep -q "^tests/shim/$GROW" "$T/exec$es.top" && ! grep -q "killproc.c" "$T/exec$es.top"
  then t_pass "exec_then_kill_leaves_the_new_image_state_$es"
  else t_fail "exec_then_kill_leaves_the_new_image_state_$es" "$(ls "$d" | tr '\n' ' '; head -c 300 "$T/exec$es.top")"; fi
  states=$(cd "$d" && ls | grep '\.state$' | tr '\n' ' ')
  snaps=$(cd "$d" && ls | grep -c "^killproc\.$pid\.[0-9]*\.hsnap$")
  if [ "$states" = "killgrow.$pid.hsnap.state " ] && [ "$snaps" = $((es * 2)) ]
  then t_pass "exec_then_kill_leaves_no_stale_state_$es"
  else t_fail "exec_then_kill_leaves_no_stale_state_$es" "state files: $states; exec snapshots: $snaps"; fi
done
