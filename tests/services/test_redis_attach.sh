# test_redis_attach.sh - heapsnap attach and detach, again and again, on a
# redis-server that redis-benchmark keeps busy: no request fails, the server
# answers as before, each session's snapshot's first site is a function of
# redis's own binary, by its symbol, and its resident memory after the last
# detach is back within 8 MiB (both readings after redis's MEMORY PURGE:
# jemalloc's dirty pages are not ours).
# ATTACH_CYCLES (default 5) sets how many sessions; scripts/soak-attach.sh
# runs 50, with more checks after each.
# serial: the RSS it compares moves with the machine's load (two full
# runs beside the other tests read +8.3 and +8.4 MiB, alone it stays near +2)
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
sv_need redis_attach redis-server redis-cli redis-benchmark python3 || return 0
cycles=${ATTACH_CYCLES:-5}
SV_LIFE=$((120 + cycles * 6)) # the service outlives every session, however slow the machine
R=$T/redis
mkdir -p "$R/data" "$R/out"
port=$(sv_port)
sv_redis_conf "$R" "$port"
sv_start "$R/log" redis-server "$R/redis.conf"
pid=$SV_PID
sv_up "$port" || { sv_fail redis_attach_server_starts "no answer on port $port" "$R/log"; return 0; }
rd() { timeout 20 redis-cli -h 127.0.0.1 -p "$port" "$@"; }

# Load for the whole test: a bounded key space, so that the data set stops
# growing; redis-benchmark prints any error it gets.
timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -c 8 -r 1000 -d 64 -t set,get,lpush,lpop -l -q \
  >"$R/bench.out" 2>&1 &
bench=$!
SV_PIDS="$SV_PIDS $bench"
for _ in $(seq 200); do [ "$(rd DBSIZE 2>/dev/null)" -ge 1000 ] 2>/dev/null && break; sleep 0.05; done
# jemalloc keeps freed pages dirty for its decay time (10 s), and the
# sessions' frees, held back while attached, leave more of them: purged
# before each reading, so that RSS counts what is resident for good
purged_rss() { rd MEMORY PURGE >/dev/null; sleep 0.2; awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
rss0=$(purged_rss)
# what redis itself holds (jemalloc's allocated bytes): the benchmark's
# lists grow while the sessions run, the more so on a loaded machine
used() { rd INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print int($2 / 1024)}'; }
used0=$(used)

ok=0 named=0
for i in $(seq "$cycles"); do
  "$HEAPSNAP" attach "$pid" -o "$R/out/redis.$i.hsnap" >"$R/attach.$i.err" 2>&1 &
  cli=$!
  for _ in $(seq 1000); do
    grep -q '^heapsnap: attached to' "$R/attach.$i.err" && break
    kill -0 "$cli" 2>/dev/null || break
    sleep 0.01
  done
  # one request of ours while attached, so the session surely allocates
  rd SET "attach:$i" "value-$i" >/dev/null
  "$HEAPSNAP" detach "$pid" >"$R/detach.$i.err" 2>&1 && wait "$cli" && ok=$((ok + 1))
  # named: the first site is a function of redis's own binary (Debian's
  # redis-server is a link to redis-check-rdb), by its symbol.  Which one
  # depends on the benchmark's phase at the detach (_sdsnewlen under
  # set/get, lpInsert under lpush, clientsCronResizeOutputBuffer, ...):
  # a fixed list of names failed 1 session in 5 under load
  "$HEAPSNAP" top --key module -n 1 "$R/out/redis.$i.hsnap" 2>/dev/null | grep -qE '^redis-(server|check-rdb): size=' &&
    "$HEAPSNAP" top --key function -n 1 "$R/out/redis.$i.hsnap" 2>/dev/null | grep -qE '^[A-Za-z_][A-Za-z0-9_.]*: size=' &&
    named=$((named + 1))
done
rss1=$(purged_rss)
used1=$(used)
kill -INT "$bench" 2>/dev/null; wait "$bench" 2>/dev/null

if [ "$ok" = "$cycles" ]; then t_pass redis_attach_detach_cycles_under_load
else sv_fail redis_attach_detach_cycles_under_load "$ok of $cycles sessions ended cleanly" "$R/attach.$i.err" "$R/detach.$i.err" "$R/log"; fi
if [ "$named" = "$cycles" ]; then t_pass redis_attach_snapshots_name_redis_functions
else sv_fail redis_attach_snapshots_name_redis_functions "$named of $cycles snapshots name a redis function first" "$R/detach.$i.err"; fi
errs=$(tr '\r' '\n' <"$R/bench.out" | grep -ciE 'error|refused|reset|timeout')
if [ "$errs" = 0 ] && grep -qE 'requests per second|rps=[1-9]' <(tr '\r' '\n' <"$R/bench.out") &&
   [ "$(rd GET "attach:$cycles")" = "value-$cycles" ] && [ "$(rd PING)" = PONG ] &&
   ! rd INFO errorstats | grep -q '^errorstat_'; then
  t_pass redis_attach_no_failed_request
else sv_fail redis_attach_no_failed_request "$errs error lines from redis-benchmark" "$R/bench.out" "$R/log"; fi
# the RSS grown past redis's own growth: what the sessions left
if [ -n "$rss0" ] && [ -n "$rss1" ] && [ -n "$used0" ] && [ -n "$used1" ] &&
   [ $((rss1 - rss0 - (used1 - used0))) -lt 8192 ]; then
  t_pass redis_attach_rss_back_after_detach
else t_fail redis_attach_rss_back_after_detach "RSS $rss0 KiB before the first attach, $rss1 KiB after the last detach; redis's own $used0 -> $used1 KiB"; fi
if grep -qiE 'crash|segmentation|assert' "$R/log"; then sv_fail redis_attach_server_log_clean "the log reports a crash" "$R/log"
else t_pass redis_attach_server_log_clean; fi
