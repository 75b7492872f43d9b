# test_snapdest.sh - a snapshot whose name is not a file to replace
# (dest_kind): a device, FIFO or socket at HEAPSNAP_OUTPUT, or a symlink
# to one (/proc/self/fd/1), is written in place and stays what it was; a
# symlink to a regular file, and another user's FIFO, are refused with one
# warning; a FIFO without a reader, or whose reader leaves, never holds up
# or kills the program.  Device nodes of the test's own (mknod): root only.
t_build holdmany tests/shim/snapshot/holdmany.c
prog=$T/holdmany
H() { LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$1" "${@:2}"; }
warns() { grep -c '^heapsnap: ' "$1"; }
is_snapshot() { "$HEAPSNAP" info "$1" >/dev/null 2>&1; }

# fifo_reader FIFO OUT [LIMIT]: a reader of FIFO into OUT, in the background
# ($rpid), open before it returns (opened without blocking: a writer's
# O_NONBLOCK open then finds it); reads to the end, or LIMIT bytes and leaves.
t_build fiforead tests/shim/snapshot/fiforead.c
fifo_reader() {
  rm -f "$2.ready"
  "$T/fiforead" "$@" & rpid=$!
  for _ in $(seq 100); do [ -e "$2.ready" ] && return 0; sleep 0.05; done
}

# --- a device node: written in place, never replaced ------------------------
if ! mknod "$T/null" c 1 3 2>/dev/null || ! mknod "$T/full" c 1 7 2>/dev/null; then
  for c in snapdest_char_device_stays_a_device snapdest_device_receives_the_write_warns_once \
           snapdest_interval_snapshots_keep_the_device_name; do
    t_skip "$c" "mknod refused (not root?)"
  done
else
  H "$T/null" "$prog" 100 >/dev/null 2>"$T/null.err"; rc=$?
  if [ $rc = 0 ] && [ -c "$T/null" ] && [ "$(warns "$T/null.err")" = 0 ] && [ "$(ls -A "$T" | grep -c null)" = 2 ]; then
    t_pass snapdest_char_device_stays_a_device
  else t_fail snapdest_char_device_stays_a_device "exit $rc, $(stat -c %F "$T/null"), $(ls -A "$T" | tr '\n' ' '): $(head -c 200 "$T/null.err")"; fi
  # /dev/full's ENOSPC proves the bytes went to the device; interval snapshots
  # fail each time, the warning comes once
  H "$T/full" env HEAPSNAP_INTERVAL=0.02 "$prog" 100 200 >/dev/null 2>"$T/full.err"; rc=$?
  if [ $rc = 0 ] && [ -c "$T/full" ] && [ "$(warns "$T/full.err")" = 1 ] &&
     grep -qx "heapsnap: cannot write $T/full: No space left on device" "$T/full.err"; then
    t_pass snapdest_device_receives_the_write_warns_once
  else t_fail snapdest_device_receives_the_write_warns_once "exit $rc, $(stat -c %F "$T/full"): $(head -c 300 "$T/full.err")"; fi
  # snapshots before exit go to the device itself, not to "null.1", "null.2"
  H "$T/null" env HEAPSNAP_INTERVAL=0.02 "$prog" 100 200 >/dev/null 2>"$T/null.err"
  if [ -c "$T/null" ] && [ -z "$(ls -A "$T" | grep '^null\.[0-9]')" ] && [ "$(warns "$T/null.err")" = 0 ]; then
    t_pass snapdest_interval_snapshots_keep_the_device_name
  else t_fail snapdest_interval_snapshots_keep_the_device_name "$(ls -A "$T" | tr '\n' ' '): $(head -c 200 "$T/null.err")"; fi
fi

# --- a FIFO: its reader gets the snapshot; none, and the program goes on -----
mkfifo "$T/fifo"
fifo_reader "$T/fifo" "$T/fifo.out"
H "$T/fifo" "$prog" 100 >/dev/null 2>"$T/fifo.err"; rc=$?
wait $rpid
if [ $rc = 0 ] && [ -p "$T/fifo" ] && [ "$(warns "$T/fifo.err")" = 0 ] && is_snapshot "$T/fifo.out"; then
  t_pass snapdest_fifo_reader_gets_a_valid_snapshot
else t_fail snapdest_fifo_reader_gets_a_valid_snapshot "exit $rc, $(stat -c %F "$T/fifo"), $(wc -c <"$T/fifo.out") bytes: $(head -c 200 "$T/fifo.err")"; fi

start=$(date +%s%N)
timeout 5 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/fifo" HEAPSNAP_INTERVAL=0.02 "$prog" 100 200 \
  >/dev/null 2>"$T/nor.err"; rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc = 0 ] && [ -p "$T/fifo" ] && [ $ms -lt 3000 ] && grep -q '^done$' "$T/nor.err" && [ "$(warns "$T/nor.err")" = 1 ] &&
   grep -qx "heapsnap: cannot write $T/fifo: a FIFO with no reader" "$T/nor.err"; then
  t_pass snapdest_fifo_without_reader_refused_once_promptly
else t_fail snapdest_fifo_without_reader_refused_once_promptly "exit $rc in $ms ms, $(stat -c %F "$T/fifo"): $(head -c 300 "$T/nor.err")"; fi

# a reader that leaves after 100 bytes of a ~640 KB snapshot (uncompressed: a
# compressed one fits in the pipe's buffer): no SIGPIPE
fifo_reader "$T/fifo" "$T/gone.out" 100
HEAPSNAP_COMPRESS=0 H "$T/fifo" "$prog" 20000 >/dev/null 2>"$T/gone.err"; rc=$?
wait $rpid
if [ $rc = 0 ] && grep -q '^done$' "$T/gone.err" && [ "$(warns "$T/gone.err")" = 1 ] &&
   grep -qx "heapsnap: cannot write $T/fifo: its reader went away" "$T/gone.err" && [ -p "$T/fifo" ]; then
  t_pass snapdest_fifo_reader_gone_no_sigpipe
else t_fail snapdest_fifo_reader_gone_no_sigpipe "exit $rc: $(head -c 300 "$T/gone.err")"; fi

# --- standard output by name, directly and through a symlink ------------------
H /proc/self/fd/1 "$prog" 100 2>"$T/fd1.err" | cat >"$T/fd1.out"
if is_snapshot "$T/fd1.out" && [ "$(warns "$T/fd1.err")" = 0 ]; then t_pass snapdest_proc_self_fd_1_is_stdout
else t_fail snapdest_proc_self_fd_1_is_stdout "$(wc -c <"$T/fd1.out") bytes: $(head -c 200 "$T/fd1.err")"; fi
ln -s /proc/self/fd/1 "$T/stdout"
H "$T/stdout" "$prog" 100 2>"$T/lnk.err" | cat >"$T/lnk.out"
if is_snapshot "$T/lnk.out" && [ -L "$T/stdout" ] && [ "$(warns "$T/lnk.err")" = 0 ]; then
  t_pass snapdest_symlink_to_stdout_written_through
else t_fail snapdest_symlink_to_stdout_written_through "$(wc -c <"$T/lnk.out") bytes, $(stat -c %F "$T/stdout"): $(head -c 200 "$T/lnk.err")"; fi

# --- refused: a symlink to a regular file, another user's FIFO ----------------
echo precious >"$T/victim"; ln -s "$T/victim" "$T/reg.hsnap"
H "$T/reg.hsnap" "$prog" 100 >/dev/null 2>"$T/reg.err"; rc=$?
if [ $rc = 0 ] && [ "$(cat "$T/victim")" = precious ] && [ -L "$T/reg.hsnap" ] && [ "$(warns "$T/reg.err")" = 1 ] &&
   grep -q "cannot write $T/reg.hsnap: a symbolic link to a regular file" "$T/reg.err"; then
  t_pass snapdest_symlink_to_regular_file_refused
else t_fail snapdest_symlink_to_regular_file_refused "exit $rc, victim $(head -c 20 "$T/victim"), $(stat -c %F "$T/reg.hsnap"): $(head -c 200 "$T/reg.err")"; fi
mkfifo "$T/theirs"
if ! chown nobody "$T/theirs" 2>/dev/null; then t_skip snapdest_other_users_fifo_refused "chown refused (not root?)"
else
  H "$T/theirs" "$prog" 100 >/dev/null 2>"$T/theirs.err"; rc=$?
  if [ $rc = 0 ] && [ -p "$T/theirs" ] && [ "$(stat -c %U "$T/theirs")" = nobody ] &&
     grep -q "cannot write $T/theirs: a device, FIFO or socket of another user" "$T/theirs.err"; then
    t_pass snapdest_other_users_fifo_refused
  else t_fail snapdest_other_users_fifo_refused "exit $rc, $(stat -c '%F %U' "$T/theirs"): $(head -c 200 "$T/theirs.err")"; fi
fi
