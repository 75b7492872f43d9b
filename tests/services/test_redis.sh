# test_redis.sh - redis-server under the shim, driven by redis-benchmark: signal
# snapshots (SIGUSR2, which redis leaves alone) during and after the load, the
# exit snapshot after SHUTDOWN NOSAVE with the leak check (no direct leaks),
# `top` naming redis's own functions (zmalloc's callers: Debian's redis has no
# debug info without its -dbgsym package, so names come from the symbol table,
# which redis exports whole), a BGSAVE child that writes no snapshot (it leaves
# through _exit), replies identical to a plain server's for a fixed
# command sequence, and a relative HEAPSNAP_OUTPUT that stays put when redis
# changes to its `dir`.
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
sv_need redis_service redis-server redis-cli redis-benchmark python3 || return 0

R=$T/redis
mkdir -p "$R/plain/data" "$R/prof/data" "$R/prof/out" "$R/rel/data" "$R/rel/run/snaps"

# rd_cli PORT ARGS...: redis-cli against our server, bounded.
rd_cli() { local p=$1; shift; timeout 20 redis-cli -h 127.0.0.1 -p "$p" "$@"; }

# rd_commands: a fixed sequence whose replies do not depend on the server's
# random hash seed (no KEYS, no SMEMBERS of a hash-table set, no TTL).
rd_commands() {
  local big
  big=$(printf '%02000d' 7)
  cat <<EOF
FLUSHALL
SET k1 hello
GET k1
APPEND k1 " world"
GET k1
STRLEN k1
INCR counter
INCR counter
INCRBY counter 100
DECR counter
MSET a 1 b 2 c 3
MGET a b c missing
RPUSH list one two three four five
LPUSH list zero
LRANGE list 0 -1
LLEN list
LPOP list
OBJECT ENCODING list
HSET h f1 v1 f2 v2 f3 v3
HGETALL h
HINCRBY h n 5
SADD s 3 1 2 17 5
SMEMBERS s
SISMEMBER s 2
ZADD z 1 one 2 two 3 three
ZINCRBY z 5 one
ZRANGE z 0 -1 WITHSCORES
EXISTS k1 a nope
TYPE h
DEL a b c
SET big $big
GETRANGE big 1990 2010
STRLEN big
MEMORY USAGE big
EVAL "return redis.call('GET', KEYS[1]) .. ARGV[1]" 1 k1 "!"
DBSIZE
EOF
}

# rd_replies PORT OUT: the sequence's replies, as redis-cli prints them.
rd_replies() { rd_commands | rd_cli "$1" --no-raw >"$2" 2>&1; }

# rd_snaps N: waits (at most 20 s) until $R/prof/out holds N snapshots.
rd_snaps() {
  local i
  for i in $(seq 200); do
    [ "$(ls "$R/prof/out" | grep -c '\.hsnap$')" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- the plain server: the replies to compare with
pp=$(sv_port); sv_redis_conf "$R/plain" "$pp"
sv_start "$R/plain/log" redis-server "$R/plain/redis.conf"
plain_pid=$SV_PID
if sv_up "$pp"; then rd_replies "$pp" "$R/plain/replies"; rd_cli "$pp" SHUTDOWN NOSAVE >/dev/null 2>&1
else sv_fail redis_plain_server_starts "no answer on port $pp" "$R/plain/log"; fi
sv_gone "$plain_pid"

# ---- the profiled server
port=$(sv_port); sv_redis_conf "$R/prof" "$port"
sv_start "$R/prof/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$R/prof/out/redis.%p.%n.hsnap" \
  HEAPSNAP_SIGNAL=USR2 HEAPSNAP_LEAKS=1 redis-server "$R/prof/redis.conf"
pid=$SV_PID tpid=$SV_TPID
if [ -z "$pid" ] || ! sv_up "$port"; then
  sv_fail redis_profiled_server_starts "no answer on port $port" "$R/prof/log"
  return 0
fi

timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -n 5000 -c 8 -r 1000 -q \
  -t set,get,incr,lpush,rpop,lrange_100 >"$R/bench.out" 2>&1 &
bench=$!
# the first snapshot once the load is under way (a count, never a clock)
for i in $(seq 200); do
  n=$(rd_cli "$port" INFO stats 2>/dev/null | tr -d '\r' | sed -n 's/^total_commands_processed://p')
  [ "${n:-0}" -ge 2000 ] && break
  sleep 0.05
done
kill -USR2 "$pid"
rd_snaps 1; during=$?
wait "$bench"; bench_rc=$?
kill -USR2 "$pid"
rd_snaps 2; after=$?
if [ "$bench_rc" = 0 ] && [ "$(grep -c 'requests per second' "$R/bench.out")" -ge 6 ]; then
  t_pass redis_benchmark_completes_under_shim
else sv_fail redis_benchmark_completes_under_shim "redis-benchmark exited $bench_rc" "$R/bench.out" "$R/prof/log"; fi
if [ "$during" = 0 ] && [ "$after" = 0 ]; then t_pass redis_signal_snapshots_during_load
else sv_fail redis_signal_snapshots_during_load "USR2 during and after the load: $(ls -A "$R/prof/out" "$R/prof/data" | tr '\n' ' ')" "$R/prof/log"; fi

# a background save forks a child that leaves through _exit: by default it
# writes no snapshot of the heap it inherited (HEAPSNAP_CHILDREN=exit)
rd_cli "$port" BGSAVE >"$R/bgsave.out" 2>&1
for i in $(seq 200); do
  rd_cli "$port" INFO persistence 2>/dev/null | tr -d '\r' >"$R/persistence"
  grep -q '^rdb_bgsave_in_progress:0' "$R/persistence" && grep -q '^rdb_last_bgsave_status:ok' "$R/persistence" &&
    [ -f "$R/prof/data/dump.rdb" ] && break
  sleep 0.1
done

rd_replies "$port" "$R/prof/replies"
if [ -s "$R/plain/replies" ] && cmp -s "$R/plain/replies" "$R/prof/replies"; then t_pass redis_replies_same_as_plain
else sv_fail redis_replies_same_as_plain "$(diff "$R/plain/replies" "$R/prof/replies" 2>&1 | head -6 | tr '\n' ' ')" "$R/prof/log"; fi

rd_cli "$port" SHUTDOWN NOSAVE >/dev/null 2>&1
wait "$tpid"; rc=$?
sv_snaps "$R/prof/out" >"$R/snaps"
exit_snap=$(awk -v p="$pid" '$1 == p && $2 == "exit" { print $3 }' "$R/snaps" | head -1)
nsig=$(awk -v p="$pid" '$1 == p && $2 == "signal"' "$R/snaps" | wc -l)
if [ "$rc" = 0 ] && [ -n "$exit_snap" ] && [ "$nsig" = 2 ] && ! grep -q '^heapsnap:' "$R/prof/log"; then
  t_pass redis_exit_snapshot_after_shutdown
else
  sv_fail redis_exit_snapshot_after_shutdown "exit $rc, snapshots of pid $pid: $(tr '\n' ' ' <"$R/snaps"), in data/: $(ls -A "$R/prof/data" | tr '\n' ' ')" "$R/prof/log"
fi

others=$(awk -v p="$pid" '$1 != p' "$R/snaps" | tr '\n' ' ')
if [ -f "$R/prof/data/dump.rdb" ] && [ -n "$exit_snap" ] && [ -z "$others" ]; then t_pass redis_bgsave_child_writes_no_snapshot
else sv_fail redis_bgsave_child_writes_no_snapshot "dump.rdb: $(ls "$R/prof/data" | tr '\n' ' '); snapshots of other pids: $others" "$R/bgsave.out" "$R/prof/log"; fi

# ---- what the exit snapshot says
exe=$(basename "$(readlink -f "$(command -v redis-server)")")
if [ -n "$exit_snap" ]; then
  "$HEAPSNAP" top "$exit_snap" --key module -n 1 >"$R/top.module" 2>"$R/top.err"
  if grep -q "^$exe: size=" "$R/top.module"; then t_pass redis_top_module_is_redis
  else sv_fail redis_top_module_is_redis "want $exe first" "$R/top.module" "$R/top.err"; fi

  # zmalloc and its family are allocator wrappers: the sites are their callers,
  # redis's own functions (sdsnewlen, dictAddRaw, createObject, ...).
  "$HEAPSNAP" top "$exit_snap" --key function -n 15 >"$R/top.func" 2>"$R/top.err"
  if grep -Eq '^(_?sdsnewlen|_?dictAddRaw|_?dictExpand|dictCreate|createObject|createStringObject|quicklistCreate|listCreate|lpNew|createClient): size=' "$R/top.func" &&
     ! grep -Eq '^z(try)?(malloc|calloc|realloc|strdup)[a-z_]*: size=' "$R/top.func"; then
    t_pass redis_top_names_zmalloc_callers
  else sv_fail redis_top_names_zmalloc_callers "top --key function" "$R/top.func" "$R/top.err"; fi

  # without debug info a site is its function and module ("createClient
  # (redis-check-rdb)"); with the -dbgsym package, redis's own source line
  "$HEAPSNAP" top "$exit_snap" --key lineno -n 5 >"$R/top.line" 2>"$R/top.err"
  if grep -Eq "^([A-Za-z_][A-Za-z0-9_]* \($exe\)|[^ ]*\.c:[0-9]+): size=" "$R/top.line"; then t_pass redis_top_lineno_names_redis
  else sv_fail redis_top_lineno_names_redis "top --key lineno" "$R/top.line" "$R/top.err"; fi

  "$HEAPSNAP" leaks "$exit_snap" >"$R/leaks" 2>"$R/leaks.err"
  if grep -Eq '^ *direct: 0 bytes in 0 blocks' "$R/leaks" &&
     "$HEAPSNAP" gate "$exit_snap" --fail-on direct >"$R/gate" 2>&1; then
    t_pass redis_exit_no_direct_leaks
  else sv_fail redis_exit_no_direct_leaks "heapsnap leaks / gate --fail-on direct" "$R/leaks" "$R/gate"; fi
else
  t_fail redis_top_module_is_redis "no exit snapshot"
  t_fail redis_top_names_zmalloc_callers "no exit snapshot"
  t_fail redis_top_lineno_names_redis "no exit snapshot"
  t_fail redis_exit_no_direct_leaks "no exit snapshot"
fi

# ---- a relative HEAPSNAP_OUTPUT is the directory redis started in, not its `dir`
rp=$(sv_port); sv_redis_conf "$R/rel" "$rp"
here=$PWD
cd "$R/rel/run" && sv_start "$R/rel/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT=snaps/r.%p.hsnap \
  redis-server "$R/rel/redis.conf"
cd "$here" || return 0
rel_pid=$SV_PID
if sv_up "$rp"; then rd_cli "$rp" SET x y >/dev/null; rd_cli "$rp" SHUTDOWN NOSAVE >/dev/null 2>&1; fi
wait "$SV_TPID"
if [ -n "$rel_pid" ] && [ -f "$R/rel/run/snaps/r.$rel_pid.hsnap" ] && [ -z "$(ls -A "$R/rel/data")" ]; then
  t_pass redis_relative_output_ignores_dir
else
  sv_fail redis_relative_output_ignores_dir "want run/snaps/r.$rel_pid.hsnap; run/snaps: $(ls -A "$R/rel/run/snaps" | tr '\n' ' ') data: $(ls -A "$R/rel/data" | tr '\n' ' ')" "$R/rel/log"
fi
