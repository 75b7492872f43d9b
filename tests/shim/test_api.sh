# test_api.sh - heapsnap.h: a program links and runs without the shim (weak
# symbols) and, under it, sees tracemalloc-like values; snapshot names
# (%p, .<n> before the extension, the plain name at exit); 1,000,000 live
# blocks are written (the time is printed, not asserted), and the shim memory
# the snapshot records is the API's, not its own buffers too.
. tests/shim/lib_shim.sh
s_dump_build
if ! s_build api_user; then t_fail api_user_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

"$T/api_user" >"$T/plain.out" 2>&1
if [ "$(cat "$T/plain.out")" = "no shim" ]; then t_pass api_runs_without_shim
else t_fail api_runs_without_shim "$(head -c 200 "$T/plain.out")"; fi

(cd "$T" && LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/a.%p.hsnap" ./api_user "$T/explicit.hsnap" >"$T/a.out" 2>"$T/a.err"; echo "status $?" >>"$T/a.out")
cat >"$T/a.want" <<'WANT'
tracing 1
grew by 10000: 1
peak >= current: 1
snapshot to OUTPUT: 0
snapshot to path: 0
shrank by 10000: 1, peak kept: 1
reset peak == current: 1
cleared: 1
after clear, one block: 1
shim memory > 0: 1
snapshot to a bad path: -1
status 0
WANT
t_golden api_values "$T/a.want" "$T/a.out"
if [ "$(grep -c '^heapsnap: cannot write /nonexistent/dir/x.hsnap' "$T/a.err")" = 1 ]; then t_pass api_bad_path_warns_once
else t_fail api_bad_path_warns_once "stderr: $(head -c 300 "$T/a.err")"; fi

pid=$(ls "$T" | sed -n 's/^a\.\([0-9]*\)\.hsnap$/\1/p')
if [ -n "$pid" ] && [ -e "$T/a.$pid.0.hsnap" ] && [ -e "$T/explicit.hsnap" ]; then t_pass api_snapshot_names
else t_fail api_snapshot_names "$(ls "$T" | tr '\n' ' ')"; fi
if [ -n "$pid" ] && s_dump "$T/a.$pid.0.hsnap" >"$T/a0.dump" 2>&1 &&
   grep -q '^meta .* reason=4 seq=0 ' "$T/a0.dump" &&
   s_site_funcs "$T/api_user" "$T/a0.dump" | grep -q '^api_site 10 10000$'; then t_pass api_snapshot_content
else t_fail api_snapshot_content "$(head -1 "$T/a0.dump" 2>/dev/null)"; fi
# the exit snapshot, after clear_traces: one 500 B block, api_site forgotten
if [ -n "$pid" ] && s_dump "$T/a.$pid.hsnap" >"$T/ax.dump" 2>&1 && grep -q '^meta .* reason=1 seq=3 .* current=500 ' "$T/ax.dump" &&
   ! s_site_funcs "$T/api_user" "$T/ax.dump" | grep -q '^api_site [1-9]'; then t_pass api_clear_then_exit_snapshot
else t_fail api_clear_then_exit_snapshot "$(head -1 "$T/ax.dump" 2>/dev/null)"; fi

# 1,000,000 live blocks: the API snapshot succeeds and holds every block.  How
# long it takes is a benchmark figure, not an assertion (the machine is shared):
# it is printed below the verdict (target < 0.5 s, issue 4; docs/performance.md).
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/big.%p.hsnap" "$T/api_user" big 1000000 "$T/big.hsnap" >"$T/big.out" 2>&1
ms=$(sed -n 's/.*r=0 ms=\([0-9]*\).*/\1/p' "$T/big.out")
if [ -n "$ms" ] && s_dump "$T/big.hsnap" >"$T/big.dump" 2>&1 && grep -q '^blocks 100[0-9][0-9][0-9][0-9] ' "$T/big.dump"; then
  t_pass snapshot_of_1M_blocks_complete
  echo "    (the 1,000,000-block snapshot took $ms ms)"
else t_fail snapshot_of_1M_blocks_complete "$(cat "$T/big.out") $(grep '^blocks' "$T/big.dump" 2>/dev/null)"; fi

# The shim memory a snapshot records is the program's view of it, as the API
# gave it just before (tracemalloc.get_tracemalloc_memory), not that plus the
# snapshot's own buffers (about 40 MiB for these blocks, freed after).
api=$(sed -n 's/.* shim=\([0-9]*\)$/\1/p' "$T/big.out")
rec=$("$HEAPSNAP" info "$T/big.hsnap" 2>/dev/null | sed -n 's/^shim memory: .*(\([0-9]*\) bytes)$/\1/p')
if [ -n "$api" ] && [ -n "$rec" ] && [ "$api" -gt 0 ] &&
   [ "$rec" -ge $((api * 9 / 10)) ] && [ "$rec" -le $((api * 11 / 10 + 1048576)) ]; then
  t_pass snapshot_records_shim_memory_before_its_buffers
else
  t_fail snapshot_records_shim_memory_before_its_buffers "API $api bytes, the snapshot says $rec"
fi
