# test_fulldisk_leaks.sh - the leak check on a fork (HEAPSNAP_LEAK_FORK=1),
# its copy of the process writing its sections to a full disk: the warning
# names the cause (the copy's errno), not only that the copy failed, and
# the program's output and status stay as they are.  Needs a small tmpfs,
# so root; without it the cases are reported as skipped.
tests/fixtures/build.sh demo >/dev/null
disk=$T/tiny
mkdir -p "$disk"
if ! mount -t tmpfs -o size=64k tmpfs "$disk" 2>/dev/null; then
  t_skip fulldisk_leak_fork_says_why "cannot mount a tmpfs here (not root?)"
  t_skip fulldisk_leak_fork_program_unchanged "cannot mount a tmpfs here (not root?)"
  return 0 2>/dev/null || exit 0
fi
trap 'umount "$disk" 2>/dev/null' EXIT
"$BUILD/fixtures/demo" >"$T/plain.out" 2>/dev/null; want=$?
HEAPSNAP_LEAKS=1 HEAPSNAP_LEAK_FORK=1 HEAPSNAP_OUTPUT="$disk/s.hsnap" LD_PRELOAD="$SHIM" \
  "$BUILD/fixtures/demo" >"$T/shim.out" 2>"$T/shim.err"; got=$?
printf '%s\n' "heapsnap: leak check skipped: its copy of the process could not write its part of the snapshot: No space left on device" \
  "heapsnap: cannot write $disk/s.hsnap: No space left on device" >"$T/want.err"
t_golden fulldisk_leak_fork_says_why "$T/want.err" "$T/shim.err"
if [ "$got" = "$want" ] && cmp -s "$T/plain.out" "$T/shim.out"; then t_pass fulldisk_leak_fork_program_unchanged
else t_fail fulldisk_leak_fork_program_unchanged "status $got (want $want) or stdout differs"; fi
umount "$disk"; trap - EXIT
