#!/usr/bin/env bash
# scripts/soak-attach.sh - heapsnap attach and detach, again and again, on a
# redis-server that redis-benchmark keeps busy: each cycle is `heapsnap attach
# PID --duration S` (the detach at its end), then the checks.  After each:
#   * redis answers PING, and redis-benchmark (a bounded key space, so the
#     data set stops growing) has no failed request at the end;
#   * its RSS is within --rss-mib of the RSS before the first attach;
#   * no thread the session started is left (/proc/PID/task, compared with
#     before the attach; threads the allocator names and starts on its own,
#     jemalloc_bg_thd, are counted apart);
#   * the GOT entries of the malloc family (scripts/bench/gotread.py) hold
#     what they held before the first attach, none pointing into the shim
#     (during each session some do: the check is checked), since the shim
#     stays mapped after a detach (docs/usage.md);
#   * the session's snapshot is one `heapsnap top` reads.
# It prints a line per cycle and a summary (time per cycle, RSS drift);
# docs/performance.md quotes one.  Not part of make check: tests/scripts/
# test_soak_attach.sh runs 3 short cycles.  Exit 0 when every check passed,
# 1 when one failed, 2 when it could not run.
# With --kill-cli each cycle instead kills the heapsnap attach process at a
# random moment (0 to --kill-ms ms after its start, with SIGKILL, SIGHUP,
# SIGTERM or SIGINT, drawn at random): whatever the CLI was doing, redis
# must answer PING after it, be traced by nobody, and a session the call
# finished alone must end with heapsnap detach; a dead redis is counted
# (the target deaths, which must be 0) and started again.
#   --cycles N      sessions (default 50)
#   --duration S    each session's --duration (default 1)
#   --rss-mib M     the RSS bound above the first RSS (default 4)
#   --requests N    redis-benchmark's requests per test and pass (default
#                   20000; the RSS is taken after the first pass, when the
#                   data set is full)
#   --keep DIR      keep the snapshots and logs in DIR (default: removed)
#   --kill-cli      the kill soak above (e.g. --cycles 200)
#   --kill-ms MS    its latest kill, in ms after the start (default 400)
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
HS=${HEAPSNAP:-$PWD/$BUILD/heapsnap}
CYCLES=50 DURATION=1 RSS_MIB=4 REQUESTS=20000 KEEP="" KILL=0 KILL_MS=400
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) CYCLES=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rss-mib) RSS_MIB=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    --kill-cli) KILL=1 ;;
    --kill-ms) KILL_MS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    -h|--help) sed -n '2,/^set -u$/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak-attach.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "soak-attach.sh: $*" >&2; exit 2; }
[ -x "$HS" ] || die "$HS is not built (make)"
[ -f "$(dirname "$HS")/libheapsnap-attach.so" ] || die "libheapsnap-attach.so is not built (make)"
for tool in redis-server redis-cli redis-benchmark python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh test)"
done
case "$CYCLES$RSS_MIB$REQUESTS$KILL_MS" in ""|*[!0-9]*) die "--cycles, --rss-mib, --requests and --kill-ms take whole numbers" ;; esac
case "$DURATION" in ""|*[!0-9.]*) die "--duration takes seconds (e.g. 0.5)" ;; esac
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3) # not a pyenv shim: it starts slowly

W=$(mktemp -d); [ -n "$KEEP" ] && { mkdir -p "$KEEP" || die "cannot make $KEEP"; W=$KEEP; }
PIDS=""
cleanup() {
  local p
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  [ -z "$KEEP" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
now() { echo "${EPOCHREALTIME/./}"; } # microseconds
ms() { echo $(( ($2 - $1) / 1000 )); }
# rss PID: VmRSS in KiB.  The file is read at once: /proc makes it again at
# each read, and a line that changed length (State) moves the others.
rss() {
  local s
  s=$(<"/proc/$1/status") || return
  s=${s#*VmRSS:}
  echo $((${s%%kB*}))
}
# tasks PID: "TID COMM" of each thread
tasks() {
  local t c
  for t in /proc/"$1"/task/*; do read -r c <"$t/comm" 2>/dev/null; echo "${t##*/} $c"; done | sort
}
# got REQUEST: the GOT reader's answer (its line in GOT_LINE), 0 for "ok"
got() {
  echo "$1" >&"${GOTR[1]}"
  IFS= read -t 60 -r GOT_LINE <&"${GOTR[0]}" || GOT_LINE="no answer from gotread.py"
  [ "${GOT_LINE#ok }" != "$GOT_LINE" ]
}

# ---- the server, bounded in time, on a free port, in a directory of its own
LIFE=$((120 + CYCLES * (${DURATION%.*} + 10)))
mkdir -p "$W/data" "$W/out"
rd() { timeout 20 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
# serve: redis-server started (again), answering PING; its pid in pid
serve() {
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  timeout -k 5 "$LIFE" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$W/data" --logfile "$W/redis.log" &
  pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 200); do [ "$(rd PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  [ "$(rd PING 2>/dev/null)" = PONG ] || die "redis-server did not answer on port $port: $(tail -3 "$W/redis.log")"
  pid=$(pgrep -P "$pid" redis-server || echo "$pid") # timeout's child, if timeout forked
}
serve
version=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')

# ---- the kill soak: no load beyond a client's, the CLI killed at random
if [ "$KILL" = 1 ]; then
  sigs=(KILL HUP TERM INT)
  deaths=0 alone=0 undone=0 pinged=0 traced=0 fails=0
  declare -A by=()
  echo "soak-attach: $CYCLES attaches to redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')" \
       "killed at random 0-$KILL_MS ms after their start; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for i in $(seq "$CYCLES"); do
    why=""
    sig=${sigs[RANDOM % 4]} delay=$((RANDOM % (KILL_MS + 1)))
    by[$sig]=$(( ${by[$sig]:-0} + 1 ))
    rd SET soak "before-$i" >/dev/null
    "$HS" attach "$pid" -o "$W/out/redis.$i.hsnap" --duration 2 >/dev/null 2>"$W/attach.$i.err" &
    cli=$!
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    kill -"$sig" "$cli" 2>/dev/null
    wait "$cli" 2>/dev/null
    # a call the CLI left finishes alone: its session, if any, appears within 2 s
    sock=/tmp/heapsnap-$(id -u)/$pid.sock
    for _ in $(seq 200); do
      tr=$(awk '/^TracerPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [ "${tr:-0}" = 0 ] && break; sleep 0.01
    done
    [ "${tr:-0}" = 0 ] || { traced=$((traced + 1)); why="$why; still traced by $tr"; }
    if [ -S "$sock" ]; then
      if timeout 60 "$HS" detach "$pid" >/dev/null 2>"$W/detach.$i.err"; then alone=$((alone + 1))
      else why="$why; detach: $(head -c 200 "$W/detach.$i.err")"; fi
    else undone=$((undone + 1)); fi
    if kill -0 "$pid" 2>/dev/null && [ "$(rd PING 2>/dev/null)" = PONG ] &&
       [ "$(rd GET soak 2>/dev/null)" = "before-$i" ]; then
      pinged=$((pinged + 1))
    else
      deaths=$((deaths + 1))
      why="$why; redis died or stopped answering (SIG$sig at $delay ms; $(tail -c 200 "$W/attach.$i.err" | tr '\n' ' '))"
      kill -KILL "$pid" 2>/dev/null
      serve
    fi
    if [ -n "$why" ]; then fails=$((fails + 1)); echo "cycle $i: SIG$sig at $delay ms: FAIL${why}"; fi
    [ $((i % 25)) = 0 ] && echo "cycle $i: $deaths target deaths so far"
  done
  echo "kills: SIGKILL ${by[KILL]:-0}, SIGHUP ${by[HUP]:-0}, SIGTERM ${by[TERM]:-0}, SIGINT ${by[INT]:-0};" \
       "sessions left running (ended by heapsnap detach): $alone; none left: $undone"
  echo "target deaths: $deaths of $CYCLES attaches; PING answered after $pinged of $CYCLES; still traced after $traced"
  if [ "$fails" = 0 ]; then echo "verdict: ok, $CYCLES of $CYCLES kills survived"; exit 0; fi
  echo "verdict: FAILED, $fails of $CYCLES cycles"
  exit 1
fi

# ---- the load: 8 clients on 1000 keys, for as long as the server lives; the
# RSS is taken once a first pass of the tests has filled the data set
bench_cmd="redis-benchmark -c 8 -r 1000 -d 64 -n $REQUESTS -t set,get,incr,hset,sadd -l -q"
timeout "$LIFE" $bench_cmd -h 127.0.0.1 -p "$port" >"$W/bench.out" 2>&1 &
bench=$!
PIDS="$bench $PIDS"
for _ in $(seq 1200); do
  tr '\r' '\n' <"$W/bench.out" | grep -q '^SADD: [0-9.]* requests per second' && break
  kill -0 "$bench" 2>/dev/null || die "redis-benchmark ended: $(tail -c 300 "$W/bench.out")"
  sleep 0.1
done
# the RSS under load before any attach: its least and most over 1 s
lo=999999999 hi=0
for _ in $(seq 10); do
  r=$(rss "$pid"); [ "$r" -lt "$lo" ] && lo=$r; [ "$r" -gt "$hi" ] && hi=$r; sleep 0.1
done
rss0=$(rss "$pid")
tasks "$pid" >"$W/tasks.0"
# the GOT reader, started once: the entries now are the reference
coproc GOTR { exec "$PY" scripts/bench/gotread.py "$pid" --serve "$W/got.json" 2>&1; }
PIDS="$PIDS $GOTR_PID"
IFS= read -t 60 -r GOT_LINE <&"${GOTR[0]}"
[ "${GOT_LINE#ok }" != "${GOT_LINE:-x}" ] || die "the GOT before the first attach: $GOT_LINE"
echo "soak-attach: $CYCLES cycles of heapsnap attach $pid --duration $DURATION on redis-server $version" \
     "(127.0.0.1:$port) under $bench_cmd; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "before: RSS $rss0 KiB (under load: $lo..$hi KiB over 1 s), $(wc -l <"$W/tasks.0") threads, ${GOT_LINE#ok }"

fails=0 clean=0 hooked=0 restored=0 readable=0 pinged=0 left=0 bg0=$(grep -c ' jemalloc_bg_thd$' "$W/tasks.0")
: >"$W/cycles"
for i in $(seq "$CYCLES"); do
  why=""
  tasks "$pid" >"$W/tasks.before"
  t0=$(now)
  # its stderr through a FIFO: the "attached" line is read as it comes
  rm -f "$W/err.fifo"; mkfifo "$W/err.fifo"
  "$HS" attach "$pid" -o "$W/out/redis.$i.hsnap" --duration "$DURATION" >"$W/attach.$i.out" 2>"$W/err.fifo" &
  cli=$!
  exec 9<"$W/err.fifo"
  ta=""
  IFS= read -t 60 -r line <&9 && echo "$line" >"$W/attach.$i.err"
  case "$line" in "heapsnap: attached to"*) ta=$(now) ;; esac
  # during the session: some entries point into the shim, and a request
  # that allocates (a new value for one key) is traced
  if [ -n "$ta" ] && got hooked; then
    hooked=$((hooked + 1))
  elif kill -0 "$cli" 2>/dev/null; then
    why="$why; not hooked during the session (${GOT_LINE#no })"
  fi
  [ -n "$ta" ] && rd SET soak "value-$i" >/dev/null
  during=$(ls "/proc/$pid/task" | wc -l)
  wait "$cli"; rc=$?
  t1=$(now)
  cat <&9 >>"$W/attach.$i.err"; exec 9<&-
  if [ "$rc" = 0 ] && [ -n "$ta" ] && grep -q "^heapsnap: detached from process $pid" "$W/attach.$i.err"; then
    clean=$((clean + 1))
  else why="$why; attach exited $rc: $(tail -c 200 "$W/attach.$i.err" | tr '\n' ' ')"; fi
  [ "$(rd PING 2>/dev/null)" = PONG ] && pinged=$((pinged + 1)) || why="$why; no PONG"
  # the session's threads end after the detach's answer: wait for that (5 s at most)
  new=""
  for _ in $(seq 500); do
    tasks "$pid" >"$W/tasks.after"
    new=$(join -v 1 "$W/tasks.after" "$W/tasks.before" | grep -v ' jemalloc_bg_thd$')
    [ -z "$new" ] && break
    sleep 0.01
  done
  [ -n "$new" ] && { left=$((left + 1)); why="$why; threads left: $(echo $new)"; }
  if got check; then restored=$((restored + 1))
  else why="$why; GOT not put back (${GOT_LINE#no })"; fi
  r=$(rss "$pid")
  drift=$((r - rss0))
  [ "$drift" -gt $((RSS_MIB * 1024)) ] && why="$why; RSS $r KiB, +$drift KiB"
  if "$HS" top "$W/out/redis.$i.hsnap" >"$W/top.$i" 2>"$W/top.$i.err" && grep -q 'size=' "$W/top.$i" &&
     grep -q 'attached at .*blocks from before are not traced' "$W/top.$i.err"; then
    readable=$((readable + 1))
  else why="$why; heapsnap top: $(head -c 200 "$W/top.$i.err")"; fi
  bg=$(grep -c ' jemalloc_bg_thd$' "$W/tasks.after")
  cyc=$(ms "$t0" "$t1") att=$([ -n "$ta" ] && ms "$t0" "$ta" || echo -)
  echo "$i $cyc $att $r $drift $during $(wc -l <"$W/tasks.after") $bg" >>"$W/cycles"
  if [ -n "$why" ]; then fails=$((fails + 1)); st="FAIL${why}"; else st=ok; fi
  printf 'cycle %2d: %5d ms (attached after %s ms), RSS %d KiB (%+d), threads %d during, %d after: %s\n' \
    "$i" "$cyc" "$att" "$r" "$drift" "$during" "$(wc -l <"$W/tasks.after")" "$st"
done

kill -INT "$bench" 2>/dev/null; wait "$bench" 2>/dev/null
errs=$(tr '\r' '\n' <"$W/bench.out" | grep -ciE 'error|refused|reset|timeout')
estats=$(rd INFO errorstats | grep -c '^errorstat_')
crash=$(grep -ciE 'crash|segmentation|assert' "$W/redis.log")
[ "$errs" = 0 ] && [ "$estats" = 0 ] && [ "$crash" = 0 ] || fails=$((fails + 1))

# ---- the summary: medians over the cycles
summary=$("$PY" - "$W/cycles" "$DURATION" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cyc = [int(r[1]) for r in rows]
att = [int(r[2]) for r in rows if r[2] != "-"]
drift = [int(r[4]) for r in rows]
dur = float(sys.argv[2]) * 1000
rest = [c - a - dur for c, a in zip(cyc, [int(r[2]) if r[2] != "-" else 0 for r in rows])]
print(f"time per cycle: median {statistics.median(cyc) / 1000:.2f} s (min {min(cyc) / 1000:.2f}, "
      f"max {max(cyc) / 1000:.2f}; --duration {dur / 1000:g} s of it); attach median "
      f"{statistics.median(att) / 1000:.2f} s, detach and exit median {statistics.median(rest) / 1000:.2f} s")
slope = (drift[-1] - drift[0]) / (len(drift) - 1) if len(drift) > 1 else 0
print(f"RSS after each detach, against before: median {statistics.median(drift):+.0f} KiB, "
      f"max {max(drift):+d} KiB, first {drift[0]:+d} KiB, last {drift[-1]:+d} KiB; "
      f"drift per cycle after the first {slope:+.1f} KiB")
EOF
)
echo "$summary"
echo "threads: $(wc -l <"$W/tasks.0") before; a session's left after its detach: $left of $CYCLES cycles;" \
     "jemalloc background threads $bg0 before, $(grep -c ' jemalloc_bg_thd$' "$W/tasks.after") at the end"
echo "GOT: hooked during $hooked of $CYCLES sessions, put back after $restored of $CYCLES; snapshots read" \
     "by heapsnap top: $readable of $CYCLES; PING answered after $pinged of $CYCLES"
echo "redis: $errs error lines from redis-benchmark, $estats errorstats, $crash crash lines in its log"
if [ "$fails" = 0 ] && [ "$clean" = "$CYCLES" ]; then
  echo "verdict: ok, $clean of $CYCLES sessions clean"
  exit 0
fi
echo "verdict: FAILED, $clean of $CYCLES sessions clean, $fails failures (logs: ${KEEP:-use --keep DIR})"
exit 1
