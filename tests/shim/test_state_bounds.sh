# test_state_bounds.sh - every HEAPSNAP_STATE the shim accepts works: the
# smallest (1 MiB) and the largest (1024 MiB) keep a state that reads after
# a kill; more is refused at start with a warning.  A state that misses
# something says what: no document yet (how long its process lived), or a
# full disk (not HEAPSNAP_STATE's bound).  The program is
# tests/shim/earlykill.c, whose sites and peak grow.  The default bound
# reached warns of nothing (a bound the user set does: test_killstate.sh).
. tests/shim/lib_kill.sh
t_build earlykill tests/shim/earlykill.c -pthread
E=$T/earlykill
# the smallest and the largest bounds: a state that reads after a kill
# (the smallest fills, and says so once; the largest warns of nothing)
for mib in 1 1024; do
  mkdir -p "$T/b$mib"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/b$mib/e.hsnap" HEAPSNAP_STATE=$mib "$E" 2>"$T/b$mib.err" & p=$!
  f=""
  for i in $(seq 100); do
    f=$(ls "$T/b$mib"/*.state 2>/dev/null | head -1)
    [ -n "$f" ] && [ "$(kill_beats "$f" 2>/dev/null)" -ge 2 ] 2>/dev/null && break
    sleep 0.05
  done
  kill -KILL "$p"; wait "$p" 2>/dev/null
  warned=$(grep -c . "$T/b$mib.err")
  if [ -n "$f" ] && { [ "$mib" = 1 ] && [ "$warned" -le 1 ] || [ "$warned" = 0 ]; } &&
     "$HEAPSNAP" info "$f" 2>"$T/b$mib.info" | grep -q "^reason: *killed"; then
    t_pass "state_bound_${mib}_mib_works"
  else
    t_fail "state_bound_${mib}_mib_works" "file '$f'; shim: $(head -c 200 "$T/b$mib.err"); info: $(head -c 200 "$T/b$mib.info")"
  fi
done

# a bound reached before the first document: a fork's child inherits 32,768
# traces (earlykill fork 15), more stacks than 1 MiB holds, and must take
# them all at its first heartbeat; its documents then count the traces
# whose stacks fit, so the state still reads after a kill and says the
# file was full (it wrote no document at all before)
mkdir -p "$T/ff"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/ff/f.%p.hsnap" HEAPSNAP_STATE=1 "$E" fork 15 2>"$T/ff.err" & p=$!
c=$(kill_child "$p"); f=""
for i in $(seq 250); do
  f=$(ls "$T/ff"/f."$c".hsnap.state 2>/dev/null)
  [ -n "$f" ] && break
  sleep 0.02
done
# the child's file starts with its parent's heartbeat count: two of its own
[ -n "$f" ] && kill_settle "$f"
kill_now "$c"; wait "$p" 2>/dev/null
if [ -n "$f" ] && "$HEAPSNAP" info "$f" >"$T/ff.info" 2>&1 && grep -q "^reason: *killed" "$T/ff.info" &&
   grep -q "the state file was full (HEAPSNAP_STATE)" "$T/ff.info" &&
   "$HEAPSNAP" top "$f" 2>/dev/null | grep -q "earlykill.c:[0-9]*: size="; then
  t_pass state_bound_full_before_first_document_still_reads
else
  t_fail state_bound_full_before_first_document_still_reads "file '$f': $(head -c 300 "$T/ff.info")"
fi

# past it: refused at start, with one warning, the program unharmed
mkdir -p "$T/over"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/over/x.hsnap" HEAPSNAP_STATE=16384 /bin/true 2>"$T/over.err"; rc=$?
if [ "$rc" = 0 ] && grep -q "bad value for HEAPSNAP_STATE" "$T/over.err" &&
   [ "$(wc -l <"$T/over.err")" = 1 ]; then
  t_pass state_bound_past_1024_mib_refused_at_start
else
  t_fail state_bound_past_1024_mib_refused_at_start "exit $rc: $(head -c 300 "$T/over.err")"
fi

# the default bound reached says nothing (HEAPSNAP_VERBOSE would): the user
# set no bound to change, and the state stays right (its documents count
# the traces whose stacks fit); the snapshot's info still says it filled.
# deepsites: 65,536 traces of about 42 nodes of their own, 2.75M nodes,
# past the default 64 MiB's 2.2M
t_build deepsites tests/shim/deepsites.c -O1 -fno-omit-frame-pointer
mkdir -p "$T/dflt"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/dflt/d.hsnap" "$T/deepsites" 16 42 2>"$T/dflt.err"; rc=$?
"$HEAPSNAP" info "$T/dflt/d.hsnap" >"$T/dflt.info" 2>/dev/null
if [ "$rc" = 0 ] && ! grep -q "state file" "$T/dflt.err" &&
   grep -q "^state file:.*the state file was full (HEAPSNAP_STATE)" "$T/dflt.info" &&
   grep -q "^traces: *65536" "$T/dflt.info"; then
  t_pass state_default_bound_full_warns_nothing
else
  t_fail state_default_bound_full_warns_nothing "exit $rc: $(head -c 300 "$T/dflt.err"); $(grep -E '^(state file|traces)' "$T/dflt.info")"
fi

# the default spelt out (as heapsnap attach's configuration does: "64") is
# still the default: nothing said
LD_PRELOAD=$SHIM HEAPSNAP_STATE=64 HEAPSNAP_OUTPUT="$T/dflt/e.hsnap" "$T/deepsites" 16 42 2>"$T/dflt64.err"; rc=$?
if [ "$rc" = 0 ] && ! grep -q "state file" "$T/dflt64.err"; then
  t_pass state_default_bound_spelt_out_warns_nothing
else t_fail state_default_bound_spelt_out_warns_nothing "exit $rc: $(head -c 300 "$T/dflt64.err")"; fi

# a state with no document: "ended before its state was first written" only
# when the process lived less than a heartbeat; with a full flag, what
# filled first (hsnap_state.h: beats, a u64 at 48; flags, a u32 at 60;
# doc_slot, a u32 at 152)
nodoc() { # BEATS FLAGS: the 1 MiB state with no document, BEATS beats, FLAGS
  cp --sparse=always "$T/b1"/*.state "$T/nodoc.state"
  printf '\377\377\377\377' | dd of="$T/nodoc.state" bs=1 seek=152 conv=notrunc status=none
  python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<Q', $1))" |
    dd of="$T/nodoc.state" bs=1 seek=48 conv=notrunc status=none
  python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<I', $2))" |
    dd of="$T/nodoc.state" bs=1 seek=60 conv=notrunc status=none
  "$HEAPSNAP" info "$T/nodoc.state" 2>&1 >/dev/null
}
one=$(nodoc 1 0) nine=$(nodoc 9 0) disk1=$(nodoc 1 6)
if echo "$one" | grep -q "ended before its state was first written" &&
   echo "$nine" | grep -q "lived 9 heartbeats but wrote no document" &&
   ! echo "$nine" | grep -q "ended before" &&
   echo "$disk1" | grep -q "wrote no document into it: the disk was full before the first" &&
   ! echo "$disk1" | grep -q "ended before"; then
  t_pass state_without_document_says_how_long_it_lived
else
  t_fail state_without_document_says_how_long_it_lived "1 beat: $one; 9 beats: $nine; full disk: $disk1"
fi

# a state whose disk filled says so, not that HEAPSNAP_STATE's bound was
# reached (hsnap_state.h: flags, a u32 at 60; HSTATE_FULL_DISK 4)
disk=$T/disk; mkdir -p "$disk"
if ! mount -t tmpfs -o size=256k tmpfs "$disk" 2>/dev/null; then
  t_skip full_disk_state_says_the_disk_was_full "cannot mount a tmpfs here (not root?)"
else
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$disk/e.hsnap" "$E" 2>/dev/null & p=$!
  flags=0 # up to 15 s: under a loaded make check the first document can take
  for i in $(seq 750); do # seconds to come (the loop ends as the flag shows)
    f=$(ls "$disk"/*.state 2>/dev/null | head -1)
    [ -n "$f" ] && flags=$(od -An -t u4 -j 60 -N 4 "$f" | tr -d ' ')
    [ $((${flags:-0} & 4)) != 0 ] && break
    sleep 0.02
  done
  kill -KILL "$p"; wait "$p" 2>/dev/null
  "$HEAPSNAP" info "$f" >"$T/disk.info" 2>"$T/disk.err"
  # the disk may fill before the first document (a loaded machine): then
  # info has no state to show, and says the disk was full before it
  if { grep -q "the disk was full, some sites are missing" "$T/disk.err" &&
       grep -q "^state file:.*(the disk was full: some sites are missing)" "$T/disk.info"; } ||
     grep -q "wrote no document into it: the disk was full before the first" "$T/disk.err" &&
     ! grep -q "HEAPSNAP_STATE" "$T/disk.err"; then
    t_pass full_disk_state_says_the_disk_was_full
  else
    t_fail full_disk_state_says_the_disk_was_full "flags $flags: $(head -c 300 "$T/disk.err")"
  fi
  umount -l "$disk"
fi
