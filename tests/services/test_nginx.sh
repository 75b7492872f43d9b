# test_nginx.sh - nginx (a master and 2 workers, its own prefix and config)
# under the shim, driven by ab: every process that ran writes its exit snapshot
# after a graceful stop (QUIT), a worker answers the snapshot signal during
# the load, with nginx in the foreground and as a daemon (which forks again,
# and whose workers change to `working_directory`; a relative HEAPSNAP_OUTPUT
# stays in the directory nginx started in).  The signal is SIGPWR: nginx
# handles HUP, INT, QUIT, TERM, USR1, USR2, WINCH, ALRM, CHLD and IO itself.
# With HEAPSNAP_SIGNAL=USR2 (nginx's binary upgrade) heapsnap must say that
# nginx took the signal over.  When run as root, the workers are `nobody`: the
# output directory is writable by all, as a service's must be by its user.
. tests/services/lib_services.sh
trap sv_cleanup EXIT
trap 'sv_cleanup; exit 1' INT TERM
sv_need nginx_service nginx ab python3 || return 0

N=$T/nginx
chmod 0711 "$T"

# ng_conf DIR PORT DAEMON: DIR/nginx.conf, served from DIR (the prefix), with
# its access log (one line a request: how the test knows the load is on) and
# temporary dirs of its own (Debian's default is /var/lib/nginx).
ng_conf() {
  mkdir -p "$1/html" "$1/wd" "$1/out" "$1/tmp"
  chmod 0755 "$1" "$1/html" "$1/wd"; chmod 0777 "$1/out"
  head -c 20000 /dev/zero | tr '\0' x >"$1/html/index.html"; chmod 0644 "$1/html/index.html"
  cat >"$1/nginx.conf" <<EOF
worker_processes 2;
daemon $3;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log info;
working_directory $1/wd;
events { worker_connections 128; }
http {
  access_log $1/access.log;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  server {
    listen 127.0.0.1:$2;
    root $1/html;
    location /hello { return 200 "hello\n"; }
  }
}
EOF
}

# ng_workers MASTER: the master's 2 children, once both exist (at most 20 s).
ng_workers() {
  local i w
  for i in $(seq 200); do
    w=$(pgrep -P "$1" | sort -n | tr '\n' ' ')
    [ "$(echo $w | wc -w)" = 2 ] && { echo $w; return 0; }
    sleep 0.1
  done
  return 1
}

# ng_pidfile DIR: the master's pid once the pid file is written (at most 20 s).
ng_pidfile() {
  local i
  for i in $(seq 200); do [ -s "$1/nginx.pid" ] && { cat "$1/nginx.pid"; return 0; }; sleep 0.1; done
  return 1
}

# ng_exits DIR: the sorted pids that wrote an exit snapshot in DIR.
ng_exits() { sv_snaps "$1" | awk '$2 == "exit" { print $1 }' | sort -n | tr '\n' ' '; }

# ng_wait_snap DIR PID REASON: waits (at most 20 s) for PID's REASON snapshot.
ng_wait_snap() {
  local i
  for i in $(seq 100); do
    sv_snaps "$1" | grep -q "^$2 $3 " && return 0
    sleep 0.2
  done
  return 1
}

# ---- in the foreground (daemon off)
D=$N/fg; port=$(sv_port); ng_conf "$D" "$port" off
sv_start "$D/stderr" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$D/out/nginx.%p.%n.hsnap" HEAPSNAP_SIGNAL=PWR \
  nginx -p "$D/" -c "$D/nginx.conf" -e "$D/error.log"
master=$SV_PID tpid=$SV_TPID
if [ -z "$master" ] || ! sv_up "$port" || ! workers=$(ng_workers "$master"); then
  sv_fail nginx_serves_under_shim "no master and 2 workers on port $port" "$D/stderr" "$D/error.log"
  return 0
fi
timeout 120 ab -q -n 4000 -c 4 "http://127.0.0.1:$port/" >"$D/ab.out" 2>&1 &
ab=$!
for i in $(seq 200); do [ "$(wc -l <"$D/access.log" 2>/dev/null)" -ge 500 ] && break; sleep 0.05; done
w1=${workers%% *}
kill -PWR "$w1"
ng_wait_snap "$D/out" "$w1" signal; during=$?
wait "$ab"; ab_rc=$?
if [ "$ab_rc" = 0 ] && grep -Eq '^Complete requests: +4000$' "$D/ab.out" && grep -Eq '^Failed requests: +0$' "$D/ab.out" &&
   ! grep -q 'Non-2xx' "$D/ab.out"; then t_pass nginx_serves_under_shim
else sv_fail nginx_serves_under_shim "ab exited $ab_rc" "$D/ab.out" "$D/error.log"; fi
if [ "$during" = 0 ]; then t_pass nginx_worker_signal_snapshot_during_load
else sv_fail nginx_worker_signal_snapshot_during_load "no signal snapshot of worker $w1 (workers $workers); out: $(ls -A "$D/out" | tr '\n' ' ') wd: $(ls -A "$D/wd" | tr '\n' ' ')" "$D/stderr" "$D/error.log"; fi

kill -QUIT "$master"
wait "$tpid"; rc=$?
want=$(echo "$master $workers" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
got=$(ng_exits "$D/out")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then t_pass nginx_every_process_writes_exit_snapshot
else sv_fail nginx_every_process_writes_exit_snapshot "exit $rc; want exit snapshots of $want(master $master), got $got; out: $(ls -A "$D/out" | tr '\n' ' ') prefix: $(ls -A "$D" | tr '\n' ' ')" "$D/stderr" "$D/error.log"; fi

# ---- as a daemon: the first process forks the master and exits; the workers
# change to working_directory.  HEAPSNAP_OUTPUT is relative to where it started.
D=$N/daemon; port=$(sv_port); ng_conf "$D" "$port" on
mkdir -p "$D/run/snaps"; chmod 0755 "$D/run"; chmod 0777 "$D/run/snaps"
SV_PIDFILES="$SV_PIDFILES $D/nginx.pid"
here=$PWD
cd "$D/run" && sv_start "$D/stderr" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT=snaps/nginx.%p.%n.hsnap \
  HEAPSNAP_SIGNAL=PWR nginx -p "$D/" -c "$D/nginx.conf" -e "$D/error.log"
cd "$here" || return 0
first=$SV_PID
wait "$SV_TPID"; first_rc=$?
if master=$(ng_pidfile "$D") && sv_up "$port" && workers=$(ng_workers "$master"); then
  timeout 60 ab -q -n 500 -c 2 "http://127.0.0.1:$port/hello" >"$D/ab.out" 2>&1
  kill -QUIT "$master"
  sv_gone "$master"
  for w in $workers; do sv_gone "$w"; done
  want=$(echo "$first $master $workers" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
  got=$(ng_exits "$D/run/snaps")
  if [ "$first_rc" = 0 ] && [ "$got" = "$want" ]; then t_pass nginx_daemon_exit_snapshots_in_start_dir
  else sv_fail nginx_daemon_exit_snapshots_in_start_dir "first process exit $first_rc; want exit snapshots of $want(first $first, master $master), got $got; run/snaps: $(ls -A "$D/run/snaps" | tr '\n' ' ') wd: $(ls -A "$D/wd" | tr '\n' ' ')" "$D/stderr" "$D/error.log"; fi
else
  sv_fail nginx_daemon_exit_snapshots_in_start_dir "no daemon with 2 workers on port $port (first process exit $first_rc)" "$D/stderr" "$D/error.log"
fi

# ---- HEAPSNAP_SIGNAL=USR2 is nginx's own: heapsnap must say so, and nginx
# keeps its handler (it starts and stops as usual)
D=$N/usr2; port=$(sv_port); ng_conf "$D" "$port" off
sv_start "$D/stderr" env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$D/out/nginx.%p.%n.hsnap" HEAPSNAP_SIGNAL=USR2 \
  nginx -p "$D/" -c "$D/nginx.conf" -e "$D/error.log"
master=$SV_PID tpid=$SV_TPID
# ng_usr2_warned: heapsnap's warning is in the logs
ng_usr2_warned() {
  cat "$D/stderr" "$D/error.log" 2>/dev/null | grep -i 'heapsnap' |
    grep -Eiq 'USR2|signal 12|HEAPSNAP_SIGNAL.*handler|handler.*HEAPSNAP_SIGNAL'
}
if [ -n "$master" ] && sv_up "$port"; then
  # nginx listens before it sets its handlers (ngx_init_signals; USR2's after
  # QUIT's): a QUIT sent in between ends it by default (exit 131)
  i=0; while ! ng_usr2_warned && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -QUIT "$master"; wait "$tpid"; rc=$?
  if [ "$rc" = 0 ] && ng_usr2_warned; then
    t_pass nginx_usr2_takeover_warned
  else sv_fail nginx_usr2_takeover_warned "exit $rc; no heapsnap warning that nginx took HEAPSNAP_SIGNAL (USR2) over" "$D/stderr" "$D/error.log"; fi
else
  sv_fail nginx_usr2_takeover_warned "nginx did not start on port $port" "$D/stderr" "$D/error.log"
fi
