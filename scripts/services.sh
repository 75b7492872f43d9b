#!/usr/bin/env bash
# scripts/services.sh - what heapsnap costs real services under load: redis
# (redis-benchmark), nginx with 2 workers (ab) and memcached with 4 threads
# (memcaslap), each run plain, under the shim with full stacks, and sampled
# (HEAPSNAP_SAMPLE=524288), the three modes ALTERNATED within each round (their
# order turns from round to round) so that the machine's slow spells hit them
# alike.  Per service and mode it prints the medians over the rounds of the
# client's throughput (requests/s), the server's peak RSS (VmHWM, summed over
# nginx's master and workers, read just before shutdown) and its CPU time
# during the load (utime + stime), and each as a ratio to the plain run of the
# same round (the median of the per-round ratios).  Each service listens on a
# free port of 127.0.0.1, in a scratch dir of its own, and is stopped at the
# end of its run; the exit snapshot is written after the measurement.
#
#   --quick        2 rounds, a tenth of the load (under a minute; the full run
#                  takes about 6 minutes on 2 busy cores)
#   --rounds N     rounds (default 7: on a shared machine a run's throughput
#                  moves by 2x from one run to the next, its RSS by 1%)
#   --only NAME    redis, nginx or memcached
#   --raw FILE     also keep every run: "service mode round rps rss_kb cpu_ms"
#   --leak-stall KEYS  instead: the leak check's stall on redis holding KEYS
#                  keys (DEBUG POPULATE), on a fork of it and in place
#                  (HEAPSNAP_LEAK_FORK=1, 0): a client PINGs without pause
#                  while the check and its snapshot run (HEAPSNAP_SIGNAL asks,
#                  the snapshot's rename ends them) and in as long a window
#                  after; its longest round trips, the server's VmRSS before
#                  and VmHWM during the check, the live blocks
#
# The tests in tests/services/ are the short, checked versions of these runs;
# this script measures and asserts nothing.  Exit 2 when a service or client
# fails.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
SHIM=$PWD/$BUILD/libheapsnap.so
ROUNDS=7 QUICK=0 ONLY="" RAW="" LEAK_KEYS="" ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=2 ;;
    --rounds) ROUNDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --raw) RAW=$2; shift ;;
    --leak-stall) LEAK_KEYS=$2; shift ;;
    -h|--help) sed -n '2,/^set -u$/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "services.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$SHIM" ] || { echo "services.sh: $SHIM is not built (make)" >&2; exit 2; }
for tool in redis-server redis-benchmark redis-cli nginx ab memcached memcaslap python3; do
  command -v "$tool" >/dev/null || { echo "services.sh: $tool is missing (scripts/install-deps.sh test)" >&2; exit 2; }
done

W=$(mktemp -d)
RESULTS=$W/results
SRV=""
trap 'for p in $SRV; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
# load sizes: full, or a tenth with --quick
if [ "$QUICK" = 1 ]; then R_N=1000 N_N=1000 M_N=10000; else R_N=10000 N_N=10000 M_N=100000; fi

die() { echo "services.sh: $*" >&2; exit 2; }

port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# up PORT: waits (at most 20 s) until 127.0.0.1:PORT accepts a connection
up() {
  local i
  for i in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# menv MODE: the environment of a run in MODE (plain: none; full; sampled)
menv() {
  case "$1" in
    plain) ;;
    full) echo "LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT=$W/snap.%p.hsnap" ;;
    sampled) echo "LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT=$W/snap.%p.hsnap HEAPSNAP_SAMPLE=524288" ;;
  esac
}

# rss_kb PID...: the sum of the processes' VmHWM
rss_kb() { local p; for p in "$@"; do awk '$1 == "VmHWM:" { print $2 }' "/proc/$p/status"; done | awk '{ s += $1 } END { print s + 0 }'; }

# cpu_ms PID...: the sum of the processes' utime + stime, in ms
cpu_ms() {
  local p hz; hz=$(getconf CLK_TCK)
  for p in "$@"; do sed 's/.*) //' "/proc/$p/stat"; done | awk -v hz="$hz" '{ s += $12 + $13 } END { print int(s * 1000 / hz) }'
}

# started PID: the pid a `sh -c 'echo $$ >F; exec ...'` wrote into $W/pid
started() { local i; for i in $(seq 100); do [ -s "$W/pid" ] && break; sleep 0.05; done; cat "$W/pid"; }

# ---- redis: redis-benchmark's tests; throughput = all requests / their total time
run_redis() { # MODE: writes "rps rss_kb cpu_ms" into $W/line
  local p pid c0 rps
  p=$(port); rm -f "$W/pid"; mkdir -p "$W/redis"
  # shellcheck disable=SC2046
  timeout 600 sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" env $(menv "$1") redis-server --bind 127.0.0.1 --port "$p" \
    --save '' --appendonly no --dir "$W/redis" --logfile "$W/redis.log" &
  pid=$(started); SRV="$SRV $pid"
  up "$p" || die "redis did not start: $(tail -3 "$W/redis.log")"
  c0=$(cpu_ms "$pid")
  timeout 600 redis-benchmark -h 127.0.0.1 -p "$p" -n "$R_N" -c 50 -r 100000 -d 64 --csv \
    -t set,get,incr,lpush,rpop,sadd,hset,lrange_100 >"$W/rb.csv" 2>"$W/rb.err" || die "redis-benchmark: $(tail -3 "$W/rb.err")"
  rps=$(awk -F'"' -v n="$R_N" 'NR > 1 && $4 > 0 { t += n / $4; k += n } END { if (t > 0) printf "%.0f", k / t }' "$W/rb.csv")
  echo "${rps:-0} $(rss_kb "$pid") $(( $(cpu_ms "$pid") - c0 ))" >"$W/line"
  timeout 60 redis-cli -h 127.0.0.1 -p "$p" SHUTDOWN NOSAVE >/dev/null 2>&1
  wait "$pid" 2>/dev/null
}

# ---- nginx: master + 2 workers, ab on a 20 KB static file, no keep-alive
run_nginx() {
  local p d=$W/nginx master workers c0 rps
  p=$(port); mkdir -p "$d/html" "$d/tmp"; chmod 0755 "$W" "$d" "$d/html"
  head -c 20000 /dev/zero | tr '\0' x >"$d/html/index.html"; chmod 0644 "$d/html/index.html"
  cat >"$d/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $d/tmp/body; proxy_temp_path $d/tmp/proxy; fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
  server { listen 127.0.0.1:$p; root $d/html; }
}
EOF
  rm -f "$W/pid"
  # shellcheck disable=SC2046
  timeout 600 sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" env $(menv "$1") nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" &
  master=$(started); SRV="$SRV $master"
  up "$p" || die "nginx did not start: $(tail -3 "$d/error.log")"
  for i in $(seq 100); do workers=$(pgrep -P "$master" | tr '\n' ' '); [ "$(echo $workers | wc -w)" = 2 ] && break; sleep 0.1; done
  c0=$(cpu_ms $workers)
  timeout 600 ab -q -n "$N_N" -c 16 "http://127.0.0.1:$p/" >"$W/ab.out" 2>&1 || die "ab: $(tail -3 "$W/ab.out")"
  grep -Eq '^Failed requests: +0$' "$W/ab.out" || die "ab: failed requests under $1"
  rps=$(awk '/^Requests per second:/ { printf "%.0f", $4 }' "$W/ab.out")
  echo "${rps:-0} $(rss_kb "$master" $workers) $(( $(cpu_ms $workers) - c0 ))" >"$W/line"
  kill -QUIT "$master"; wait "$master" 2>/dev/null
}

# ---- memcached: 4 threads, memcaslap (90% get, 10% set) with 2 threads x 32 connections
run_memcached() {
  local p pid c0 rps
  p=$(port); rm -f "$W/pid"
  # shellcheck disable=SC2046
  timeout 600 sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" env $(menv "$1") memcached -l 127.0.0.1 -p "$p" -U 0 -t 4 -m 256 \
    -c 1024 -u "$(id -un)" >"$W/mc.log" 2>&1 &
  pid=$(started); SRV="$SRV $pid"
  up "$p" || die "memcached did not start: $(tail -3 "$W/mc.log")"
  c0=$(cpu_ms "$pid")
  timeout 600 memcaslap -s "127.0.0.1:$p" -x "$M_N" -T 2 -c 32 -X 200 >"$W/slap.out" 2>&1 || die "memcaslap: $(tail -3 "$W/slap.out")"
  rps=$(sed -n 's/.*Ops: [0-9]* TPS: \([0-9]*\).*/\1/p' "$W/slap.out" | tail -1)
  echo "${rps:-0} $(rss_kb "$pid") $(( $(cpu_ms "$pid") - c0 ))" >"$W/line"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

# median_of: the median of the numbers on stdin
median_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# report SERVICE: one line per mode, medians and ratios to the same round's plain run
report() {
  local s=$1 m f
  for m in plain full sampled; do
    printf '%-10s %-8s' "$s" "$m"
    for f in 4 5 6; do
      local med ratio
      med=$(awk -v s="$s" -v m="$m" -v f="$f" '$1 == s && $2 == m { print $f }' "$RESULTS" | median_of)
      ratio=$(awk -v s="$s" -v m="$m" -v f="$f" '$1 == s && $2 == "plain" { p[$3] = $f }
              $1 == s && $2 == m && p[$3] > 0 { print $f / p[$3] }' "$RESULTS" | median_of)
      case $f in
        4) printf ' %9.0f/s %5.2fx' "$med" "$ratio" ;;
        5) printf ' %8.1f MB %5.2fx' "$(echo "$med" | awk '{ print $1 / 1024 }')" "$ratio" ;;
        6) printf ' %8.0f ms %5.2fx' "$med" "$ratio" ;;
      esac
    done
    echo
  done
}

# ---- --leak-stall KEYS (see the top)
leak_stall() {
  local keys=$1 fk p pid blocks
  printf '%-8s %10s %11s %14s %13s %10s %10s\n' check "blocks" "check (ms)" "longest (ms)" "after (ms)" "RSS (MB)" "peak (MB)"
  for fk in 1 0; do
    p=$(port); rm -f "$W/pid" "$W"/ls.*.hsnap; mkdir -p "$W/redis"
    timeout 1800 sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" env LD_PRELOAD="$SHIM" HEAPSNAP_LEAKS=1 \
      HEAPSNAP_LEAK_FORK=$fk HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$W/ls.%n.hsnap" redis-server \
      --bind 127.0.0.1 --port "$p" --save '' --appendonly no --dir "$W/redis" \
      --logfile "$W/redis.log" --enable-debug-command yes &
    local job=$!
    pid=$(started); SRV="$SRV $pid"
    up "$p" || die "redis did not start: $(tail -3 "$W/redis.log")"
    timeout 1200 redis-cli -p "$p" DEBUG POPULATE "$keys" key 16 >/dev/null || die "DEBUG POPULATE failed"
    python3 - "$p" "$pid" "$W/ls.0.hsnap" >"$W/ls.line" <<'PY' || die "the PING client failed"
import os, signal, socket, sys, time
port, pid, snap = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def ping():
    t = time.monotonic()
    s.sendall(b"PING\r\n")
    buf = b""
    while not buf.endswith(b"\r\n"):
        buf += s.recv(64)
    return time.monotonic() - t
def status(key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key):
            return int(line.split()[1])
with open("/proc/%d/clear_refs" % pid, "w") as f:
    f.write("5")
rss = status("VmRSS:")
t0, worst = time.monotonic(), 0.0
os.kill(pid, signal.SIGUSR2)
while not os.path.exists(snap):
    worst = max(worst, ping())
check, hwm = time.monotonic() - t0, status("VmHWM:")
t1, after = time.monotonic(), 0.0
while time.monotonic() - t1 < check:
    after = max(after, ping())
print("%.0f %.1f %.1f %.1f %.1f" % (check * 1e3, worst * 1e3, after * 1e3, rss / 1024, hwm / 1024))
PY
    blocks=$("$BUILD/heapsnap" info "$W/ls.0.hsnap" | awk '/^live blocks:/ { print $3 }')
    kill -KILL "$pid" 2>/dev/null; wait "$job" 2>/dev/null
    read -r c wst aft rss hwm <"$W/ls.line"
    printf '%-8s %10s %11s %14s %13s %10s %10s\n' "$([ $fk = 1 ] && echo fork || echo 'in place')" \
      "$blocks" "$c" "$wst" "$aft" "$rss" "$hwm"
  done
}
if [ -n "$LEAK_KEYS" ]; then
  echo "scripts/services.sh $ARGS: commit $(git rev-parse --short HEAD 2>/dev/null), $(date -u +%Y-%m-%dT%H:%MZ)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  leak_stall "$LEAK_KEYS"
  exit 0
fi

services="redis nginx memcached"
[ -n "$ONLY" ] && services=$ONLY
modes=(plain full sampled)
echo "scripts/services.sh $ARGS: commit $(git rev-parse --short HEAD 2>/dev/null), $(date -u +%Y-%m-%dT%H:%MZ)," \
     "$(nproc) CPUs, $ROUNDS rounds; loads: redis $R_N x 8 tests, nginx $N_N requests, memcached $M_N ops;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
: >"$RESULTS"
for r in $(seq "$ROUNDS"); do
  for s in $services; do
    for k in 0 1 2; do
      m=${modes[$(( (k + r - 1) % 3 ))]}
      "run_$s" "$m"
      echo "$s $m $r $(cat "$W/line")" >>"$RESULTS"
      rm -f "$W"/snap.*.hsnap
    done
  done
  echo "round $r done ($(( $(date +%s) - start )) s)" >&2
done
[ -n "$RAW" ] && cp "$RESULTS" "$RAW"
printf '%-10s %-8s %22s %20s %20s\n' service mode "throughput (ratio)" "peak RSS (ratio)" "server CPU (ratio)"
for s in $services; do report "$s"; done
echo "($(( $(date +%s) - start )) s, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; ratios are medians of the" \
     "per-round ratios to the same round's plain run)"
