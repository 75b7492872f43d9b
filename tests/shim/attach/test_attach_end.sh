# test_attach_end.sh - the ways an attach session ends besides `heapsnap
# detach`: Ctrl-C (SIGINT) on heapsnap attach, and the end of --duration;
# both write the last snapshot, list it, and leave the process running.
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread

at_start "$T/target"
at_attach; a=$?
at_cmd "a 32"
kill -INT "$AT_CLI"
wait "$AT_CLI"; rc=$?
at_cmd "a 32"                       # still running, no longer traced
at_end
if [ "$a" = 0 ] && [ "$rc" = 0 ] && grep -q "^heapsnap: wrote $(at_snap)" "$T/attach.err" &&
   grep -q '^heapsnap: detached from process' "$T/attach.err" && [ "$AT_STATUS" = 0 ] &&
   "$HEAPSNAP" top "$(at_snap)" 2>/dev/null | grep -q 'target.c:36: size=3200 B, count=100,' &&
   [ ! -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ]; then
  t_pass attach_ctrl_c_detaches_and_lists_the_snapshot
else t_fail attach_ctrl_c_detaches_and_lists_the_snapshot "attach $a exit $rc: $(head -c 300 "$T/attach.err")"; fi

at_start "$T/target"
"$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" --duration 0.5 2>"$T/attach.err"; rc=$?
at_cmd "a 8"
at_end
if [ "$rc" = 0 ] && grep -q "^heapsnap: wrote $(at_snap)" "$T/attach.err" && [ "$AT_STATUS" = 0 ] &&
   printf 'allocated 100\nbye\n' | diff - "$T/transcript" >/dev/null; then
  t_pass attach_duration_ends_the_session
else t_fail attach_duration_ends_the_session "exit $rc: $(head -c 300 "$T/attach.err")"; fi

"$HEAPSNAP" detach 999999999 2>"$T/detach.err"; rc=$?
if [ "$rc" = 2 ] && grep -q '^heapsnap: bad PID\|^heapsnap: detach: no process' "$T/detach.err"; then
  t_pass detach_of_no_process_says_so
else t_fail detach_of_no_process_says_so "exit $rc: $(head -c 200 "$T/detach.err")"; fi
at_start "$T/target"
"$HEAPSNAP" detach "$AT_PID" 2>"$T/detach.err"; rc=$?
at_end
if [ "$rc" = 2 ] && grep -q "^heapsnap: detach: process $AT_PID is not attached" "$T/detach.err"; then
  t_pass detach_of_a_process_not_attached_says_so
else t_fail detach_of_a_process_not_attached_says_so "exit $rc: $(head -c 200 "$T/detach.err")"; fi
