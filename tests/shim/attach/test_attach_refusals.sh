# test_attach_refusals.sh - what heapsnap attach refuses, each with one line
# that says why and what to do, exit 2, and the process untouched (not
# traced, still answering, the shim not loaded): no such process, a static
# binary, a program without the malloc family in its GOT, a process traced
# already, a stopped one, another user's, one that is not dumpable (its user
# may not trace it), and Yama's ptrace_scope; and a detach while an attach
# is still under way says so (not "not attached").
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread
t_build nomalloc tests/shim/attach/nomalloc.c
t_build tracer tests/shim/attach/tracer.c

# refused NAME PATTERN: the last attach exited 2 with one line matching PATTERN.
refused() {
  local rc=$1 name=$2 pat=$3
  if [ "$rc" = 2 ] && [ "$(wc -l <"$T/refusal.err")" = 1 ] && grep -q "^heapsnap: attach: .*$pat" "$T/refusal.err"; then
    t_pass "$name"
  else t_fail "$name" "exit $rc: $(head -c 300 "$T/refusal.err")"; fi
}
# untouched NAME: the target answers, is not traced, has no shim.
untouched() {
  local tracer
  tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/$AT_PID/status")
  at_cmd "a 8"
  if [ "$tracer" = 0 ] && [ "$AT_REPLY" = "allocated 100" ] && ! grep -q libheapsnap "/proc/$AT_PID/maps"; then
    t_pass "$1"
  else t_fail "$1" "TracerPid $tracer, answer '$AT_REPLY'"; fi
}

# no such process
true & gone=$!; wait $gone
"$HEAPSNAP" attach "$gone" 2>"$T/refusal.err"
refused $? attach_refuses_a_pid_that_does_not_exist "no process $gone"

# a static binary
if t_build target_static tests/shim/attach/target.c -pthread -static 2>"$T/static.err"; then
  at_start "$T/target_static"
  "$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
  refused $? attach_refuses_a_static_binary "statically linked"
  untouched attach_refusal_leaves_a_static_binary_untouched
  at_end
else t_skip attach_refuses_a_static_binary "no static libc to link with: $(head -c 200 "$T/static.err")"; fi

# no malloc family in the program's GOT
at_start "$T/nomalloc"
"$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
refused $? attach_refuses_a_program_without_malloc_in_its_got "does not call the malloc family"
echo x >&7; IFS= read -t 20 -r AT_REPLY <&8
if [ "$AT_REPLY" = ok ] && ! grep -q libheapsnap "/proc/$AT_PID/maps"; then
  t_pass attach_refusal_leaves_a_program_without_malloc_untouched
else t_fail attach_refusal_leaves_a_program_without_malloc_untouched "answer '$AT_REPLY'"; fi
at_end

# traced already, then stopped
at_start "$T/target"
mkfifo "$T/tr.in" "$T/tr.out"
"$T/tracer" "$AT_PID" <"$T/tr.in" >"$T/tr.out" 2>&1 & tr=$!
exec 5>"$T/tr.in" 6<"$T/tr.out"
read -t 10 -r said <&6
"$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
refused $? attach_refuses_a_process_traced_already "already traced by process $tr"
exec 5>&- 6<&-; wait $tr
kill -STOP "$AT_PID"
for _ in $(seq 200); do grep -q '^State:.*T' "/proc/$AT_PID/status" && break; sleep 0.01; done
"$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
refused $? attach_refuses_a_stopped_process "is stopped: continue it first (kill -CONT $AT_PID)"
kill -CONT "$AT_PID"
untouched attach_refusal_leaves_a_traced_or_stopped_process_untouched
at_end

# another user's process, and Yama (heapsnap run as nobody, if we are root)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$HEAPSNAP"; then
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  at_start "$T/target"
  as_nobody "$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
  refused $? attach_refuses_another_users_process "belongs to uid 0: no permission to trace it; run heapsnap as that user"
  untouched attach_refusal_leaves_another_users_process_untouched
  at_end
  chmod 755 "$T"
  # a program its user may run but not read is not dumpable: ptrace is for
  # root alone (the refusal comes from /proc/PID/exe, before any ptrace)
  cp "$T/target" "$T/target_xo" && chmod 711 "$T/target_xo"
  at_start as_nobody "$T/target_xo"
  as_nobody "$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
  refused $? attach_refuses_a_process_that_is_not_dumpable "no permission to trace process $AT_PID (target_xo): it is not dumpable.*; run heapsnap as root$"
  untouched attach_refusal_leaves_a_process_that_is_not_dumpable_untouched
  at_end
  echo 1 >"$T/scope"
  at_start as_nobody "$T/target"
  HEAPSNAP_YAMA_FILE=$T/scope as_nobody "$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
  refused $? attach_refuses_under_yama_scope_1 "Yama ptrace_scope=1): only a parent may trace its child"
  untouched attach_refusal_under_yama_leaves_the_process_untouched
  at_end
else
  t_skip attach_refuses_another_users_process "not root, or no setpriv to become nobody"
  t_skip attach_refuses_under_yama_scope_1 "not root, or no setpriv to become nobody"
fi
echo 3 >"$T/scope3"
at_start "$T/target"
HEAPSNAP_YAMA_FILE=$T/scope3 "$HEAPSNAP" attach "$AT_PID" 2>"$T/refusal.err"
refused $? attach_refuses_under_yama_scope_3 "Yama ptrace_scope=3): no process may be traced"
untouched attach_refusal_under_yama_scope_3_leaves_the_process_untouched
at_end

# --- detach while an attach is still under way: it says so, not "not attached" ---
at_start "$T/target"
at_halt_hold 2
cli=$AT_CLI
"$HEAPSNAP" detach "$AT_PID" 2>"$T/refusal.err"; drc=$?
kill -KILL "$cli"; wait "$cli" 2>/dev/null
for _ in $(seq 300); do at_attached && break; sleep 0.01; done # the call ends alone
"$HEAPSNAP" detach "$AT_PID" >/dev/null 2>&1
at_end
if [ "$drc" = 2 ] && grep -q "^heapsnap: detach: process $AT_PID is not attached yet: process $cli traces it (an attach under way" "$T/refusal.err"; then
  t_pass detach_during_an_attach_says_it_is_under_way
else t_fail detach_during_an_attach_says_it_is_under_way "exit $drc: $(head -c 300 "$T/refusal.err") [$(head -c 200 "$T/attach.err")]"; fi
