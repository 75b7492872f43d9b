# test_serve_labels.sh - the labels a fleet keeps: a program started through a
# symlink (as Debian's /usr/bin/redis-server -> redis-check-rdb) is labelled by
# the name it was started by, program and exe, not by the symlink's target; a
# state file that cannot be read is counted against its process
# (heapsnap_serve_read_errors_total{pid,program,exe}) and logged once on the
# agent's stderr, however many scrapes meet it; no family is written
# without a sample (an ?agent scrape opened with an empty site family); and a
# site without debug information is labelled by function and module, a static
# helper of a stripped library by its named caller there (twosites.c's keep()
# under lib_keep), never by "module+0xoffset", which a package upgrade moves;
# the executable's module by the name it was started by.
# tier: full (curl against the agent, two targets)
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
sv_begin serve_labels_agent_starts || return 0
# every "# TYPE" family of body $1 has a sample line
families_have_samples() {
  awk '/^# TYPE /{ if (fam != "" && !n) { print "empty family " fam; bad = 1 } fam = $3; n = 0; next }
       /^#/ { next }
       { if (index($0, fam) == 1) n++ }
       END { if (fam != "" && !n) { print "empty family " fam; bad = 1 } exit bad }' "$1"
}

ln -s "$T/target" "$T/redis-server"
at_start env HEAPSNAP_OUTPUT="$T/lbl.%e.%p.hsnap" LD_PRELOAD="$SHIM" "$T/redis-server"
P=$AT_PID
at_cmd "a 1000"
lab="pid=\"$P\",program=\"redis-server\",exe=\"$T/redis-server\","
if sv_wait_for "/metrics?pid=$P" "^heapsnap_heap_live_bytes\\{$lab"; then
  t_pass serve_labels_symlink_by_its_started_name
else t_fail serve_labels_symlink_by_its_started_name "$(grep '^heapsnap_heap_live_bytes' "$T/body" | head -c 300)"; fi

code=$(sv_get "/metrics?agent")
if [ "$code" = 200 ] && head -1 "$T/body" | grep -q '^# HELP heapsnap_serve_' &&
   families_have_samples "$T/body" >"$T/fam" 2>&1; then
  t_pass serve_labels_agent_scrape_has_no_empty_family
else t_fail serve_labels_agent_scrape_has_no_empty_family "$code $(cat "$T/fam") $(head -3 "$T/body" | tr '\n' ' ')"; fi

# a second target whose state file's version is overwritten while the agent holds it
at_end
at_start env HEAPSNAP_OUTPUT="$T/bad.%p.hsnap" LD_PRELOAD="$SHIM" "$T/target"
Q=$AT_PID
sv_wait_for "/metrics?pid=$Q" "^heapsnap_state_up\\{pid=\"$Q\",.*\\} 1" >/dev/null
printf 'XXXX' | dd of="$T/bad.$Q.hsnap.state" bs=1 seek=8 conv=notrunc status=none   # its version
for _ in 1 2 3 4; do sv_get /metrics >/dev/null; done
n=$(awk -v p="pid=\"$Q\",program=\"target\",exe=\"$T/target\"" \
  'index($0, "heapsnap_serve_read_errors_total{" p "}") == 1 { print $NF }' "$T/body")
if [ "${n:-0}" -ge 2 ] 2>/dev/null; then
  t_pass serve_labels_read_errors_counted_per_process
else t_fail serve_labels_read_errors_counted_per_process "n=${n:-none}: $(grep read_errors "$T/body" | head -c 300)"; fi
logged=$(grep -c "cannot read the state file of pid $Q (target, $T/target): " "$T/serve.err")
if [ "$logged" = 1 ]; then t_pass serve_labels_read_error_logged_once
else t_fail serve_labels_read_error_logged_once "$logged lines: $(tail -c 300 "$T/serve.err")"; fi
if families_have_samples "$T/body" >"$T/fam" 2>&1; then t_pass serve_labels_scrape_has_no_empty_family
else t_fail serve_labels_scrape_has_no_empty_family "$(cat "$T/fam")"; fi
at_end

# twosites.c stripped, library and program: their keep()s have no name left,
# lib_keep() and main() their dynamic ones (-rdynamic); the program started
# through a symlink
t_build libnodbg.so tests/report/serve/twosites.c -shared -fPIC -g0 && strip "$T/libnodbg.so"
t_build nodbg tests/report/serve/twosites.c -DMAIN -g0 -rdynamic -L"$T" -lnodbg -Wl,-rpath,"$T" &&
  strip "$T/nodbg"
ln -s "$T/nodbg" "$T/nodbg-started"
mkfifo "$T/nodbg.in"
env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/nodbg.%p.hsnap" "$T/nodbg-started" <"$T/nodbg.in" >"$T/nodbg.out" &
R=$!; SV_PIDS="$SV_PIDS $R"
exec 9>"$T/nodbg.in"
for _ in $(seq 500); do grep -q ready "$T/nodbg.out" && break; sleep 0.02; done
if sv_wait_for "/metrics?pid=$R" '^heapsnap_site_live_bytes\{.*site="lib_keep \(libnodbg\.so\)"\} 10000$' &&
   grep -q '^heapsnap_site_live_bytes{.*site="main (nodbg-started)"} [0-9]*$' "$T/body" &&
   ! grep -q 'site="[^"]*(nodbg)"' "$T/body" &&   # main's keep() and stdio's buffers
   ! grep -q 'site="[^"]*+0x' "$T/body"; then
  t_pass serve_labels_site_without_debug_info_by_name_and_module
else t_fail serve_labels_site_without_debug_info_by_name_and_module "$(grep '^heapsnap_site_live' "$T/body" | tr '\n' ' ' | head -c 400)"; fi
exec 9>&-
wait "$R"
