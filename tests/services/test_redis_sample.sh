# test_redis_sample.sh - redis-server under `heapsnap run --leaks --sample
# 524288` (the low-overhead mode for services), driven by redis-benchmark:
# every snapshot (two signal ones during and after the load, and the exit
# one) says 0 bytes definitely lost.  Debian's redis allocates with jemalloc,
# whose background threads start past the shim's pthread_create hook and
# block every signal; their stacks and DTVs must be roots (before: 1,408 B
# in 4 blocks lost in each snapshot, the threads' DTVs).
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
sv_need redis_sample_service redis-server redis-cli redis-benchmark python3 || return 0

R=$T/redis_sample
mkdir -p "$R/data" "$R/out"
port=$(sv_port)
sv_redis_conf "$R" "$port"
rs_cli() { timeout 20 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
rs_snaps() { # N: waits (at most 20 s) until $R/out holds N snapshots
  local i
  for i in $(seq 200); do
    [ "$(ls "$R/out" | grep -c '\.hsnap$')" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

sv_start "$R/log" "$HEAPSNAP" run --leaks --sample 524288 --signal USR2 \
  -o "$R/out/redis.%p.%n.hsnap" -- redis-server "$R/redis.conf"
tpid=$SV_TPID
pid=""
if sv_up "$port"; then pid=$(sv_child "$SV_PID"); fi
if [ -z "$pid" ]; then
  sv_fail redis_sample_server_starts "no answer on port $port" "$R/log"
  return 0 2>/dev/null || exit 0
fi
SV_PIDS="$SV_PIDS $pid"

timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -n 5000 -c 8 -r 1000 -q \
  -t set,get,incr,lpush,rpop,lrange_100 >"$R/bench.out" 2>&1 &
bench=$!
for i in $(seq 200); do # the first snapshot once the load is under way (a count)
  n=$(rs_cli INFO stats 2>/dev/null | tr -d '\r' | sed -n 's/^total_commands_processed://p')
  [ "${n:-0}" -ge 2000 ] && break
  sleep 0.05
done
kill -USR2 "$pid"; rs_snaps 1
wait "$bench"
kill -USR2 "$pid"; rs_snaps 2
rs_cli SHUTDOWN NOSAVE >/dev/null 2>&1
wait "$tpid"; rc=$?

bad="" n=0
for f in "$R"/out/*.hsnap; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  "$HEAPSNAP" leaks "$f" >"$R/leaks.$n" 2>&1
  grep -Eq '^ *direct: 0 bytes in 0 blocks' "$R/leaks.$n" ||
    bad="$bad $(basename "$f"): $(grep -m1 -E '^ *direct:' "$R/leaks.$n" | tr -s ' ');"
done
if [ "$rc" = 0 ] && [ "$n" = 3 ] && [ -z "$bad" ]; then
  t_pass redis_sampled_leaks_none_lost_in_any_snapshot
else
  sv_fail redis_sampled_leaks_none_lost_in_any_snapshot "run exit $rc, $n snapshots (want 3):$bad" "$R/log" "$R/leaks.1"
fi
