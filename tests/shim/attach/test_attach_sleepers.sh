# test_attach_sleepers.sh - a thread blocked in a system call when heapsnap
# attaches (the one the attach borrows) carries on as after a signal with no
# handler: nanosleep sleeps its whole time, accept still takes the
# connection.  (read on a pipe: test_attach.sh, whose target waits there.)
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread

# --- sleeping in nanosleep at the attach: the sleep is restarted, whole ---
at_start "$T/target"
at_cmd "n 1500"                     # "sleeping"; then 1.5 s in nanosleep
at_attach; a=$?
at_read                             # "slept ok": the whole 1.5 s, no crash
at_detach
at_end
if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ "$AT_STATUS" = 0 ] &&
   printf 'sleeping\nslept ok\nbye\n' | diff - "$T/transcript" >/dev/null; then
  t_pass attach_during_nanosleep_restarts_the_sleep
else t_fail attach_during_nanosleep_restarts_the_sleep "attach $a, detach $AT_DETACH_RC, exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript")"; fi

# --- blocked in accept() at the attach: the connection still comes in ---
at_start "$T/target"
at_cmd l                            # "port P", then blocks in accept
port=${AT_REPLY#port }
at_attach; a=$?
{ exec 9<>"/dev/tcp/127.0.0.1/$port" && echo hello >&9 && exec 9>&-; } 2>/dev/null
at_read                             # "accepted hello"
at_detach
at_end
if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ "$AT_STATUS" = 0 ] && grep -qx 'accepted hello' "$T/transcript"; then
  t_pass attach_during_accept_keeps_accepting
else t_fail attach_during_accept_keeps_accepting "attach $a, detach $AT_DETACH_RC, exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript")"; fi

