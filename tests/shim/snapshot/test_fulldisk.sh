# test_fulldisk.sh - a snapshot that does not fit on the disk: the program's
# output and status are untouched, the shim says why in one line, no temporary
# file is left, and an older snapshot of the same name survives intact (the
# write goes to a temporary file; the rename never happens).  Needs a small
# tmpfs, so root; without it the cases are reported as skipped, not passed.
# The state file (on by default) shares the disk: a chunk of it that does
# not fit gives back what it took, and at the end the state file gives its
# room to the exit snapshot that would not fit beside it.
# tier: full (a full filesystem per case)
tests/fixtures/build.sh demo sites phases >/dev/null
disk=$T/tiny
mkdir -p "$disk"
if ! mount -t tmpfs -o size=64k tmpfs "$disk" 2>/dev/null; then
  for c in fulldisk_program_unchanged fulldisk_one_line_reason fulldisk_no_temp_left fulldisk_old_snapshot_kept \
    fulldisk_state_gives_room_written fulldisk_state_gives_room_happened; do
    t_skip "$c" "cannot mount a tmpfs here (not root?)"
  done
  return 0 2>/dev/null || exit 0
fi
trap 'umount "$disk" 2>/dev/null' EXIT

# an older, small snapshot under the name the big one will try to take
HEAPSNAP_OUTPUT="$disk/snap.hsnap" LD_PRELOAD="$SHIM" "$BUILD/fixtures/sites" >/dev/null
cp "$disk/snap.hsnap" "$T/old.hsnap"

"$BUILD/fixtures/demo" >"$T/plain.out" 2>"$T/plain.err"; want=$?
HEAPSNAP_OUTPUT="$disk/snap.hsnap" LD_PRELOAD="$SHIM" "$BUILD/fixtures/demo" >"$T/shim.out" 2>"$T/shim.err"; got=$?
if [ "$got" = "$want" ] && cmp -s "$T/plain.out" "$T/shim.out"; then t_pass fulldisk_program_unchanged
else t_fail fulldisk_program_unchanged "status $got (want $want) or stdout differs"; fi
if [ "$(cat "$T/shim.err")" = "heapsnap: cannot write $disk/snap.hsnap: No space left on device" ]; then
  t_pass fulldisk_one_line_reason
else t_fail fulldisk_one_line_reason "stderr: $(head -c 200 "$T/shim.err")"; fi
if [ "$(ls -A "$disk")" = "snap.hsnap" ]; then t_pass fulldisk_no_temp_left
else t_fail fulldisk_no_temp_left "left: $(ls -A "$disk" | tr '\n' ' ')"; fi
if cmp -s "$T/old.hsnap" "$disk/snap.hsnap" && "$HEAPSNAP" info "$disk/snap.hsnap" >/dev/null; then
  t_pass fulldisk_old_snapshot_kept
else t_fail fulldisk_old_snapshot_kept "the older snapshot was changed or damaged"; fi
umount "$disk"; trap - EXIT

# Disks from 72 to 136 KiB: phases' state file wants up to ~116 KiB, its
# snapshot ~3 KiB.  Each size writes the snapshot, says nothing of a
# failure, and leaves no state file; on some the state file had to give its
# room (HEAPSNAP_VERBOSE says so), which is the path under test.
bad= gave=0
for kb in 72 80 88 96 104 112 120 128 136; do
  mount -t tmpfs -o size=${kb}k tmpfs "$disk" || { bad="$bad mount-$kb"; continue; }
  trap 'umount "$disk" 2>/dev/null' EXIT
  HEAPSNAP_VERBOSE=1 HEAPSNAP_OUTPUT="$disk/p.hsnap" LD_PRELOAD="$SHIM" "$BUILD/fixtures/phases" \
    >/dev/null 2>"$T/room.err"
  grep -q "the state file gave its room" "$T/room.err" && gave=$((gave + 1))
  if [ "$(ls -A "$disk")" != p.hsnap ] || grep -q "cannot write" "$T/room.err" ||
     ! "$HEAPSNAP" info "$disk/p.hsnap" >/dev/null 2>&1; then
    bad="$bad ${kb}k:$(ls -A "$disk" | tr '\n' ,)"
  fi
  umount "$disk"; trap - EXIT
done
if [ -z "$bad" ]; then t_pass fulldisk_state_gives_room_written
else t_fail fulldisk_state_gives_room_written "disks without a good snapshot:$bad"; fi
if [ "$gave" -gt 0 ]; then t_pass fulldisk_state_gives_room_happened
else t_fail fulldisk_state_gives_room_happened "no disk size made the state file give its room"; fi
