# test_serve_sites.sh - /metrics' sites are one series per label: twosites.c
# built as a library and as the program that links it has keep() twice (one
# function, file and line in two modules), which heapsnap_site_live_bytes
# shows once with both copies' bytes; two series of one name would make
# Prometheus refuse the whole scrape.  And a label is read from its site
# alone: the C runtime past main is not symbolized for /metrics (sitealone.c).
# serial: its agent serves every profiled process of the host, other tests' too
. tests/report/serve/lib_serve.sh
t_build libtwo.so tests/report/serve/twosites.c -shared -fPIC
t_build two tests/report/serve/twosites.c -DMAIN -L"$T" -ltwo -Wl,-rpath,"$T"
mkfifo "$T/two.in"
# the agent first: it must not hold the FIFO's writing end the target waits to close
sv_start || { t_fail serve_sites_agent_starts "$(head -c 300 "$T/serve.err")"; return 0; }
env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/two.%p.hsnap" "$T/two" <"$T/two.in" >"$T/two.out" &
P=$!; SV_PIDS="$SV_PIDS $P"
exec 9>"$T/two.in"
for _ in $(seq 500); do grep -q ready "$T/two.out" && break; sleep 0.02; done
site='site="keep (tests/report/serve/twosites.c:15)"'
# until both copies' bytes are in (the agent may read the state file between
# the program's beats, when one copy's blocks are not yet in it)
if sv_wait_for "/metrics?pid=$P" '^heapsnap_site_live_bytes\{.*site="keep \(tests/report/serve/twosites\.c:15\)"\} 20000$' &&
   [ "$(grep -cF "$site}" "$T/body")" = 1 ]; then
  t_pass serve_site_of_one_name_in_two_modules_is_one_series
else t_fail serve_site_of_one_name_in_two_modules_is_one_series "$(grep "^heapsnap_site_live" "$T/body" | tr "\n" " " | head -c 400)"; fi
if command -v promtool >/dev/null && ! promtool check metrics <"$T/body" >"$T/lint" 2>&1; then
  t_fail serve_sites_pass_promtool_lint "$(head -c 300 "$T/lint")"
else t_pass serve_sites_pass_promtool_lint; fi
exec 9>&-
wait "$P"

# /metrics reads a site alone (frames_site_only_of): the C runtime's frames
# past main, libc's separate debug file (compressed DWARF, read whole), are
# not read; a pprof profile of the same process reads the whole stacks.
# sitealone.c allocates from main alone.
dbg() { t_debug_opens "$1"; }
if ! command -v strace >/dev/null; then
  t_skip serve_metrics_read_no_frame_past_the_site "no strace (Debian package strace)"
else
  t_build sitealone tests/report/serve/sitealone.c
  mkfifo "$T/alone.in"
  SV_UNDER="strace -f -qq -e trace=openat -o $T/st.sv" sv_start
  env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/alone.%p.hsnap" "$T/sitealone" <"$T/alone.in" >"$T/alone.out" &
  A=$!; SV_PIDS="$SV_PIDS $A"
  exec 8>"$T/alone.in"
  for _ in $(seq 500); do grep -q ready "$T/alone.out" && break; sleep 0.02; done
  seen=0
  [ -n "$SV_PORT" ] &&
    sv_wait_for "/metrics?pid=$A" 'site="main \(tests/report/serve/sitealone\.c:14\)"\} 20000$' && seen=1
  before=$(dbg "$T/st.sv")
  code=$(sv_get "/debug/pprof/heap?pid=$A")
  after=$(dbg "$T/st.sv") # strace wrote each openat before it returned
  exec 8>&-
  wait "$A"
  if [ "$seen" = 1 ] && [ "$code" = 200 ] && [ "$after" = 0 ]; then
    t_skip serve_metrics_read_no_frame_past_the_site "no separate debug file for libc (libc6-dbg)"
  elif [ "$seen" = 1 ] && [ "$before" = 0 ] && [ "$code" = 200 ]; then
    t_pass serve_metrics_read_no_frame_past_the_site
  else t_fail serve_metrics_read_no_frame_past_the_site "port '$SV_PORT', site seen $seen, pprof $code, debug files before pprof $before, after $after: $(grep /usr/lib/debug/ "$T/st.sv" | grep -v ENOENT | head -2) $(grep '^heapsnap_site' "$T/body" | head -3)"; fi
fi
