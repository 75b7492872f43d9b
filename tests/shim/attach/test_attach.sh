# test_attach.sh - heapsnap attach and detach on a running C program, blocked
# in read() on its command FIFO at the attach: what it allocates after the
# attach is recorded at its sites, blocks from before are not (their free
# and realloc pass through), the snapshot says from when it traced, the
# program's own output is the same as without heapsnap, its memory comes
# back after the detach, and a second attach to the same process works.
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread

# --- a C program, blocked in read() on its command FIFO at each attach ---
at_start "$T/target"
at_cmd "a 64"                       # before the attach: never traced
rss0=$(at_rss_kib "$AT_PID")
if at_attach; then t_pass attach_c_program_attaches
else t_fail attach_c_program_attaches "$(head -c 300 "$T/attach.err")"; fi
at_cmd "a 32"
at_cmd r                            # realloc of a block from before the attach
at_detach
snap=$(at_snap)
if [ "$AT_DETACH_RC" = 0 ] && [ "$AT_ATTACH_RC" = 0 ] && grep -q "wrote $snap" "$T/detach.err"; then
  t_pass detach_writes_the_last_snapshot_and_lists_it
else t_fail detach_writes_the_last_snapshot_and_lists_it "detach $AT_DETACH_RC attach $AT_ATTACH_RC: $(cat "$T/detach.err" | head -c 300)"; fi
"$HEAPSNAP" top "$snap" >"$T/top.txt" 2>"$T/top.err"
if grep -q 'tests/shim/attach/target.c:36: size=3200 B, count=100, average=32 B' "$T/top.txt" &&
   ! grep -q 'size=6400 B' "$T/top.txt"; then
  t_pass attach_records_from_the_attach_on_only
else t_fail attach_records_from_the_attach_on_only "$(head -c 400 "$T/top.txt")"; fi
if grep -q 'target.c:.*size=5000 B, count=1' "$T/top.txt"; then
  t_pass attach_realloc_of_an_older_block_tracks_the_result
else t_fail attach_realloc_of_an_older_block_tracks_the_result "$(head -c 400 "$T/top.txt")"; fi
if grep -q 'attached at .*; blocks from before are not traced' "$T/top.err" &&
   "$HEAPSNAP" info "$snap" | grep -q '^attached: .*blocks from before are not traced' &&
   "$HEAPSNAP" info "$snap" | grep -q '^reason: *detach'; then
  t_pass attach_snapshot_says_from_when_it_traced
else t_fail attach_snapshot_says_from_when_it_traced "$(head -c 300 "$T/top.err")"; fi
rss1=$(at_rss_kib "$AT_PID")
if [ $((rss1 - rss0)) -lt 8192 ]; then t_pass detach_gives_memory_back_within_8_mib
else t_fail detach_gives_memory_back_within_8_mib "RSS $rss0 KiB before, $rss1 KiB after"; fi
# attached again: the shim is still mapped, and starts again
if at_attach; then
  at_cmd "a 16"
  at_detach
  if [ "$AT_DETACH_RC" = 0 ] && "$HEAPSNAP" top "$snap" 2>/dev/null | grep -q 'target.c:36: size=1600 B, count=100' &&
     ! "$HEAPSNAP" top "$snap" 2>/dev/null | grep -q 'size=3200 B'; then
    t_pass attach_again_after_detach_records_afresh
  else t_fail attach_again_after_detach_records_afresh "$("$HEAPSNAP" top "$snap" 2>&1 | head -c 300)"; fi
else t_fail attach_again_after_detach_records_afresh "$(head -c 300 "$T/attach.err")"; fi
at_cmd f
at_end
printf 'allocated 100\nallocated 200\nrealloced\nallocated 300\nfreed\nbye\n' >"$T/want"
if [ "$AT_STATUS" = 0 ] && diff -u "$T/want" "$T/transcript" >"$T/diff"; then
  t_pass attach_leaves_the_program_output_unchanged
else t_fail attach_leaves_the_program_output_unchanged "exit $AT_STATUS: $(head -c 300 "$T/diff")"; fi
if [ ! -s "$T/target.err" ]; then t_pass attach_says_nothing_on_the_program_stderr
else t_fail attach_says_nothing_on_the_program_stderr "$(head -c 300 "$T/target.err")"; fi


# --- the leak check at the detach: the session's leaks, none from before;
# the signal dispositions (HEAPSNAP_SIGNAL's, the leak check's stop signal)
# as they were before the attach (but for glibc's own two, 32 and 33, which
# its first pthread_create in a process sets up for good) ---
sigs() {
  local k v
  while read -r k v; do
    case "$k" in SigCgt:|SigIgn:) printf '%s %x ' "$k" $((0x$v & ~0x180000000)) ;; esac
  done <"/proc/$1/status"
}
at_start "$T/target"
sig0=$(sigs "$AT_PID")
at_attach --leaks --signal USR2; a=$?
at_cmd L
at_detach
sig1=$(sigs "$AT_PID")
at_end
"$HEAPSNAP" leaks "$(at_snap)" >"$T/leaks.txt" 2>&1
if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] &&
   grep -q '^400 bytes in 10 blocks are definitely lost' "$T/leaks.txt" &&
   grep -q 'leak_site (tests/shim/attach/target.c:' "$T/leaks.txt" && ! grep -q '77 bytes' "$T/leaks.txt" &&
   grep -q 'blocks from before are not traced' "$T/leaks.txt"; then
  t_pass attach_leak_check_at_detach_reports_the_session_only
else t_fail attach_leak_check_at_detach_reports_the_session_only "$(head -c 400 "$T/leaks.txt")"; fi
if [ -n "$sig0" ] && [ "$sig0" = "$sig1" ]; then t_pass detach_puts_signal_dispositions_back
else t_fail detach_puts_signal_dispositions_back "before: $sig0 after: $sig1"; fi
