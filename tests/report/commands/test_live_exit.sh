# test_live_exit.sh - attach and live name snapshots as run does: without -o,
# attach's snapshot is %e.%p.hsnap in its directory (the program's name, its
# pid); a live view whose attached process ends names the exit snapshot the
# shim wrote there.  The target is tests/shim/attach/target.c; the view runs
# in tmux (tests/report/commands/lib_live.sh).
. tests/shim/attach/lib_attach.sh
. tests/report/commands/lib_live.sh
if ! command -v tmux >/dev/null; then
  t_skip live_exit_names_the_exit_snapshot "tmux is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
t_build target tests/shim/attach/target.c -pthread

# --- attach without -o: target.PID.hsnap where attach ran ---
at_start "$T/target"
mkdir -p "$T/att"
(cd "$T/att" && exec "$HEAPSNAP" attach "$AT_PID") >"$T/attach.out" 2>"$T/attach.err" &
AT_CLI=$!
for _ in $(seq 1000); do
  grep -q '^heapsnap: attached to' "$T/attach.err" && break
  kill -0 "$AT_CLI" 2>/dev/null || break
  sleep 0.01
done
at_cmd "a 8"
at_detach
if [ "$AT_DETACH_RC" = 0 ] && [ "$(ls "$T/att")" = "target.$AT_PID.hsnap" ]; then
  t_pass attach_default_name_is_runs
else t_fail attach_default_name_is_runs "detach $AT_DETACH_RC: $(ls "$T/att" | tr '\n' ' ') $(head -c 300 "$T/attach.err")"; fi
at_end

# --- live: the process ends while attached; live names its exit snapshot ---
at_start "$T/target"
mkdir -p "$T/live"
lv_start "cd '$T/live' && '$HEAPSNAP' live $AT_PID 2>'$T/live.err'"
if lv_wait "^heapsnap live: pid $AT_PID \\(target\\)" && lv_wait 'attached at'; then
  at_cmd "a 8"
  at_end
  lv_exit_wait
  snap=target.$AT_PID.hsnap
  if grep -qx "heapsnap: process $AT_PID has ended; its exit snapshot is $snap (heapsnap top $snap)" "$T/live.err" &&
     [ -f "$T/live/$snap" ] && (cd "$T/live" && "$HEAPSNAP" top "$snap" -n 1 >/dev/null 2>&1); then
    t_pass live_exit_names_the_exit_snapshot
  else t_fail live_exit_names_the_exit_snapshot "$(head -c 300 "$T/live.err") files: $(ls "$T/live" | tr '\n' ' ')"; fi
else
  t_fail live_exit_names_the_exit_snapshot "the view did not open: $(head -c 300 "$T/pane") $(head -c 300 "$T/live.err")"
  at_end
fi
