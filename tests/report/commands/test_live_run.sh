# test_live_run.sh - heapsnap run --live on a preloaded program (the view
# in tmux; q closes it and the program runs on to its end, its snapshot
# listed), and live's refusals: no such process, no ptrace permission, no
# terminal: one line, exit 2.  (A preloaded process without the socket:
# test_live_any_process.)
. tests/shim/attach/lib_attach.sh
. tests/report/commands/lib_live.sh
if ! command -v tmux >/dev/null; then
  t_skip live_run_in_tmux "tmux is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
t_build target tests/shim/attach/target.c -pthread
# --- run --live: a preloaded program; q closes the view, it runs on ---
rm -f "$T/in" "$T/out" "$T/transcript"
mkfifo "$T/in" "$T/out"
# the program's own input and output on the FIFOs (the terminal is the view's)
lv_start "'$HEAPSNAP' run --live -o '$T/run.%p.hsnap' -- sh -c 'exec \"\$0\" <\"\$1\" >\"\$2\"' '$T/target' '$T/in' '$T/out' 2>'$T/run.err'"
exec 7>"$T/in" 8<"$T/out"
read -t 20 -r _ RPID <&8 || true
at_cmd "a 100"
if lv_wait "^heapsnap live: pid $RPID \\(target\\)" && lv_wait 'traced since the start' &&
   lv_top '10000 B .*target\.c:36$' && lv_wait 'close the view \[q\]'; then
  t_pass live_view_on_a_preloaded_program
else t_fail live_view_on_a_preloaded_program "$(head -c 600 "$T/pane") $(head -c 300 "$T/run.err")"; fi
lv_tmux send-keys -t v q
ok=0
end=$((SECONDS + 20))
while [ $SECONDS -lt $end ]; do grep -q 'the view is closed' "$T/run.err" && ok=1 && break; sleep 0.02; done
at_cmd "a 8"
at_cmd q
exec 7>&- 8<&-
if [ $ok = 1 ] && lv_exit_wait && [ "$(cat "$T/exit")" = 0 ] && grep -q "wrote .*run.$RPID.hsnap" "$T/run.err" &&
   printf 'allocated 100\nallocated 200\nbye\n' | diff -u - "$T/transcript" >/dev/null &&
   "$HEAPSNAP" top "$T/run.$RPID.hsnap" 2>/dev/null | grep -q 'target.c:36: size=10.5 KiB, count=200'; then
  t_pass run_live_quit_closes_the_view_and_the_program_runs_on
else t_fail run_live_quit_closes_the_view_and_the_program_runs_on "$(head -c 400 "$T/run.err") $(cat "$T/transcript")"; fi
lv_end

# --- refusals: one line, exit 2 ---
true & gone=$!; wait $gone
"$HEAPSNAP" live "$gone" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "no process $gone" "$T/err"; then
  t_pass live_refuses_a_pid_that_does_not_exist
else t_fail live_refuses_a_pid_that_does_not_exist "rc $rc: $(cat "$T/err")"; fi
at_start "$T/target"
echo 3 >"$T/yama"
lv_start "HEAPSNAP_YAMA_FILE='$T/yama' '$HEAPSNAP' live $AT_PID 2>'$T/err'"
if lv_exit_wait && [ "$(cat "$T/exit")" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] &&
   grep -q 'ptrace is restricted' "$T/err" && [ ! -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ]; then
  t_pass live_refuses_without_ptrace_permission
else t_fail live_refuses_without_ptrace_permission "exit $(cat "$T/exit" 2>/dev/null): $(cat "$T/err")"; fi
lv_end
"$HEAPSNAP" live "$AT_PID" </dev/null >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q 'needs a terminal' "$T/err" &&
   [ ! -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ]; then
  t_pass live_refuses_without_a_terminal
else t_fail live_refuses_without_a_terminal "rc $rc: $(cat "$T/err")"; fi
at_end
