# test_dropped_workers.sh - services whose processes become another user,
# under `heapsnap run`: memcached -u nobody, and nginx's workers (nobody when
# the master runs as root).  run must list every snapshot they wrote (their
# manifest file is not theirs to write: they tell run on its socket).  The
# output directory is writable by all, as a service's must be by its user.
# Needs root (SKIP otherwise).
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ]; then
  t_skip dropped_workers "needs root (services that become nobody)"
  return 0
fi
chmod 0711 "$T"

# ---- memcached -u nobody: every snapshot it wrote is listed
if sv_need memcached_nobody_snapshots_listed memcached; then
  M=$T/mcn; mkdir -p "$M/out"; chmod 1777 "$M/out"
  port=$(sv_port)
  sv_start "$M/log" "$HEAPSNAP" run --output-dir "$M/out" --signal USR2 -- \
    memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 -u nobody
  run_pid=$SV_PID tpid=$SV_TPID
  pid=$(sv_child "$run_pid"); SV_PIDS="$SV_PIDS $pid"
  if [ -n "$pid" ] && sv_up "$port"; then
    kill -USR2 "$pid"
    for i in $(seq 100); do ls "$M/out" | grep -q '\.0\.hsnap$' && break; sleep 0.1; done
    kill -TERM "$pid"; wait "$tpid"; rc=$?
    files=$(ls "$M/out" | sort | tr '\n' ' ')
    listed=$(sed -n 's|^heapsnap: wrote .*/||p' "$M/log" | sort | tr '\n' ' ')
    if [ "$rc" = 0 ] && [ -n "$files" ] && [ "$files" = "$listed" ] &&
       [ "$(stat -c %U "$M/out"/* | sort -u)" = nobody ]; then
      t_pass memcached_nobody_snapshots_listed
    else
      sv_fail memcached_nobody_snapshots_listed "exit $rc; files: $files listed: $listed" "$M/log"
    fi
  else
    sv_fail memcached_nobody_snapshots_listed "no answer on port $port" "$M/log"
  fi
fi

# ---- nginx: the master (root) and its 2 workers (nobody) all listed
if sv_need nginx_workers_snapshots_listed nginx; then
  D=$T/ngn; mkdir -p "$D/html" "$D/out" "$D/tmp"
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
  sv_start "$D/log" "$HEAPSNAP" run --output-dir "$D/out" -- \
    nginx -p "$D/" -c "$D/nginx.conf" -e "$D/error.log"
  run_pid=$SV_PID tpid=$SV_TPID
  master=$(sv_child "$run_pid"); SV_PIDS="$SV_PIDS $master"
  workers=""
  for i in $(seq 100); do
    workers=$(pgrep -P "$master" 2>/dev/null | sort -n | tr '\n' ' ')
    [ "$(echo $workers | wc -w)" = 2 ] && break; sleep 0.1
  done
  if [ -n "$master" ] && sv_up "$port" && [ "$(echo $workers | wc -w)" = 2 ]; then
    kill -QUIT "$master"; wait "$tpid"; rc=$?
    want=$(for p in $master $workers; do echo "nginx.$p.hsnap"; done | sort | tr '\n' ' ')
    listed=$(sed -n 's|^heapsnap: wrote .*/||p' "$D/log" | sort | tr '\n' ' ')
    owners=$(for w in $workers; do stat -c %U "$D/out/nginx.$w.hsnap" 2>/dev/null; done | sort -u)
    if [ "$rc" = 0 ] && [ "$listed" = "$want" ] && [ "$owners" = nobody ]; then
      t_pass nginx_workers_snapshots_listed
    else
      sv_fail nginx_workers_snapshots_listed "exit $rc; want $want, listed $listed (workers owned by $owners)" "$D/log" "$D/error.log"
    fi
  else
    sv_fail nginx_workers_snapshots_listed "no master and 2 workers on port $port" "$D/log" "$D/error.log"
  fi
fi
