# tests/services/lib_services.sh - helpers for the tests that run real services
# (redis, nginx, memcached) under the shim, sourced after tests/lib.sh.
# Every service gets its own scratch dir and config file under $T, listens on a
# free port of 127.0.0.1 picked at start-up (a system instance on the default
# port is never touched), runs under `timeout`, and is killed by sv_cleanup,
# which the test scripts run on EXIT, INT and TERM, so a failing or timed-out
# test leaves nothing running.  Checks are on what was written, never on time.

SV_PIDS=""     # processes to kill at the end (timeout wrappers and daemons)
SV_PIDFILES="" # daemons' pid files, read again at cleanup
SV_LIFE=${SV_LIFE:-120}   # seconds a service may live before timeout ends it

# sv_need CASE TOOL...: 0 when every TOOL is on PATH, else one SKIP line for CASE.
sv_need() {
  local case=$1 tool; shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { t_skip "$case" "$tool is not installed (scripts/install-deps.sh test)"; return 1; }
  done
}

# sv_port: a TCP port of 127.0.0.1 that nothing listens on right now.
sv_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sv_up PORT: waits (at most 20 s) until 127.0.0.1:PORT accepts a connection.
sv_up() {
  local i
  for i in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# sv_child PID: the pid of PID's first child, once it exists (at most 5 s).
sv_child() {
  local i c
  for i in $(seq 100); do
    c=$(pgrep -P "$1" | head -1)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.05
  done
  return 1
}

# sv_start LOG CMD...: starts CMD under timeout (stdout and stderr to LOG) and
# sets SV_TPID (the wrapper, for `wait`) and SV_PID (CMD itself, which may
# be gone already: a daemon's first process).  Put LD_PRELOAD and HEAPSNAP_*
# after `env` in CMD, so that only the service, not timeout, is profiled.
sv_start() {
  local log=$1 pidf i; shift
  pidf=$(mktemp "$T/pid.XXXXXX")
  timeout -k 5 "$SV_LIFE" sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" >"$log" 2>&1 &
  SV_TPID=$!
  SV_PIDS="$SV_PIDS $SV_TPID"
  for i in $(seq 100); do [ -s "$pidf" ] && break; sleep 0.05; done
  SV_PID=$(cat "$pidf")
  [ -n "$SV_PID" ] && SV_PIDS="$SV_PIDS $SV_PID"
}

# sv_gone PID: waits (at most 20 s) until PID has ended; 1 if it has not.
sv_gone() {
  local i
  for i in $(seq 200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

sv_cleanup() {
  local p f
  for f in $SV_PIDFILES; do [ -s "$f" ] && SV_PIDS="$SV_PIDS $(cat "$f")"; done
  for p in $SV_PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $SV_PIDS; do sv_gone "$p" || kill -KILL "$p" 2>/dev/null; done
  SV_PIDS="" SV_PIDFILES=""
}

# sv_fail CASE WHY LOG...: a FAIL line, then the last lines of each LOG indented
# (tests/run.sh keeps lines that start with four spaces).
sv_fail() {
  local case=$1 why=$2 f; shift 2
  t_fail "$case" "$why"
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "    --- ${f#"$T"/} (last lines)"
    tail -n 12 "$f" | tr -d '\r' | cut -c1-200 | sed 's/^/    /'
  done
}

# sv_info SNAP FIELD: one field of `heapsnap info` (pid, reason, command...).
sv_info() {
  "$HEAPSNAP" info "$1" 2>/dev/null | sed -n "s/^$2: *//p" | head -1
}

# sv_snaps DIR: "PID REASON FILE" per snapshot in DIR, sorted; unreadable
# snapshots print as "? bad FILE".
sv_snaps() {
  local f pid
  for f in "$1"/*.hsnap; do
    [ -e "$f" ] || continue
    pid=$(sv_info "$f" pid)
    if [ -n "$pid" ]; then echo "${pid%% *} $(sv_info "$f" reason) $f"; else echo "? bad $f"; fi
  done | sort
}

# sv_redis_conf DIR PORT: DIR/redis.conf, a redis server of its own on
# 127.0.0.1:PORT that keeps its files in DIR/data and logs to stdout.
sv_redis_conf() {
  cat >"$1/redis.conf" <<EOF
bind 127.0.0.1
port $2
protected-mode yes
daemonize no
logfile ""
dir $1/data
save ""
appendonly no
EOF
}
