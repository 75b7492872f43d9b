# test_memcached.sh - memcached (2 worker threads) under `heapsnap run`, driven
# by memcaslap (libmemcached-tools' load generator; memtier_benchmark is not in
# Debian 12): a signal snapshot during the load (SIGUSR2: memcached handles
# HUP, INT, TERM and USR1, and ignores PIPE), the exit snapshot after
# SIGTERM (memcached leaves main normally), replies identical to a plain
# server's for a fixed command list (mc_client.py, a small socket client: no
# Debian client prints raw replies to a scripted list), and a daemon (-d,
# which changes to /) whose relative HEAPSNAP_OUTPUT stays where it started.
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
sv_need memcached_service memcached memcaslap python3 || return 0

M=$T/memcached
MC="python3 tests/services/mc_client.py"
mkdir -p "$M/plain" "$M/prof/out" "$M/daemon/run/snaps"
# as root memcached wants a user to become; the scratch is ours, so ourselves
user=$(id -un)

# mc_args PORT: memcached's options for a private server on 127.0.0.1:PORT
mc_args() { echo "-l 127.0.0.1 -p $1 -U 0 -t 2 -m 64 -c 256 -u $user"; }

# ---- the plain server: the replies to compare with
pp=$(sv_port)
# shellcheck disable=SC2046
sv_start "$M/plain/log" memcached $(mc_args "$pp")
plain_pid=$SV_PID
if sv_up "$pp"; then timeout 30 $MC replies "$pp" >"$M/plain/replies" 2>&1; fi
kill -TERM "$plain_pid" 2>/dev/null; sv_gone "$plain_pid"

# ---- under heapsnap run
port=$(sv_port)
# shellcheck disable=SC2046
sv_start "$M/prof/log" "$HEAPSNAP" run -o "$M/prof/out/mc.%p.%n.hsnap" --signal USR2 --leaks -- memcached $(mc_args "$port")
run_pid=$SV_PID tpid=$SV_TPID
pid=$(sv_child "$run_pid")
SV_PIDS="$SV_PIDS $pid"
if [ -z "$pid" ] || ! sv_up "$port"; then
  sv_fail memcached_profiled_server_starts "no answer on port $port" "$M/prof/log"
  return 0
fi
# the replies first, while the server is as fresh as the plain one (CAS values
# count every store since start-up)
timeout 30 $MC replies "$port" >"$M/prof/replies" 2>&1
if [ -s "$M/plain/replies" ] && cmp -s "$M/plain/replies" "$M/prof/replies"; then t_pass memcached_replies_same_as_plain
else sv_fail memcached_replies_same_as_plain "$(cmp "$M/plain/replies" "$M/prof/replies" 2>&1 | head -2 | tr '\n' ' ')" "$M/prof/replies" "$M/prof/log"; fi
timeout 120 memcaslap -s "127.0.0.1:$port" -x 20000 -T 2 -c 16 -X 200 >"$M/slap.out" 2>&1 &
slap=$!
for i in $(seq 200); do
  n=$($MC stat "$port" cmd_get 2>/dev/null)
  [ "${n:-0}" -ge 2000 ] && break
  sleep 0.05
done
kill -USR2 "$pid"
for i in $(seq 200); do sv_snaps "$M/prof/out" | grep -q "^$pid signal " && break; sleep 0.1; done
wait "$slap"; slap_rc=$?
if [ "$slap_rc" = 0 ] && grep -q 'Ops: 20000 ' "$M/slap.out"; then t_pass memcached_load_completes_under_shim
else sv_fail memcached_load_completes_under_shim "memcaslap exited $slap_rc" "$M/slap.out" "$M/prof/log"; fi
if sv_snaps "$M/prof/out" | grep -q "^$pid signal "; then t_pass memcached_signal_snapshot_during_load
else sv_fail memcached_signal_snapshot_during_load "no signal snapshot of pid $pid: $(ls -A "$M/prof/out" | tr '\n' ' ')" "$M/prof/log"; fi


kill -TERM "$pid"
wait "$tpid"; rc=$?
exit_snap=$(sv_snaps "$M/prof/out" | awk -v p="$pid" '$1 == p && $2 == "exit" { print $3 }')
if [ "$rc" = 0 ] && [ -n "$exit_snap" ] && grep -q "^heapsnap: wrote .*mc\.$pid\." "$M/prof/log"; then
  t_pass memcached_exit_snapshot_after_term
else sv_fail memcached_exit_snapshot_after_term "heapsnap run exit $rc; snapshots: $(sv_snaps "$M/prof/out" | tr '\n' ' ')" "$M/prof/log"; fi
# memcached's binary has no symbols at all: the module is what can be named
if [ -n "$exit_snap" ] && "$HEAPSNAP" top "$exit_snap" --key module -n 1 >"$M/top" 2>"$M/top.err" &&
   grep -q '^memcached: size=' "$M/top"; then t_pass memcached_exit_snapshot_names_memcached
else sv_fail memcached_exit_snapshot_names_memcached "top --key module on ${exit_snap:-no exit snapshot}" "$M/top" "$M/top.err"; fi
# The leak verdict is memcheck's on the same run (valgrind, with setrlimit
# made a no-op so memcached starts under it): Debian 12's 1.6.18 loses one
# 40-byte calloc that main's first callee makes and main drops before it
# returns; nothing indirect, nothing else direct.
"$HEAPSNAP" leaks "$exit_snap" >"$M/leaks" 2>&1
mcv=$(memcached -V 2>/dev/null | awk '{ print $2 }')
if [ "$mcv" != 1.6.18 ]; then
  t_skip memcached_exit_leaks_as_memcheck "memcached $mcv: memcheck's verdict was taken on 1.6.18"
elif grep -qx '   direct: 40 bytes in 1 blocks' "$M/leaks" && grep -qx '   indirect: 0 bytes in 0 blocks' "$M/leaks" &&
   grep -q '^40 bytes in 1 blocks are definitely lost' "$M/leaks"; then t_pass memcached_exit_leaks_as_memcheck
else sv_fail memcached_exit_leaks_as_memcheck "want direct 40 bytes in 1 block (memcheck's verdict)" "$M/leaks"; fi

# ---- a daemon (-d changes to /): a relative HEAPSNAP_OUTPUT stays in the
# directory it started in
dp=$(sv_port)
SV_PIDFILES="$SV_PIDFILES $M/daemon/mc.pid"
here=$PWD
# shellcheck disable=SC2046
cd "$M/daemon/run" && sv_start "$M/daemon/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT=snaps/mc.%p.hsnap \
  memcached -d -P "$M/daemon/mc.pid" $(mc_args "$dp")
cd "$here" || return 0
wait "$SV_TPID"
dpid=""
for i in $(seq 100); do [ -s "$M/daemon/mc.pid" ] && dpid=$(cat "$M/daemon/mc.pid") && break; sleep 0.1; done
if [ -n "$dpid" ] && sv_up "$dp"; then
  timeout 30 $MC replies "$dp" >/dev/null 2>&1
  kill -TERM "$dpid"; sv_gone "$dpid"
fi
if [ -n "$dpid" ] && [ -f "$M/daemon/run/snaps/mc.$dpid.hsnap" ]; then t_pass memcached_daemon_relative_output_stays
else sv_fail memcached_daemon_relative_output_stays "want run/snaps/mc.$dpid.hsnap; got: $(ls -A "$M/daemon/run/snaps" | tr '\n' ' ')" "$M/daemon/log"; fi
