# test_guest.sh - a host finds no trace of the shim where it looks at its
# own process: its last thread's pthread_exit ends it, exit status 0 and
# atexit handlers run, as without the shim (the helper thread does not
# hold it open: thr_alone), also when the thread that ended before it is
# not gone yet, and the exit snapshot is written; a fatal
# signal's disposition, asked without setting it, is the program's default
# while the shim's handler stands in for it (sig_stand_in), and the
# program's own handler once it sets one.  tests/shim/guest.c.
. tests/shim/lib_shim.sh
s_build guest || t_fail guest_builds "cc failed"

"$T/guest" lastexit >"$T/plain.out" 2>&1; plain=$?
timeout -s KILL 20 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/g.%p.hsnap" "$T/guest" lastexit \
  >"$T/shim.out" 2>"$T/shim.err"; rc=$?
set -- "$T"/g.*.hsnap
if [ "$plain" = 0 ] && [ "$rc" = 0 ] && cmp -s "$T/plain.out" "$T/shim.out" && [ $# = 1 ] && [ -f "$1" ] &&
   "$HEAPSNAP" info "$1" 2>/dev/null | grep -q '^reason: *exit'; then
  t_pass guest_last_thread_pthread_exit_ends_process
else
  t_fail guest_last_thread_pthread_exit_ends_process "plain $plain, shim $rc (137: killed, it lived on), out '$(cat "$T/shim.out")', files: $*"
fi

# The worker's end lingers past the shim's key (a later key's destructor
# sleeps 200 ms after it lets main leave): main's end must wait for it to
# be gone (thr_key_end), not leave the process to the helper for ever.
"$T/guest" lastlinger >"$T/lplain.out" 2>&1; plain=$?
timeout -s KILL 20 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/l.%p.hsnap" "$T/guest" lastlinger \
  >"$T/lshim.out" 2>"$T/lshim.err"; rc=$?
set -- "$T"/l.*.hsnap
if [ "$plain" = 0 ] && [ "$rc" = 0 ] && cmp -s "$T/lplain.out" "$T/lshim.out" && [ $# = 1 ] && [ -f "$1" ]
then t_pass guest_last_thread_waits_for_one_ending
else t_fail guest_last_thread_waits_for_one_ending "plain $plain, shim $rc (137: killed, it lived on), out '$(cat "$T/lshim.out")', files: $*"
fi

"$T/guest" sigquery >"$T/q.plain" 2>&1
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/q.%p.hsnap" "$T/guest" sigquery >"$T/q.shim" 2>&1
if grep -q '^11 dfl, then handler$' "$T/q.plain" && cmp -s "$T/q.plain" "$T/q.shim"; then
  t_pass guest_fatal_signal_query_answers_default
else
  t_fail guest_fatal_signal_query_answers_default "plain: $(tr '\n' ' ' <"$T/q.plain") shim: $(tr '\n' ' ' <"$T/q.shim")"
fi
