# test_serve_prometheus.sh - Debian's prometheus scraping heapsnap serve, both
# on 127.0.0.1: it runs on the shipped dist/prometheus.yml (the agent's
# address and a 1 s interval put in), discovers the profiled target through
# /targets (http_sd_configs), and its HTTP API answers the target's live heap
# as `heapsnap top` reads it from a snapshot taken at that moment (the target
# is idle between its commands: one scrape later, to the byte); when the
# target ends, it leaves Prometheus' active targets.  Bounded: prometheus is
# killed at the end, every wait is a poll of at most 20 s.
# tier: full (Debian's prometheus, a service)
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
for tool in prometheus promtool curl; do
  if ! command -v $tool >/dev/null; then
    t_fail serve_prometheus "$tool is not installed (scripts/install-deps.sh test installs it)"
    return 0
  fi
done
t_build target tests/shim/attach/target.c -pthread
sv_start || { t_fail serve_prometheus_agent_starts "$(head -c 300 "$T/serve.err")"; return 0; }
sv_target HEAPSNAP_SIGNAL=USR2 HEAPSNAP_SERVICE=cart
P=$AT_PID
at_cmd "a 1000"
# a second process: targets share the agent's address, each must be up on its own
env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/s.%p.hsnap" sleep 60 &
P2=$!; SV_PIDS="$SV_PIDS $P2"

# prometheus on a free port, on the shipped configuration
PP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s/127\.0\.0\.1:9464/127.0.0.1:$SV_PORT/g" -e 's/: 15s$/: 1s/' dist/prometheus.yml >"$T/prometheus.yml"
cp dist/heapsnap-alerts.yml "$T/"
if promtool check config "$T/prometheus.yml" >"$T/pc.out" 2>&1; then t_pass serve_shipped_prometheus_config_checks
else t_fail serve_shipped_prometheus_config_checks "$(head -c 300 "$T/pc.out")"; fi
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$PP" --log.level=warn >"$T/prom.log" 2>&1 &
SV_PIDS="$SV_PIDS $!"
PROM=http://127.0.0.1:$PP
# pq QUERY: the value of the instant query's first sample ("" when none)
pq() {
  curl -s -m 5 --data-urlencode "query=$1" "$PROM/api/v1/query" |
    python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
# pq_wait QUERY WANT: until the query answers WANT (20 s); the last answer in PQ
pq_wait() {
  local end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    PQ=$(pq "$1"); [ "$PQ" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
# snap_live N: the N-th snapshot (from 0) now (SIGUSR2), and the live bytes
# heapsnap top reads in it
snap_live() {
  local f=$T/t.$P.$1.hsnap
  kill -USR2 "$P"
  for _ in $(seq 500); do [ -s "$f" ] && break; sleep 0.02; done
  "$HEAPSNAP" top -n 0 --format json "$f" 2>/dev/null |
    python3 -c 'import json,sys; print(sum(g["bytes"] for g in json.load(sys.stdin)["groups"]))'
}

q="heapsnap_heap_live_bytes{job=\"heapsnap\",pid=\"$P\",service=\"cart\"}"
want=$(snap_live 0)
if pq_wait "$q" "$want"; then t_pass serve_prometheus_discovers_and_scrapes_the_process
else t_fail serve_prometheus_discovers_and_scrapes_the_process "query $q: '$PQ', top: $want; $(tail -c 300 "$T/prom.log")"; fi
at_cmd "a 2000"                         # +200000 B
want2=$(snap_live 1)
if [ "$want2" -gt "$want" ] && pq_wait "$q" "$want2"; then t_pass serve_prometheus_live_heap_matches_top_on_a_snapshot
else t_fail serve_prometheus_live_heap_matches_top_on_a_snapshot "query: '$PQ', top: $want2 (before $want)"; fi
top_site="heapsnap_site_live_bytes{pid=\"$P\",site=\"grow_site (tests/shim/attach/target.c:36)\"}"
if pq_wait "$top_site" 300000; then t_pass serve_prometheus_has_the_growing_site
else t_fail serve_prometheus_has_the_growing_site "query: '$PQ'"; fi
if pq_wait "count(up{job=\"heapsnap\",instance=~\".*[?]pid=($P|$P2)\"} == 1)" 2; then
  t_pass serve_prometheus_each_process_is_a_target_up
else t_fail serve_prometheus_each_process_is_a_target_up "up of $P and $P2: '$PQ'"; fi
if pq_wait "heapsnap_serve_processes{job=\"heapsnap-agent\"} >= bool 2" 1; then t_pass serve_prometheus_scrapes_the_agent_itself
else t_fail serve_prometheus_scrapes_the_agent_itself "query: '$PQ'"; fi

# the target ends: it leaves the active targets
at_end
gone=0
for _ in $(seq 100); do
  curl -s -m 5 "$PROM/api/v1/targets?state=active" >"$T/targets.json"
  if python3 -c 'import json,sys
t = json.load(open(sys.argv[1]))["data"]["activeTargets"]
sys.exit(any(x["discoveredLabels"].get("__meta_heapsnap_pid") == sys.argv[2] for x in t))' "$T/targets.json" "$P"; then
    gone=1; break
  fi
  sleep 0.2
done
[ $gone = 1 ] && t_pass serve_prometheus_ended_process_leaves_its_targets ||
  t_fail serve_prometheus_ended_process_leaves_its_targets "$(head -c 300 "$T/targets.json")"
sv_end
