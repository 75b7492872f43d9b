# test_serve_reserved.sh - /metrics gives the address space a process
# reserved (PROT_NONE, as the CUDA driver and jemalloc reserve it) apart,
# as heapsnap_reserved_bytes, from the state file's document (its MAPPED):
# the target (tests/shim/attach/target.c) reserves 256 MiB, then 64 MiB
# more and allocates (the helper writes a document when allocations moved,
# not for a reservation alone), a scrape that reads the live sums alone
# (the sites known) sees the new total, and neither the heap nor its peak
# holds any of it.
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
sv_begin serve_reserved_agent_starts || return 0
sv_target
P=$AT_PID
MiB=1048576
at_cmd "a 1000"
at_cmd "R 256"
lab="pid=\"$P\",program=\"target\",exe=\"$T/target\",service=\"\""
if sv_wait_for "/metrics?pid=$P" "^heapsnap_reserved_bytes\\{$lab\\} $((256 * MiB))\$" &&
   [ "$(sv_value "$T/body" heapsnap_heap_live_bytes "$P")" -lt $((16 * MiB)) ] &&
   [ "$(sv_value "$T/body" heapsnap_heap_peak_bytes "$P")" -lt $((16 * MiB)) ]; then
  t_pass serve_metrics_reserved_apart_from_the_heap
else t_fail serve_metrics_reserved_apart_from_the_heap "$(grep -E '^heapsnap_(reserved|heap_live|heap_peak)_bytes' "$T/body" | head -c 400)"; fi
sums0=$(curl -s -m 10 "$SV_URL/metrics?agent" | sed -n 's/^heapsnap_serve_state_reads_total{read="sums"} //p')
at_cmd "R 64"
at_cmd "a 1000"                       # allocations moved: a new document (a reservation alone makes none)
if sv_wait_for "/metrics?pid=$P" "^heapsnap_reserved_bytes\\{$lab\\} $((320 * MiB))\$"; then
  sums1=$(curl -s -m 10 "$SV_URL/metrics?agent" | sed -n 's/^heapsnap_serve_state_reads_total{read="sums"} //p')
  if [ "${sums1:-0}" -gt "${sums0:-0}" ]; then t_pass serve_metrics_reserved_from_the_sums_read
  else t_fail serve_metrics_reserved_from_the_sums_read "sums reads $sums0 -> $sums1"; fi
else t_fail serve_metrics_reserved_from_the_sums_read "$(grep '^heapsnap_reserved_bytes' "$T/body" | head -c 300)"; fi
at_end
sv_end
