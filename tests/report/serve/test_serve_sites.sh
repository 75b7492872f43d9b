# test_serve_sites.sh - /metrics' sites are one series per label: twosites.c
# built as a library and as the program that links it has keep() twice (one
# function, file and line in two modules), which heapsnap_site_live_bytes
# shows once with both copies' bytes; two series of one name would make
# Prometheus refuse the whole scrape.
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
