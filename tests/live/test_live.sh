# test_live.sh - heapsnap live driven in tmux (send-keys, capture-pane) on
# tests/attach/target.c: a growing site moves to the top, the keys change
# the key, sort and thread, w writes a snapshot heapsnap reads, q detaches
# and the program runs on with its output unchanged; run --live on a
# preloaded program; the refusals (no such process, no ptrace permission,
# a preloaded process without the socket, no terminal): one line, exit 2.
# Every wait is a bounded poll on the pane or a file, never a bare sleep.
. tests/attach/lib_attach.sh
if ! command -v tmux >/dev/null; then
  t_skip live_view_in_tmux "tmux is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
t_build target tests/attach/target.c -pthread
LV_SOCK="hs-live-$$"
lv_tmux() { tmux -L "$LV_SOCK" -f /dev/null "$@"; }
# lv_start CMD: CMD in a 150x45 pane; its status goes to $T/exit.
lv_start() {
  rm -f "$T/exit"
  lv_tmux new-session -d -s v -x 150 -y 45 "cd '$PWD' && $1; echo \$? >'$T/exit'; sleep 600"
}
lv_pane() { lv_tmux capture-pane -p -t v >"$T/pane" 2>/dev/null; }
# lv_wait ERE: until the pane shows a line that matches (10 s at most).
lv_wait() {
  for _ in $(seq 500); do
    lv_pane; grep -Eq -- "$1" "$T/pane" && return 0
    sleep 0.02
  done
  return 1
}
# lv_top ERE: until the first site row (after the column header) matches.
lv_top() {
  for _ in $(seq 500); do
    lv_pane
    sed -n '/^ *LIVE  *GROWTH/{n;p;q}' "$T/pane" | grep -Eq -- "$1" && return 0
    sleep 0.02
  done
  return 1
}
lv_exit_wait() { for _ in $(seq 500); do [ -s "$T/exit" ] && return 0; sleep 0.02; done; return 1; }
lv_end() { lv_tmux kill-server 2>/dev/null || true; }

# --- live on a running program: it attaches, the growing site comes first ---
at_start "$T/target"
at_cmd "a 8"                        # before the attach: never traced
lv_start "'$HEAPSNAP' live $AT_PID -o '$AT_DIR/%p.hsnap' 2>'$T/live.err'"
if lv_wait "^heapsnap live: pid $AT_PID \\(target\\)" && lv_wait 'attached at .*blocks from before are not traced'; then
  t_pass live_attaches_and_opens_the_view
else t_fail live_attaches_and_opens_the_view "$(head -c 300 "$T/pane") $(head -c 300 "$T/live.err")"; fi
at_cmd "t 4"                        # thread_site: 4 x 50 x 48 B
at_cmd "a 16"                       # grow_site: 1600 B
if lv_top 'target\.c:37$' && lv_wait '9600 B .*target\.c:37$' && lv_wait '1600 B .*target\.c:36$'; then
  t_pass live_view_shows_the_sites_by_live_bytes
else t_fail live_view_shows_the_sites_by_live_bytes "$(head -c 600 "$T/pane")"; fi
at_cmd "a 200"                      # grow_site: +20000 B, now the largest
if lv_top 'KiB +\+21\.1 KiB .*target\.c:36$'; then
  t_pass live_growing_site_moves_to_the_top
else t_fail live_growing_site_moves_to_the_top "$(head -c 600 "$T/pane")"; fi
if lv_wait '^heap 30\.5 KiB .*peak 30\.5 KiB .*RSS [0-9.]+ [KM]iB .*allocations [0-9]+/s'; then
  t_pass live_header_has_heap_peak_rss_and_rate
else t_fail live_header_has_heap_peak_rss_and_rate "$(head -c 400 "$T/pane")"; fi

# --- keys: the key, the sort, the thread ---
lv_tmux send-keys -t v k
ok=1
lv_wait '^key function \[k\]' && lv_top ' grow_site$' || ok=0
lv_tmux send-keys -t v k
lv_wait '^key traceback \[k\]' && lv_wait 'target\.c:[0-9]+ in main$' && lv_wait 'in thread_main$' || ok=0
lv_tmux send-keys -t v l
lv_wait '^key line \[k\]' || ok=0
if [ $ok = 1 ]; then t_pass live_key_changes_line_function_traceback
else t_fail live_key_changes_line_function_traceback "$(head -c 600 "$T/pane")"; fi
ok=1
lv_tmux send-keys -t v s
lv_wait 'sort growth \[s\]' && lv_top '\+21\.1 KiB .*target\.c:36$' || ok=0
lv_tmux send-keys -t v s
lv_wait 'sort allocations \[s\]' || ok=0
lv_tmux send-keys -t v s
lv_wait 'sort live \[s\]' || ok=0
if [ $ok = 1 ]; then t_pass live_sort_changes_live_growth_allocations
else t_fail live_sort_changes_live_growth_allocations "$(head -c 600 "$T/pane")"; fi
# lv_thread NAME: t pressed until the view filters NAME (each press waited for)
lv_thread() {
  local cur
  for _ in 1 2 3 4 5; do
    lv_pane; cur=$(sed -n 's/.* thread \([^ ]*\) \[t\].*/\1/p' "$T/pane")
    [ "$cur" = "$1" ] && return 0
    lv_tmux send-keys -t v t
    lv_wait " thread [^ ]+ \\[t\\]" && for _ in $(seq 500); do
      lv_pane; grep -q " thread $cur \[t\]" "$T/pane" || break; sleep 0.02
    done
  done
  return 1
}
# the thread filter: thread_main's view holds thread_site alone
lv_thread thread_main
if lv_wait 'thread thread_main \[t\]' && lv_top 'target\.c:37$' && ! grep -q 'target\.c:36$' "$T/pane"; then
  t_pass live_thread_filter_keeps_one_thread
else t_fail live_thread_filter_keeps_one_thread "$(head -c 600 "$T/pane")"; fi
lv_thread all

# --- w: a snapshot heapsnap reads ---
lv_tmux send-keys -t v w
if lv_wait 'snapshot: wrote /' ; then
  snap=$(sed -n 's/.*snapshot: wrote \(\/[^ ]*\.hsnap\).*/\1/p' "$T/pane" | head -1)
  if [ -f "$snap" ] && "$HEAPSNAP" top "$snap" 2>/dev/null | grep -q 'target.c:36: size=21.1 KiB, count=200'; then
    t_pass live_snapshot_key_writes_a_readable_file
  else t_fail live_snapshot_key_writes_a_readable_file "$snap: $("$HEAPSNAP" top "$snap" 2>&1 | head -c 300)"; fi
else t_fail live_snapshot_key_writes_a_readable_file "$(tail -c 300 "$T/pane")"; fi

# --- q: detaches; the program runs on, its output unchanged ---
lv_tmux send-keys -t v q
if lv_exit_wait && [ "$(cat "$T/exit")" = 0 ] && grep -q "detached from process $AT_PID" "$T/live.err" &&
   [ ! -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ] && kill -0 "$AT_PID"; then
  t_pass live_quit_detaches_and_the_program_runs_on
else t_fail live_quit_detaches_and_the_program_runs_on "exit $(cat "$T/exit" 2>/dev/null): $(head -c 300 "$T/live.err")"; fi
lv_end
at_cmd "a 8"
at_cmd f
at_end
printf 'allocated 100\nthreads 4\nallocated 200\nallocated 300\nallocated 400\nfreed\nbye\n' >"$T/want"
if [ "$AT_STATUS" = 0 ] && diff -u "$T/want" "$T/transcript" >"$T/diff" && [ ! -s "$T/target.err" ]; then
  t_pass live_leaves_the_program_output_unchanged
else t_fail live_leaves_the_program_output_unchanged "exit $AT_STATUS: $(head -c 300 "$T/diff") $(head -c 200 "$T/target.err")"; fi

# --- run --live: a preloaded program; q closes the view, it runs on ---
rm -f "$T/in" "$T/out" "$T/transcript"
mkfifo "$T/in" "$T/out"
# the program's own input and output on the FIFOs (the terminal is the view's)
lv_start "'$HEAPSNAP' run --live -o '$T/run.%p.hsnap' -- sh -c 'exec \"\$0\" <\"\$1\" >\"\$2\"' '$T/target' '$T/in' '$T/out' 2>'$T/run.err'"
exec 7>"$T/in" 8<"$T/out"
read -t 20 -r _ RPID <&8 || true
at_cmd "a 100"
if lv_wait "^heapsnap live: pid $RPID \\(target\\)" && lv_wait 'traced since the start' &&
   lv_top '9\.8 KiB .*target\.c:36$' && lv_wait 'close the view \[q\]'; then
  t_pass live_view_on_a_preloaded_program
else t_fail live_view_on_a_preloaded_program "$(head -c 600 "$T/pane") $(head -c 300 "$T/run.err")"; fi
lv_tmux send-keys -t v q
ok=0
for _ in $(seq 500); do grep -q 'the view is closed' "$T/run.err" && ok=1 && break; sleep 0.02; done
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
rm -f "$T/in" "$T/out"
mkfifo "$T/in" "$T/out"
HEAPSNAP_OUTPUT="$T/pre.%p.hsnap" LD_PRELOAD=$SHIM "$T/target" <"$T/in" >"$T/out" 2>/dev/null &
pre=$!
exec 7>"$T/in" 8<"$T/out"
read -t 20 -r _ _ <&8 || true
"$HEAPSNAP" live "$pre" </dev/null >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q 'without its control socket.*run --live' "$T/err"; then
  t_pass live_refuses_a_preloaded_process_without_its_socket
else t_fail live_refuses_a_preloaded_process_without_its_socket "rc $rc: $(cat "$T/err")"; fi
echo q >&7; exec 7>&- 8<&-; wait "$pre"
