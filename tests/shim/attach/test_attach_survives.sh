# test_attach_survives.sh - the target survives anything that happens to
# heapsnap attach: killed (SIGKILL) at each step of the injection
# (HEAPSNAP_INJECT_HALT holds it there), killed or hung up on during a
# dlopen that waits for another thread's slow one, and timed out; each
# time the borrowed thread goes back to what it was doing, the program's
# answers are those of a run without attach, and a session the call
# started alone can be ended by heapsnap detach.
# tier: full (SIGKILL at each step of an injection)
. tests/shim/attach/lib_attach.sh
t_build survivor tests/shim/attach/survivor.c -pthread -rdynamic -ldl
t_build slowlib.so tests/shim/attach/slowlib.c -shared -fPIC

# pong N...: the next answers are pong N...
pongs() { local n; for n in "$@"; do at_cmd p; [ "$AT_REPLY" = "pong $n" ] || return 1; done; }

# Steps: 1 the mmap set up, 2 the call set up, 3 inside the call, 4 the
# call's memory being unmapped, 5 everything done but the registers.
# 1 is undone (no session); from 2 on the call completes (a session).
bad=""
for step in 1 2 3 4 5; do
  at_start "$T/survivor" pong
  pongs 1 || bad="$bad; step $step: no first pong"
  r0=$(at_regions)
  at_halt "$step" || bad="$bad; step $step: never got there: $(head -c 200 "$T/attach.err")"
  pongs 2 3 || bad="$bad; step $step: no pong after the kill ($AT_REPLY)"
  if [ "$step" = 1 ]; then
    at_attached && bad="$bad; step 1: a session though undone"
  else
    for _ in $(seq 300); do at_attached && break; sleep 0.01; done
    timeout 150 "$HEAPSNAP" detach "$AT_PID" >/dev/null 2>"$T/detach.err" ||
      bad="$bad; step $step: detach: $(head -c 200 "$T/detach.err")"
  fi
  pongs 4 || bad="$bad; step $step: no pong after the detach"
  # the call's own memory is gone but where the call finished alone (2, 3:
  # docs/usage.md says so)
  r1=$(at_regions)
  case "$step" in 2|3) [ "$r1" = $((r0 + 1)) ] ;; *) [ "$r1" = "$r0" ] ;; esac ||
    bad="$bad; step $step: $r0 then $r1 call regions"
  at_end
  [ "$AT_STATUS" = 0 ] && printf 'pong 1\npong 2\npong 3\npong 4\nbye\n' | diff - "$T/transcript" >/dev/null ||
    bad="$bad; step $step: exit $AT_STATUS, transcript $(tr '\n' ' ' <"$T/transcript")"
done
if [ -z "$bad" ]; then t_pass attach_killed_at_each_step_leaves_the_target_as_it_was
else t_fail attach_killed_at_each_step_leaves_the_target_as_it_was "${bad#; }"; fi

# A dlopen that waits 1.5 s for another thread's (whose constructor sleeps).
slow_start() {
  at_start "$T/survivor" slow "$T/slowlib.so" 1500
  at_cmd d
}
slow_end() { # the program's own dlopen ends, and the program as it was
  at_cmd l
  local l=$AT_REPLY
  at_end
  [ "$l" = loaded ] && [ "$AT_STATUS" = 0 ] &&
    printf 'dlopening\npong 1\nloaded\nbye\n' | diff - "$T/transcript" >/dev/null
}

slow_start
at_halt 3; h=$?
at_cmd p; p=$AT_REPLY                  # answered once its dlopen is done
for _ in $(seq 300); do at_attached && break; sleep 0.01; done
timeout 150 "$HEAPSNAP" detach "$AT_PID" >/dev/null 2>"$T/detach.err"; d=$?
if slow_end && [ "$h" = 0 ] && [ "$p" = "pong 1" ] && [ "$d" = 0 ]; then
  t_pass attach_killed_during_a_slow_dlopen_leaves_the_target_as_it_was
else t_fail attach_killed_during_a_slow_dlopen_leaves_the_target_as_it_was "halt $h, $p, detach $d: $(tr '\n' ' ' <"$T/transcript") $(head -c 200 "$T/detach.err")"; fi

# SIGHUP (the terminal closed) while the call waits: heapsnap finishes the
# injection, detaches at once, and leaves.
slow_start
"$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" >"$T/attach.out" 2>"$T/attach.err" &
AT_CLI=$!
for _ in $(seq 500); do # traced: the call is under way
  [ "$(awk '/^TracerPid:/ {print $2}' "/proc/$AT_PID/status")" = "$AT_CLI" ] && break; sleep 0.01
done
kill -HUP "$AT_CLI"
wait "$AT_CLI"; rc=$?
at_cmd p; p=$AT_REPLY
if slow_end && [ "$rc" = 0 ] && [ "$p" = "pong 1" ] && ! at_attached &&
   grep -q "^heapsnap: detached from process $AT_PID" "$T/attach.err"; then
  t_pass attach_hung_up_during_the_call_detaches_before_it_leaves
else t_fail attach_hung_up_during_the_call_detaches_before_it_leaves "exit $rc, $p: $(tr '\n' ' ' <"$T/attach.err")"; fi

# Its time limit (30 s, here 0.3 s): heapsnap leaves, the call goes on.
slow_start
HEAPSNAP_INJECT_TIMEOUT_MS=300 timeout 150 "$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" 2>"$T/attach.err"; rc=$?
[ "$rc" = 124 ] && echo "attach hung: $(at_threads "$AT_PID")" >>"$T/attach.err"
at_cmd p; p=$AT_REPLY
for _ in $(seq 300); do at_attached && break; sleep 0.01; done
timeout 150 "$HEAPSNAP" detach "$AT_PID" >/dev/null 2>"$T/detach.err"; d=$?
if slow_end && [ "$rc" = 2 ] && [ "$p" = "pong 1" ] && [ "$d" = 0 ] &&
   grep -q "did not return within 0 s: it goes on there" "$T/attach.err"; then
  t_pass attach_timed_out_leaves_the_call_to_finish_alone
else t_fail attach_timed_out_leaves_the_call_to_finish_alone "exit $rc, $p, detach $d: $(head -c 300 "$T/attach.err")"; fi

# A session that nothing disturbs leaves no trace of the injection: the
# code tail holds its bytes again, the call's memory is gone.
at_start "$T/survivor" pong
b0=$(at_blobs)
at_attach; a=$?
b1=$(at_blobs) r1=$(at_regions)
at_detach
pongs 1
at_end
if [ "$a" = 0 ] && [ "$b0" = 0 ] && [ "$b1" = 0 ] && [ "$r1" = 0 ] && [ "$AT_DETACH_RC" = 0 ] &&
   [ "$AT_STATUS" = 0 ]; then
  t_pass attach_puts_the_code_tail_back_and_unmaps_its_memory
else t_fail attach_puts_the_code_tail_back_and_unmaps_its_memory "attach $a, code copies $b0 then $b1, regions $r1, detach $AT_DETACH_RC"; fi
