# test_live.sh - heapsnap live driven in tmux (send-keys, capture-pane) on
# tests/shim/attach/target.c, which it attaches to: a growing site moves to the
# top, the keys change the key (the allocating thread's too), sort and thread, w writes a snapshot
# heapsnap reads, q detaches and the program runs on with its output
# unchanged.  Waits are bounded polls on the pane (tests/report/commands/lib_live.sh).
. tests/shim/attach/lib_attach.sh
. tests/report/commands/lib_live.sh
if ! command -v tmux >/dev/null; then
  t_skip live_view_in_tmux "tmux is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
t_build target tests/shim/attach/target.c -pthread
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
# h: by the thread that allocated (THREADS): thread_main's 4 threads
# (48 B x 50 each), the main thread's growth marked main
lv_tmux send-keys -t v h
if lv_wait '^key thread \[k\]' && lv_wait 'THREAD$' && lv_wait '2400 B .* target \[tid [0-9]+\]$' &&
   lv_wait ' target \[tid [0-9]+, main\]$'; then
  t_pass live_key_thread_names_each_thread
else t_fail live_key_thread_names_each_thread "$(head -c 600 "$T/pane")"; fi
lv_tmux send-keys -t v l
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
    local end=$((SECONDS + 20))
    while [ $SECONDS -lt $end ]; do
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

