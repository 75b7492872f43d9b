# lib_live.sh - helpers of tests/report/commands: the view in a tmux pane of its own
# (a private server), its text read with capture-pane.  Every wait polls
# the pane or a file with a bound in seconds; none is a sleep standing for
# an event.  Sourced after tests/shim/attach/lib_attach.sh.
LV_SOCK="hs-live-$$"
lv_tmux() { tmux -L "$LV_SOCK" -f /dev/null "$@"; }
# lv_start CMD: CMD in a 150x45 pane; its status goes to $T/exit.
lv_start() {
  rm -f "$T/exit"
  lv_tmux new-session -d -s v -x 150 -y 45 "cd '$PWD' && $1; echo \$? >'$T/exit'; sleep 600"
}
lv_pane() { lv_tmux capture-pane -p -t v >"$T/pane" 2>/dev/null; }
# lv_wait ERE: until the pane shows a line that matches (20 s at most).
lv_wait() {
  local end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    lv_pane; grep -Eq -- "$1" "$T/pane" && return 0
    sleep 0.02
  done
  return 1
}
# lv_top ERE: until the first site row (after the column header) matches.
lv_top() {
  local end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    lv_pane
    sed -n '/^ *LIVE  *GROWTH/{n;p;q}' "$T/pane" | grep -Eq -- "$1" && return 0
    sleep 0.02
  done
  return 1
}
lv_exit_wait() {
  local end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do [ -s "$T/exit" ] && return 0; sleep 0.02; done
  return 1
}
# lv_end: the server killed, and gone (a new-session at once would race its exit).
lv_end() {
  lv_tmux kill-server 2>/dev/null || true
  local i
  for i in $(seq 200); do lv_tmux ls >/dev/null 2>&1 || break; sleep 0.01; done
  rm -f "/tmp/tmux-$(id -u)/$LV_SOCK"
}

trap lv_end EXIT
