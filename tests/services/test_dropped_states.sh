# test_dropped_states.sh - the state files of services whose processes
# become another user (memcached -u nobody, nginx's workers under a root
# master) follow them: a SIGKILL under load leaves a state, owned by the
# new user, that `heapsnap info` reads as killed (not "ended before its
# state was first written": the helper could no longer open a root-owned
# file); a clean end leaves no state file behind.  The output directory is
# writable by all, as a service's must be by its user.  Needs root (SKIP
# otherwise).
. tests/services/lib_services.sh
. tests/shim/lib_kill.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ]; then
  t_skip dropped_states "needs root (services that become nobody)"
  return 0
fi
chmod 0711 "$T"

# state_reads CASE FILE LOG...: FILE is nobody's and reads as a killed process
state_reads() {
  local case=$1 f=$2 owner; shift 2
  owner=$(stat -c %U "$f" 2>/dev/null)
  if [ "$owner" = nobody ] && "$HEAPSNAP" info "$f" >"$T/$case.info" 2>"$T/$case.err" &&
     grep -q '^reason: *killed' "$T/$case.info"; then
    t_pass "$case"
  else
    sv_fail "$case" "owner '$owner' of '$f': $(grep -v warning "$T/$case.err" 2>/dev/null | head -c 300)" "$@"
  fi
}

# ---- memcached -u nobody: killed under load, then a clean end
if sv_need memcached_nobody_killed_state_reads memcached memcaslap; then
  M=$T/mc; mkdir -p "$M/out"; chmod 1777 "$M/out"
  port=$(sv_port)
  sv_start "$M/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$M/out/mc.%p.hsnap" \
    memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 -u nobody
  pid=$SV_PID
  if sv_up "$port"; then
    timeout 60 memcaslap -s "127.0.0.1:$port" -x 5000 -T 2 -c 8 -X 200 >"$M/slap.out" 2>&1
    f=$M/out/mc.$pid.hsnap.state
    kill_settle "$f"
    kill -KILL "$pid"; wait "$SV_TPID" 2>/dev/null
    state_reads memcached_nobody_killed_state_reads "$f" "$M/log" "$M/slap.out"
  else
    sv_fail memcached_nobody_killed_state_reads "no answer on port $port" "$M/log"
  fi
  M2=$T/mc2; mkdir -p "$M2/out"; chmod 1777 "$M2/out"
  port=$(sv_port)
  sv_start "$M2/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$M2/out/mc.%p.hsnap" \
    memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 -u nobody
  pid=$SV_PID
  if sv_up "$port"; then
    timeout 60 memcaslap -s "127.0.0.1:$port" -x 2000 -T 2 -c 8 -X 200 >"$M2/slap.out" 2>&1
    kill -TERM "$pid"; wait "$SV_TPID" 2>/dev/null
    left=$(ls "$M2/out" | grep '\.state$')
    if [ -z "$left" ] && ls "$M2/out" | grep -q "mc.$pid.hsnap"; then
      t_pass memcached_nobody_clean_end_leaves_no_state
    else
      sv_fail memcached_nobody_clean_end_leaves_no_state "left: $(ls -l "$M2/out" | tr '\n' ' ')" "$M2/log"
    fi
  else
    sv_fail memcached_nobody_clean_end_leaves_no_state "no answer on port $port" "$M2/log"
  fi
fi

# ---- nginx: a worker (nobody) killed under load; then the master quits
if sv_need nginx_worker_killed_state_reads nginx ab; then
  D=$T/ngs; mkdir -p "$D/html" "$D/out" "$D/tmp"
  chmod 0755 "$D" "$D/html"; chmod 1777 "$D/out"
  port=$(sv_port)
  cat >"$D/nginx.conf" <<EOF
worker_processes 2;
daemon off;
master_process on;
pid $D/nginx.pid;
error_log $D/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $D/tmp/body;
  proxy_temp_path $D/tmp/proxy;
  fastcgi_temp_path $D/tmp/fastcgi;
  uwsgi_temp_path $D/tmp/uwsgi;
  scgi_temp_path $D/tmp/scgi;
  server { listen 127.0.0.1:$port; location /hello { return 200 "hello\n"; } }
}
EOF
  sv_start "$D/log" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$D/out/ng.%p.hsnap" \
    nginx -p "$D/" -c "$D/nginx.conf" -e "$D/error.log"
  master=$SV_PID workers=""
  for i in $(seq 100); do
    workers=$(pgrep -P "$master" 2>/dev/null | sort -n | tr '\n' ' ')
    [ "$(echo $workers | wc -w)" = 2 ] && break; sleep 0.1
  done
  if sv_up "$port" && [ "$(echo $workers | wc -w)" = 2 ]; then
    timeout 60 ab -q -n 4000 -c 4 "http://127.0.0.1:$port/hello" >"$D/ab.out" 2>&1
    w=${workers%% *}
    f=$D/out/ng.$w.hsnap.state
    kill_settle "$f"
    kill -KILL "$w"
    sv_gone "$w"
    state_reads nginx_worker_killed_state_reads "$f" "$D/log" "$D/error.log"
    kill -QUIT "$master"; wait "$SV_TPID" 2>/dev/null
    left=$(ls "$D/out" | grep '\.state$' | tr '\n' ' ')
    if [ "$left" = "ng.$w.hsnap.state " ]; then
      t_pass nginx_clean_end_leaves_only_the_killed_workers_state
    else
      sv_fail nginx_clean_end_leaves_only_the_killed_workers_state \
        "want ng.$w.hsnap.state; left: $(ls -l "$D/out" | grep state | tr '\n' ' ')" "$D/log"
    fi
  else
    sv_fail nginx_worker_killed_state_reads "no master and 2 workers on port $port" "$D/log" "$D/error.log"
  fi
fi
