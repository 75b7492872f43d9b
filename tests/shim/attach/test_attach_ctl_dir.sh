# test_attach_ctl_dir.sh - the control directory and socket are checked
# before they are trusted: /tmp/heapsnap-UID made first by another user
# (or writable by others) is ignored with one line, the shim serves from a
# private /tmp/heapsnap-UID.XXXXXX that attach, live and detach find; a
# socket planted where a process's goes is never talked to (its listener
# is not the process: SO_PEERCRED) and no byte of it reaches the terminal;
# it does not make the process "attached already"; sockets of processes
# that ended are removed.  Runs in a mount namespace of its own, where the
# test's directory is bind-mounted on /tmp/heapsnap-UID (other tests on
# the machine keep the real one).
. tests/shim/attach/lib_attach.sh
if [ -z "${HS_CTL_NS:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
    t_skip attach_ctl_dir_checks "needs root for a mount namespace of its own (unshare -m)"
    return 0
  fi
  mkdir -p "/tmp/heapsnap-0" && chmod 0700 /tmp/heapsnap-0
  HS_CTL_NS=1 T="$T" unshare --mount --propagation private bash -c ". tests/lib.sh; . tests/shim/attach/test_attach_ctl_dir.sh"
  return 0
fi
mkdir -p "$T/ctl" && mount --bind "$T/ctl" /tmp/heapsnap-0 || { t_fail attach_ctl_dir_checks "cannot bind-mount"; return 0; }
t_build target tests/shim/attach/target.c -pthread
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
ESC=$(printf '\033')

# --- a directory another user made first, open to all ---
chown 65534:65534 /tmp/heapsnap-0 && chmod 0777 /tmp/heapsnap-0
at_start "$T/target"
"$PY" tests/shim/attach/hostile_ctl.py "/tmp/heapsnap-0/$AT_PID.sock" >"$T/hostile.out" 2>&1 &
hostile=$!
for _ in $(seq 500); do grep -q listening "$T/hostile.out" && break; sleep 0.01; done
"$HEAPSNAP" detach "$AT_PID" >"$T/d.out" 2>"$T/d.err"; drc=$?
at_attach; a=$?
priv=$(ls -d /tmp/heapsnap-0.* 2>/dev/null | while read -r d; do [ -S "$d/$AT_PID.sock" ] && echo "$d"; done)
mode=$([ -n "$priv" ] && stat -c %U:%a "$priv")
at_cmd "a 8"
at_detach
if [ "$drc" = 2 ] && grep -q "^heapsnap: /tmp/heapsnap-0 is not trusted (owned by uid 65534, not 0)" "$T/d.err" &&
   grep -q "is not attached" "$T/d.err" && ! grep -q "$ESC" "$T/d.out" "$T/d.err"; then
  t_pass detach_ignores_a_control_dir_another_user_made
else t_fail detach_ignores_a_control_dir_another_user_made "exit $drc: $(cat -v "$T/d.err" | head -c 300)"; fi
if [ "$a" = 0 ] && [ -n "$priv" ] && [ "$mode" = root:700 ] && [ "$AT_DETACH_RC" = 0 ] &&
   grep -q "^heapsnap: wrote $(at_snap)" "$T/detach.err" && [ ! -e "$priv" ] &&
   grep -q "is not this user's alone" "$T/target.err"; then
  t_pass attach_serves_from_a_private_dir_when_the_shared_one_is_not_trusted
else t_fail attach_serves_from_a_private_dir_when_the_shared_one_is_not_trusted "attach $a, dir '$priv' $mode, detach $AT_DETACH_RC: $(head -c 300 "$T/attach.err") [$(cat "$T/detach.err")] [$(cat "$T/target.err")]"; fi
kill "$hostile"; wait "$hostile" 2>/dev/null
at_end

# --- the directory is ours, but a socket another process planted there ---
chown 0:0 /tmp/heapsnap-0 && chmod 0700 /tmp/heapsnap-0
at_start "$T/target"
at_attach; a=$?; at_detach      # the shim stays mapped: a refusal would say "attached already"
[ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] ||
  t_fail attach_ctl_dir_first_session "attach $a, detach $AT_DETACH_RC: $(head -c 300 "$T/attach.err") [$(head -c 300 "$T/detach.err")]"
rm -f "$T/hostile.out" # the first one's "listening" is not this one's
"$PY" tests/shim/attach/hostile_ctl.py "/tmp/heapsnap-0/$AT_PID.sock" >"$T/hostile.out" 2>&1 &
hostile=$!
for _ in $(seq 500); do grep -qs listening "$T/hostile.out" && break; sleep 0.01; done
"$HEAPSNAP" detach "$AT_PID" >"$T/d.out" 2>"$T/d.err"; drc=$?
if [ "$drc" = 2 ] && grep -q "is served by process $hostile, not by process $AT_PID: not trusted" "$T/d.err" &&
   ! grep -q "$ESC" "$T/d.out" "$T/d.err" && ! grep -q pwned "$T/d.err"; then
  t_pass detach_never_talks_to_a_socket_another_process_serves
else t_fail detach_never_talks_to_a_socket_another_process_serves "exit $drc: $(cat -v "$T/d.err" | head -c 300)"; fi
"$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" --duration 0.3 2>"$T/a.err"; arc=$?
kill "$hostile"; wait "$hostile" 2>/dev/null
if [ "$arc" = 0 ] && grep -q "^heapsnap: detached from process $AT_PID" "$T/a.err"; then
  t_pass attach_after_a_planted_socket_is_not_refused_as_attached_already
else t_fail attach_after_a_planted_socket_is_not_refused_as_attached_already "exit $arc: $(head -c 300 "$T/a.err")"; fi

# --- a process killed while attached leaves its socket: the next look removes it ---
# The socket is looked for while the process lives: once it is dead, any
# other test's heapsnap (make check runs two files at once) may sweep it.
at_attach; a=$?
served=$([ -S "/tmp/heapsnap-0/$AT_PID.sock" ] && echo yes)
kill -KILL "$AT_TPID"; wait "$AT_TPID" 2>/dev/null
wait "$AT_CLI" 2>/dev/null
exec 7>&- 8<&-
"$HEAPSNAP" detach 1 >/dev/null 2>&1
if [ "$a" = 0 ] && [ "$served" = yes ] && [ ! -e "/tmp/heapsnap-0/$AT_PID.sock" ]; then
  t_pass stale_socket_of_a_killed_process_is_removed
else t_fail stale_socket_of_a_killed_process_is_removed "attach $a, served '$served': $(ls /tmp/heapsnap-0) $(head -c 300 "$T/attach.err")"; fi

# --- live where no socket could be known before its attach ---
# live looks for the socket before it attaches (is the process served
# already?); with the shared directory not trusted, the attach makes a
# private one, which live must look for again after it: the view opens,
# q detaches, no socket or session stays.  (A first attach on a machine,
# /tmp/heapsnap-UID not made yet, is the same case.)
if command -v tmux >/dev/null; then
  . tests/report/commands/lib_live.sh
  chown 65534:65534 /tmp/heapsnap-0 && chmod 0777 /tmp/heapsnap-0
  at_start "$T/target"
  lv_start "'$HEAPSNAP' live $AT_PID -o '$AT_DIR/lv.%p.hsnap' 2>'$T/live.err'"
  lv_wait "^heapsnap live: pid $AT_PID \\(target\\)"; v=$?
  lv_tmux send-keys -t v q; lv_exit_wait; rc=$(cat "$T/exit" 2>/dev/null); lv_end
  left=$(ls -d /tmp/heapsnap-0.* 2>/dev/null | while read -r d; do [ -S "$d/$AT_PID.sock" ] && echo "$d"; done)
  "$HEAPSNAP" detach "$AT_PID" >"$T/d2.out" 2>"$T/d2.err"; drc=$?
  at_end
  if [ "$v" = 0 ] && [ "$rc" = 0 ] && [ -z "$left" ] && [ "$drc" = 2 ] &&
     [ -e "$AT_DIR/lv.$AT_PID.hsnap" ]; then
    t_pass live_finds_the_socket_its_attach_made
  else t_fail live_finds_the_socket_its_attach_made "view $v, exit '$rc', socket left in '$left', detach after $drc: $(head -c 300 "$T/live.err") $(head -c 200 "$T/d2.err")"; fi
  chown 0:0 /tmp/heapsnap-0 && chmod 0700 /tmp/heapsnap-0
else
  t_skip live_finds_the_socket_its_attach_made "tmux is not installed (scripts/install-deps.sh test installs it)"
fi
