# test_serve_sums.sh - a scrape that brings no new site reads the state's
# live sums alone (heapsnap_serve_state_reads_total{read="sums"}), and its
# /metrics are those of a whole read: the target (tests/shim/attach/
# target.c), stopped so that its state holds still, is scraped by the agent
# that knows its sites and by a fresh agent, whose first read is whole; the
# two bodies agree but for the heartbeat's age.  After the target grew at
# its known site (a new document: new counters) and after it made a new
# site (which the sums alone cannot name: a whole read names it).
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
sv_begin serve_sums_agent_starts || return 0
A_URL=$SV_URL
sv_target
P=$AT_PID
at_cmd "a 1000"
if ! sv_wait_for "/metrics?pid=$P" 'site="grow_site [^}]*\} 100000$'; then
  t_fail serve_sums_sees_the_target "$(grep site_live "$T/body" | head -c 300)"
  at_end; return 0
fi

# sums_reads URL KIND: heapsnap_serve_state_reads_total{read="KIND"} of the agent at URL.
sums_reads() {
  curl -s -m 10 "$1/metrics?agent" | sed -n "s/^heapsnap_serve_state_reads_total{read=\"$2\"} //p"
}
# sums_body URL FILE: /metrics?pid=P of the agent at URL into FILE, less the heartbeat's age.
sums_body() {
  curl -s -m 10 "$1/metrics?pid=$P" | grep -v '^heapsnap_state_heartbeat_age_seconds{' >"$2"
}
# sums_compare NAME: with the target stopped, agent A's scrape (its live sums
# alone) and a fresh agent's (a whole read) agree.
sums_compare() {
  kill -STOP "$AT_TPID"
  local w0 s0 w1 s1
  w0=$(sums_reads "$A_URL" whole); s0=$(sums_reads "$A_URL" sums)
  sums_body "$A_URL" "$T/$1.sums"
  w1=$(sums_reads "$A_URL" whole); s1=$(sums_reads "$A_URL" sums)
  sv_start || { kill -CONT "$AT_TPID"; t_fail "$1" "a second agent did not start"; return; }
  sums_body "$SV_URL" "$T/$1.whole"
  kill "$SV_PID"; wait "$SV_PID" 2>/dev/null
  SV_URL=$A_URL
  kill -CONT "$AT_TPID"
  if [ -z "$w0" ] || [ "$w1" != "$w0" ] || [ -z "$s1" ] || [ "$s1" -le "$s0" ]; then
    t_fail "$1" "the scrape was not of the sums alone: whole $w0 -> $w1, sums $s0 -> $s1"
  elif ! grep -q '^heapsnap_heap_live_bytes{' "$T/$1.whole" ||
       ! diff -u "$T/$1.whole" "$T/$1.sums" >"$T/$1.diff"; then
    t_fail "$1" "$(head -c 600 "$T/$1.diff")"
  else t_pass "$1"; fi
}

# the same site grows: a new document, new counters, no new site.  The live
# sums above are the cells' (current at once), the counters the last
# document's: the count is read once a document has the first 100 blocks
before=""
if sv_wait_for "/metrics?pid=$P" '^heapsnap_allocations_total\{.*\} [0-9]{3,}$'; then
  before=$(awk '/^heapsnap_allocations_total\{/ { print $NF }' "$T/body")
fi
[ -n "$before" ] || before=0
at_cmd "a 500"
if sv_wait_for "/metrics?pid=$P" "^heapsnap_allocations_total\\{.*\\} $((before + 100))\$" &&
   grep -q 'site="grow_site [^}]*} 150000$' "$T/body"; then
  t_pass serve_sums_follow_the_counters_of_a_new_document
else t_fail serve_sums_follow_the_counters_of_a_new_document "want $((before + 100)) allocations: $(grep -E 'allocations_total|grow_site' "$T/body" | head -c 400)"; fi
sums_compare serve_sums_give_the_metrics_of_a_whole_read

# a new site: the sums alone cannot name it, a whole read does
w0=$(sums_reads "$A_URL" whole)
at_cmd "L"
if sv_wait_for "/metrics?pid=$P" 'site="leak_site [^}]*\} 400$' &&
   [ "$(sums_reads "$A_URL" whole)" -gt "$w0" ]; then
  t_pass serve_sums_a_new_site_is_read_whole_and_named
else t_fail serve_sums_a_new_site_is_read_whole_and_named "$(grep site_live "$T/body" | head -c 400)"; fi
sums_compare serve_sums_after_a_new_site_give_the_metrics_of_a_whole_read
at_end
