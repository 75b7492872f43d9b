# test_attach_borrowed_state.sh - what the borrowed thread holds is its own
# after an attach: a thread parked in a signal handler on an 8 KiB
# sigaltstack finds no byte written around that stack, and a thread that
# spins with values in ymm0-ymm7 finds them unchanged, whether heapsnap
# puts them back or the thread does alone (the CLI killed in the call).
. tests/shim/attach/lib_attach.sh
t_build survivor tests/shim/attach/survivor.c -pthread -rdynamic -ldl

at_start "$T/survivor" altstack
at_read; parked=$AT_REPLY
at_attach; a=$?
at_detach
echo go >&7
at_read; fence=$AT_REPLY
exec 7>&- 8<&-
wait "$AT_TPID"; st=$?
if [ "$parked" = parked ] && [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ "$fence" = "fence ok" ] &&
   [ "$st" = 0 ]; then
  t_pass attach_writes_nothing_around_a_small_sigaltstack
else t_fail attach_writes_nothing_around_a_small_sigaltstack "$parked, attach $a, detach $AT_DETACH_RC, $fence, exit $st: $(head -c 300 "$T/attach.err")"; fi

if ! grep -qw avx2 /proc/cpuinfo; then
  t_skip attach_keeps_the_vector_registers_of_the_borrowed_thread "no AVX2 on this CPU"
  return 0
fi
bad=""
for how in detach kill; do
  at_start "$T/survivor" vector 2
  if [ "$how" = detach ]; then
    at_attach || bad="$bad; $how: not attached: $(head -c 200 "$T/attach.err")"
    at_detach
  else
    at_halt 3 || bad="$bad; $how: never in the call"
    for _ in $(seq 300); do at_attached && break; sleep 0.01; done
    "$HEAPSNAP" detach "$AT_PID" >/dev/null 2>&1 || bad="$bad; $how: no session to detach"
  fi
  at_read
  exec 7>&- 8<&-
  wait "$AT_TPID"
  [ "$AT_REPLY" = "vector ok" ] || bad="$bad; $how: $AT_REPLY"
done
if [ -z "$bad" ]; then t_pass attach_keeps_the_vector_registers_of_the_borrowed_thread
else t_fail attach_keeps_the_vector_registers_of_the_borrowed_thread "${bad#; }"; fi
