# test_fsizelimit.sh - a file size limit (RLIMIT_FSIZE, ulimit -f) is the
# shim's problem, never the host's: a snapshot (at exit, at an interval,
# through the API) or the state file that meets it fails cleanly, with one
# warning, and leaves no partial file; SIGXFSZ raised by the shim's own
# writes never reaches the host (sighold.c), while the host's own write past
# the limit still gets it, and a SIGXFSZ the host had pending stays pending.
# The state file is cut to the limit in whole MiB, or left out under 1 MiB.
t_build fsizehost tests/shim/snapshot/fsizehost.c
prog=$T/fsizehost
warns() { grep -c '^heapsnap: ' "$1"; }
# The limit is 2 KiB: fsizehost's exit snapshot takes ~3.4 KB (its 20,000
# equal blocks packed, hsnap_packed.h; 9.4 KB before), so every snapshot
# meets it.
# lim KIB CMD...: CMD under ulimit -f KIB (1 KiB blocks in bash), stdout in
# $T/o, stderr in $T/e, status in $rc
lim() { local k=$1; shift; (ulimit -f "$k" && exec "$@") >"$T/o" 2>"$T/e"; rc=$?; }
said_limit() { [ "$(warns "$T/e")" = 1 ] && grep -q "^heapsnap: cannot write $1: the file size limit (RLIMIT_FSIZE" "$T/e"; }

# ---- the exit snapshot, preloaded
d=$T/exit; mkdir -p "$d"
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/x.hsnap" "$prog"
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "done 20000" ]; then t_pass fsizelimit_exit_host_output_and_status_unchanged
else t_fail fsizelimit_exit_host_output_and_status_unchanged "status $rc: $(head -c 200 "$T/o" "$T/e" | tr '\n' ' ')"; fi
if said_limit "$d/x.hsnap"; then t_pass fsizelimit_exit_says_so_once
else t_fail fsizelimit_exit_says_so_once "stderr: $(head -c 300 "$T/e" | tr '\n' ' ')"; fi
if [ -z "$(ls -A "$d")" ]; then t_pass fsizelimit_exit_leaves_no_partial_file
else t_fail fsizelimit_exit_leaves_no_partial_file "left: $(ls -A "$d" | tr '\n' ' ')"; fi

# ---- the issue's Python program: its output comes out, exit 0
if [ -x /usr/bin/python3 ]; then
  d=$T/py; mkdir -p "$d"
  lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/py.%p.hsnap" /usr/bin/python3 -c \
    "x=[str(i)*3 for i in range(100000)]; print(len(x))"
  if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = 100000 ] && [ "$(warns "$T/e")" = 1 ] && [ -z "$(ls -A "$d")" ]; then
    t_pass fsizelimit_python_prints_and_exits_0
  else t_fail fsizelimit_python_prints_and_exits_0 "status $rc, out '$(cat "$T/o")', err: $(head -c 200 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi
else
  t_skip fsizelimit_python_prints_and_exits_0 "no /usr/bin/python3"
fi

# ---- interval snapshots: every one fails, the program runs on; one warning
d=$T/iv; mkdir -p "$d"
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/i.%p.%n.hsnap" HEAPSNAP_INTERVAL=0.05 "$prog" wait 400
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "done 20000" ] && [ "$(warns "$T/e")" = 1 ] &&
   grep -q 'the file size limit (RLIMIT_FSIZE' "$T/e" && [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_interval_snapshots_fail_cleanly_once
else t_fail fsizelimit_interval_snapshots_fail_cleanly_once "status $rc, out '$(cat "$T/o")', err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi

# ---- the state file: under 1 MiB of limit there is none (said only when
# HEAPSNAP_STATE was set to other than its default)
d=$T/st; mkdir -p "$d"
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/s.%p.hsnap" HEAPSNAP_STATE=64 "$prog" wait 300
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "done 20000" ] && said_limit "$d/s.*.hsnap" && [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_state_default_bound_left_out_quietly
else t_fail fsizelimit_state_default_bound_left_out_quietly "status $rc, err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/s.%p.hsnap" HEAPSNAP_STATE=4 "$prog"
if [ "$rc" = 0 ] && [ "$(warns "$T/e")" = 2 ] &&
   grep -q '^heapsnap: no state file: the file size limit (RLIMIT_FSIZE, ulimit -f) is under 1 MiB' "$T/e" &&
   [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_state_bound_set_left_out_with_one_warning
else t_fail fsizelimit_state_bound_set_left_out_with_one_warning "status $rc, err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi

# a limit of 2 MiB: the state file is cut to it, kept up to date, and read
# after a SIGKILL; the exit snapshot (a few KiB) is written as usual
d=$T/cut; mkdir -p "$d"
( ulimit -f 2048 && exec env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/c.%p.hsnap" HEAPSNAP_VERBOSE=1 "$prog" wait 3000 ) \
  >"$T/cut.out" 2>"$T/cut.err" & kpid=$!
for _ in $(seq 100); do [ -e "$d/c.$kpid.hsnap.state" ] && break; sleep 0.05; done
sleep 0.6 # a heartbeat or two: a document in the file
kill -KILL "$kpid"; wait "$kpid" 2>/dev/null
size=$(stat -c %s "$d/c.$kpid.hsnap.state" 2>/dev/null || echo none)
if [ "$size" = $((2 * 1024 * 1024)) ] && grep -q "the state file's bound is cut to the file size limit (RLIMIT_FSIZE, ulimit -f): 2 MiB" "$T/cut.err" &&
   "$HEAPSNAP" info "$d/c.$kpid.hsnap.state" >"$T/cut.info" 2>&1; then
  t_pass fsizelimit_state_cut_to_limit_read_after_kill
else t_fail fsizelimit_state_cut_to_limit_read_after_kill "size $size: $(head -c 300 "$T/cut.err" "$T/cut.info" | tr '\n' ' ')"; fi
rm -f "$d"/*
lim 2048 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/c.hsnap" "$prog"
if [ "$rc" = 0 ] && [ ! -s "$T/e" ] && [ "$(ls -A "$d")" = c.hsnap ] && "$HEAPSNAP" info "$d/c.hsnap" >/dev/null 2>&1; then
  t_pass fsizelimit_state_cut_exit_snapshot_written
else t_fail fsizelimit_state_cut_exit_snapshot_written "status $rc, err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi

# ---- a limit the program lowers itself, after the state file was made: a
# fork's child makes its own state file (64 MiB, past it) and exit snapshot
d=$T/low; mkdir -p "$d"
LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/l.%p.hsnap" "$prog" lower 2 >"$T/o" 2>"$T/e"; rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "child 0
done 20000" ] && [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_lowered_at_run_time_fork_child_unharmed
else t_fail fsizelimit_lowered_at_run_time_fork_child_unharmed "status $rc, out $(tr '\n' ' ' <"$T/o"), err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi

# ---- the host's own writes: past the limit it dies by SIGXFSZ, with the
# shim as without it; a SIGXFSZ it holds pending stays pending across a
# snapshot that met the limit too, and its mask is as it was
d=$T/own; mkdir -p "$d"
lim 2 "$prog" write "$d/plain" 20000; plain=$rc
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/o.%p.hsnap" HEAPSNAP_INTERVAL=0.05 "$prog" write "$d/shim" 20000
if [ "$plain" = $((128 + 25)) ] && [ "$rc" = "$plain" ]; then t_pass fsizelimit_host_own_write_still_gets_sigxfsz
else t_fail fsizelimit_host_own_write_still_gets_sigxfsz "status $rc with the shim, $plain without (want 153)"; fi
lim 2 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/p.%p.hsnap" "$prog" pending "$d/pend" 20000 "$d/api.hsnap"
if [ "$rc" = 0 ] && [ "$(head -1 "$T/o")" = "pending 1 blocked 1" ] && said_limit "$d/api.hsnap"; then
  t_pass fsizelimit_host_pending_sigxfsz_stays_pending
else t_fail fsizelimit_host_pending_sigxfsz_stays_pending "status $rc, out $(tr '\n' ' ' <"$T/o"), err: $(head -c 300 "$T/e" | tr '\n' ' ')"; fi

# ---- under heapsnap run: the program's output and status, no file left,
# and run says the snapshot could not be written
d=$T/run; mkdir -p "$d"
lim 2 "$HEAPSNAP" run -o "$d/r.%p.hsnap" -- "$prog" wait 200
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "done 20000" ] && grep -q 'file size limit' "$T/e" &&
   [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_under_run_host_unchanged_no_file_left
else t_fail fsizelimit_under_run_host_unchanged_no_file_left "status $rc, out '$(cat "$T/o")', err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi
lim 2 "$HEAPSNAP" run -o "$d/r.%p.%n.hsnap" --interval 0.05 -- "$prog" wait 300
if [ "$rc" = 0 ] && [ "$(cat "$T/o")" = "done 20000" ] && [ -z "$(ls -A "$d")" ]; then
  t_pass fsizelimit_under_run_interval_host_unchanged
else t_fail fsizelimit_under_run_interval_host_unchanged "status $rc, out '$(cat "$T/o")', err: $(head -c 300 "$T/e" | tr '\n' ' '), left: $(ls -A "$d" | tr '\n' ' ')"; fi
