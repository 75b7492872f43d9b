# test_fulldisk.sh - a snapshot that does not fit on the disk: the program's
# output and status are untouched, the shim says why in one line, no temporary
# file is left, and an older snapshot of the same name survives intact (the
# write goes to a temporary file; the rename never happens).  Needs a small
# tmpfs, so root; without it the cases are reported as skipped, not passed.
tests/fixtures/build.sh demo sites >/dev/null
disk=$T/tiny
mkdir -p "$disk"
if ! mount -t tmpfs -o size=64k tmpfs "$disk" 2>/dev/null; then
  for c in fulldisk_program_unchanged fulldisk_one_line_reason fulldisk_no_temp_left fulldisk_old_snapshot_kept; do
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
