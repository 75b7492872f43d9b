# test_live_any_process.sh - heapsnap live on a process that runs the shim
# preloaded without its control socket (heapsnap run without --live, plain
# LD_PRELOAD), on tests/report/commands/ticker.c: live asks the shim to
# open the socket (no restart), the view (--batch) shows every block the
# program keeps, traced since its start, a second view finds the socket
# there, and the program runs on to its end with its output unchanged and
# its snapshot written.  A process whose shim can keep no state file says
# why in one line (exit 2).  (Live on an attached process, and after one:
# test_live_any_order.)
. tests/shim/attach/lib_attach.sh
t_build ticker tests/report/commands/ticker.c
lp_truth() { local t b; read -r t b <"$T/truth" 2>/dev/null; echo "${b:-0}"; }
# lp_view LO HI: the last frame of $T/view shows the ticker's site with
# every block it kept (between LO and HI bytes), traced since the start
lp_view() {
  local row count
  row=$(grep 'ticker\.c:[0-9]*$' "$T/view" | sort -k3 -n | tail -1)
  count=$(echo "$row" | awk '{print $(NF-2)}')
  grep -q '^  traced since the start$' "$T/view" && [ -n "$count" ] &&
    [ $((count * 4096)) -ge "$1" ] && [ $((count * 4096)) -le "$2" ]
}
# lp_case NAME RUNSNAP CMD...: CMD runs the ticker preloaded, its snapshot RUNSNAP (%p: its pid)
lp_case() {
  local name=$1 snap=$2 lo hi lo2 hi2 rc rc2 why=""; shift 2
  at_start "$@"
  snap=${snap//%p/$AT_PID}
  sleep 0.2 # a few ticks before the view
  lo=$(lp_truth)
  "$HEAPSNAP" live "$AT_PID" --batch 1.5 >"$T/view" 2>"$T/live.err" </dev/null; rc=$?
  hi=$(lp_truth)
  lp_view "$lo" "$hi" || why="$why; view: $(tr '\n' '|' <"$T/view" | head -c 500)"
  [ -S "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ] || why="$why; no socket after the view"
  lo2=$(lp_truth)
  "$HEAPSNAP" live "$AT_PID" --batch 0.5 >"$T/view" 2>"$T/live2.err" </dev/null; rc2=$?
  hi2=$(lp_truth)
  lp_view "$lo2" "$hi2" || why="$why; second view: $(tr '\n' '|' <"$T/view" | head -c 300)"
  at_end
  [ "$rc" = 0 ] && [ "$rc2" = 0 ] || why="$why; exit $rc then $rc2: $(head -c 300 "$T/live.err") $(head -c 300 "$T/live2.err")"
  [ "$(cat "$T/transcript")" = "bye ok" ] && [ "$AT_STATUS" = 0 ] ||
    why="$why; program: exit $AT_STATUS, said $(tr '\n' ' ' <"$T/transcript") $(head -c 200 "$T/target.err")"
  "$HEAPSNAP" top "$snap" >"$T/top" 2>&1 && grep -q 'ticker\.c:[0-9]*: size=' "$T/top" ||
    why="$why; its snapshot: $(head -c 200 "$T/top")"
  [ -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ] && why="$why; the socket stays after its end"
  if [ -z "$why" ]; then t_pass "$name"; else t_fail "$name" "${why#; }"; fi
}
lp_case live_opens_the_socket_of_a_heapsnap_run_process "$T/run.%p.hsnap" \
  "$HEAPSNAP" run -o "$T/run.%p.hsnap" -- "$T/ticker" "$T/truth"
lp_case live_opens_the_socket_of_a_preloaded_process "$T/pre.%p.hsnap" \
  env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/pre.%p.hsnap" "$T/ticker" "$T/truth"

# the peak's sums off: no state file can be made; one line, exit 2, and
# the program runs on unchanged
at_start env LD_PRELOAD="$SHIM" HEAPSNAP_PEAK=off HEAPSNAP_OUTPUT="$T/off.%p.hsnap" "$T/ticker" "$T/truth"
"$HEAPSNAP" live "$AT_PID" --batch 0.5 >"$T/view" 2>"$T/err" </dev/null; rc=$?
at_end
if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q 'state file is off' "$T/err" &&
   [ "$(cat "$T/transcript")" = "bye ok" ] && [ "$AT_STATUS" = 0 ]; then
  t_pass live_on_a_preloaded_process_without_state_says_why
else t_fail live_on_a_preloaded_process_without_state_says_why "rc $rc: $(cat "$T/err") $(cat "$T/transcript")"; fi
