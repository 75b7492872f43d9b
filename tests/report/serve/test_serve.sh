# test_serve.sh - heapsnap serve on 127.0.0.1 with curl as the client: a
# preloaded target (tests/shim/attach/target.c) is found, its heap and top
# site are in /metrics (Prometheus text, and OpenMetrics when asked), in
# /targets, and in /debug/pprof/heap as go tool pprof reads it (?seconds=N:
# the change); it leaves when it ends.  Hostile requests (unknown paths,
# other methods, bad query strings, a long URL, raw garbage, more
# connections than the limit) get an error and leave the agent serving.
# tier: full (curl against the agent, several targets)
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
sv_begin serve_starts_on_a_free_loopback_port || return 0
t_pass serve_starts_on_a_free_loopback_port
sv_target HEAPSNAP_SERVICE=checkout
P=$AT_PID
at_cmd "a 1000"                       # grow_site: 100 x 1000 B

# --- found, with its labels -------------------------------------------------
if sv_wait_for /targets "\"__param_pid\":\"$P\""; then
  t_pass serve_targets_lists_a_preloaded_process
else t_fail serve_targets_lists_a_preloaded_process "$(head -c 300 "$T/body")"; fi
if python3 -c '
import json, sys
groups = json.load(open(sys.argv[1]))
g = [g for g in groups if g["labels"]["__meta_heapsnap_pid"] == sys.argv[2]][0]
assert g["targets"] == ["127.0.0.1:" + sys.argv[3]], g
assert g["labels"]["instance"] == "127.0.0.1:%s?pid=%s" % (sys.argv[3], sys.argv[2]), g
assert g["labels"]["__meta_heapsnap_service"] == "checkout", g
assert g["labels"]["__meta_heapsnap_program"] == "target", g
' "$T/body" "$P" "$SV_PORT" 2>"$T/py.err"; then t_pass serve_targets_is_http_sd_json_with_labels
else t_fail serve_targets_is_http_sd_json_with_labels "$(tail -c 300 "$T/py.err")"; fi

# --- /metrics ------------------------------------------------------------------
# the first scrape reads the target's symbols: on a loaded machine it may
# outlast curl's limit once, so it is asked again until the series is there;
# the sites come from the state file's document, which the target's helper
# writes every few beats: under load the first may predate grow_site's
# blocks (CI once saw no site series at all), so that series is waited for
sv_wait_for /metrics "^heapsnap_heap_live_bytes\\{pid=\"$P\"," || true
sv_wait_for /metrics "^heapsnap_site_live_bytes\\{pid=\"$P\",.*grow_site" || true
code=$(sv_get /metrics -D "$T/head")
cp "$T/body" "$T/m1"
lab="pid=\"$P\",program=\"target\",exe=\"$T/target\",service=\"checkout\""
if [ "$code" = 200 ] && grep -q "^heapsnap_heap_live_bytes{$lab} [0-9]" "$T/m1" &&
   grep -qi '^content-type: text/plain; version=0.0.4' "$T/head"; then
  t_pass serve_metrics_labels_pid_program_exe_service
else t_fail serve_metrics_labels_pid_program_exe_service "$code $(grep live_bytes "$T/m1" | head -c 300)"; fi
if grep -q "^heapsnap_site_live_bytes{$lab,site=\"grow_site (tests/shim/attach/target.c:36)\"} 100000$" "$T/m1"; then
  t_pass serve_metrics_top_site_function_file_line
else t_fail serve_metrics_top_site_function_file_line "$(grep site_live "$T/m1" | head -c 400)"; fi
ok=1
for m in heapsnap_heap_live_blocks heapsnap_heap_peak_bytes heapsnap_heap_mmap_bytes \
         heapsnap_process_resident_bytes heapsnap_allocations_total heapsnap_frees_total \
         heapsnap_failed_allocations_total heapsnap_state_up heapsnap_serve_scrapes_total \
         heapsnap_serve_processes heapsnap_serve_scrape_duration_seconds; do
  grep -q "^$m[{ ]" "$T/m1" || { ok=0; echo "missing $m" >>"$T/miss"; }
done
[ "$(sv_value "$T/m1" heapsnap_state_up "$P")" = 1 ] || ok=0
if [ $ok = 1 ]; then t_pass serve_metrics_every_family
else t_fail serve_metrics_every_family "$(cat "$T/miss" 2>/dev/null | tr '\n' ' ')"; fi
if command -v promtool >/dev/null; then
  if promtool check metrics <"$T/m1" >"$T/lint" 2>&1; then t_pass serve_metrics_pass_promtool_lint
  else t_fail serve_metrics_pass_promtool_lint "$(head -c 300 "$T/lint")"; fi
else t_fail serve_metrics_pass_promtool_lint "promtool is not installed (scripts/install-deps.sh test installs prometheus)"; fi
# a growth shows at the next scrape, to the byte
before=$(sv_value "$T/m1" heapsnap_heap_live_bytes "$P")
at_cmd "a 500"
want=$((before + 50000))
if sv_wait_for /metrics "^heapsnap_heap_live_bytes\\{pid=\"$P\",.*\\} $want\$"; then
  t_pass serve_metrics_follow_the_heap
else t_fail serve_metrics_follow_the_heap "want $want: $(grep "heap_live_bytes{pid=\"$P\"" "$T/body")"; fi
# one process alone, and only its series
code=$(sv_get "/metrics?pid=$P")
if [ "$code" = 200 ] && ! grep -q '^heapsnap_serve_' "$T/body" && [ "$(grep -c '^heapsnap_heap_live_bytes{' "$T/body")" = 1 ]; then
  t_pass serve_metrics_pid_serves_one_process
else t_fail serve_metrics_pid_serves_one_process "$code $(head -c 200 "$T/body")"; fi
# OpenMetrics when asked for: _total on the counter's samples only, # EOF last
code=$(sv_get /metrics -D "$T/head" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')
if [ "$code" = 200 ] && grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$T/head" &&
   [ "$(tail -n 1 "$T/body")" = "# EOF" ] && grep -q '^# TYPE heapsnap_allocations counter$' "$T/body" &&
   grep -q "^heapsnap_allocations_total{pid=\"$P\"" "$T/body"; then
  t_pass serve_metrics_openmetrics_when_asked
else t_fail serve_metrics_openmetrics_when_asked "$code $(grep -i content-type "$T/head") $(tail -n 2 "$T/body" | tr '\n' ' ')"; fi

# --- /debug/pprof -----------------------------------------------------------
pp() { HOME=$T PPROF_TMPDIR=$T timeout 60 go tool pprof "$@" 2>"$T/pprof.err"; }
code=$(sv_get "/debug/pprof/heap?pid=$P" -D "$T/head")
cp "$T/body" "$T/heap.pb.gz"
if [ "$code" = 200 ] && gzip -t "$T/heap.pb.gz" 2>/dev/null && grep -qi '^content-type: application/octet-stream' "$T/head"; then
  t_pass serve_pprof_heap_is_gzip_octet_stream
else t_fail serve_pprof_heap_is_gzip_octet_stream "$code $(head -c 200 "$T/body")"; fi
if ! command -v go >/dev/null; then
  t_fail serve_pprof_go_heap_profile "go is not installed (scripts/install-deps.sh test installs golang-go)"
else
  pp -raw "$T/heap.pb.gz" >"$T/raw"
  # Go's heap profile: these four sample types, in this order, no default type
  if grep -q '^Samples:$' "$T/raw" && sed -n '/^Samples:$/{n;p;q}' "$T/raw" |
       grep -q '^alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes$'; then
    t_pass serve_pprof_go_heap_profile
  else t_fail serve_pprof_go_heap_profile "$(sed -n '/^Samples/,+2p' "$T/raw" | tr '\n' ' ') $(head -c 200 "$T/pprof.err")"; fi
  pp -top -unit=B -nodecount=1 "$SV_URL/debug/pprof/heap?pid=$P" >"$T/top"
  if grep -Eq '^ +150000B .* grow_site$' "$T/top"; then t_pass serve_pprof_url_names_the_growing_site
  else t_fail serve_pprof_url_names_the_growing_site "$(tail -n 3 "$T/top" | tr '\n' ' ') $(head -c 200 "$T/pprof.err")"; fi
  pp -top "$SV_URL/debug/pprof/allocs?pid=$P" >"$T/top"
  if grep -q '^Type: alloc_space$' "$T/top"; then t_pass serve_pprof_allocs_defaults_to_alloc_space
  else t_fail serve_pprof_allocs_defaults_to_alloc_space "$(head -n 8 "$T/top" | tr '\n' ' ')"; fi
  # ?seconds=2: the change while it waits, and /metrics answered meanwhile
  curl -s -m 20 -o "$T/delta.pb.gz" "$SV_URL/debug/pprof/heap?pid=$P&seconds=2" &
  dpid=$!
  sleep 0.3
  at_cmd "a 300"                      # grow_site: +30000 B during the window
  t0=$(date +%s%N)
  code=$(sv_get /metrics)
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait $dpid
  if [ "$code" = 200 ] && [ "$ms" -lt 1500 ]; then t_pass serve_metrics_answer_while_a_profile_waits
  else t_fail serve_metrics_answer_while_a_profile_waits "status $code after $ms ms"; fi
  pp -top -unit=B -nodecount=1 "$T/delta.pb.gz" >"$T/dtop"
  if grep -Eq '^ +30000B .* grow_site$' "$T/dtop"; then t_pass serve_pprof_seconds_gives_the_change
  else t_fail serve_pprof_seconds_gives_the_change "$(tail -n 3 "$T/dtop" | tr '\n' ' ') $(head -c 200 "$T/pprof.err")"; fi
  # its duration is the window's 2 s, not the process's life (Go's delta profiles)
  d=$(sed -n 's/^Duration: \([0-9.]*\)s.*/\1/p' "$T/dtop")
  if [ -n "$d" ] && awk -v d="$d" 'BEGIN { exit !(d >= 1.5 && d < 6) }'; then t_pass serve_pprof_delta_duration_is_the_window
  else t_fail serve_pprof_delta_duration_is_the_window "$(grep -m1 '^Duration' "$T/dtop")"; fi
fi

# --- hostile requests ------------------------------------------------------
ok=1
chk() { # WANT PATH [CURL OPTIONS]: the status, or a note
  local want=$1 path=$2; shift 2
  local got; got=$(sv_get "$path" "$@")
  [ "$got" = "$want" ] || { ok=0; echo "$path $*: $got, want $want" >>"$T/bad"; }
}
chk 404 /nope
chk 404 /metrics/
chk 404 "/debug/pprof/profile?seconds=1"
chk 405 /metrics -X POST --data x=1
chk 405 /targets -X DELETE
chk 400 "/metrics?pid=abc"
chk 400 "/metrics?pid=-1"
chk 400 "/metrics?pid=1e3"
chk 404 "/metrics?pid=2147483647"
chk 400 "/debug/pprof/heap"
chk 400 "/debug/pprof/heap?pid="
chk 400 "/debug/pprof/heap?pid=$P&seconds=0"
chk 400 "/debug/pprof/heap?pid=$P&seconds=61"
chk 400 "/debug/pprof/heap?pid=$P&seconds=99999999999999999999"
chk 400 "/debug/pprof/heap?pid=%00"
chk 404 "/%2e%2e/%2e%2e/etc/passwd"
if [ $ok = 1 ]; then t_pass serve_refuses_bad_paths_methods_and_queries
else t_fail serve_refuses_bad_paths_methods_and_queries "$(tr '\n' ';' <"$T/bad" | head -c 400)"; fi
# a URL longer than a request's head may be, a header flood, raw garbage
long=$(head -c 100000 /dev/zero | tr '\0' a)
got=$(sv_get "/metrics?pid=$long")
hdrs=(); for i in $(seq 300); do hdrs+=(-H "X-Flood-$i: $long"); done
got2=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "${hdrs[@]:0:40}" "$SV_URL/metrics" 2>/dev/null)
python3 - "$SV_PORT" <<'PY' 2>"$T/py.err"
import os, socket, sys
port = int(sys.argv[1])
for payload in [os.urandom(5000), b"GET /" + b"%" * 20000 + b" HTTP/1.1\r\n\r\n",
                b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", b"\r\n" * 5000,
                b"GET /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(payload)
        s.settimeout(5)
        s.recv(4096)
    except OSError:
        pass
    s.close()
PY
case "$got:$got2" in
  4??:4??|000:4??|4??:000|000:000) t_pass serve_refuses_oversized_requests ;;
  *) t_fail serve_refuses_oversized_requests "long URL $got, header flood $got2" ;;
esac
# more connections than the limit (256), held open, then closed
python3 - "$SV_PORT" <<'PY' 2>"$T/py.err"
import socket, sys, time
port = int(sys.argv[1])
held = []
for _ in range(400):
    try:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        break
time.sleep(0.5)
for s in held:
    s.close()
PY
code=$(sv_get /metrics)
if [ "$code" = 200 ] && kill -0 "$SV_PID" 2>/dev/null; then t_pass serve_survives_hostile_requests_and_connections
else t_fail serve_survives_hostile_requests_and_connections "status $code after the flood: $(tail -c 300 "$T/serve.err")"; fi

# --- a process that ends leaves -------------------------------------------
at_end
if sv_wait_gone /targets "\"$P\""; then t_pass serve_process_that_ends_leaves_targets
else t_fail serve_process_that_ends_leaves_targets "$(head -c 300 "$T/body")"; fi
code=$(sv_get "/metrics?pid=$P")
[ "$code" = 404 ] && t_pass serve_ended_process_is_404 || t_fail serve_ended_process_is_404 "status $code"
kill "$SV_PID"; wait "$SV_PID"; rc=$?
[ $rc = 0 ] && t_pass serve_ends_cleanly_on_sigterm || t_fail serve_ends_cleanly_on_sigterm "exit $rc"
