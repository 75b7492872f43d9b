# tests/shim/test_stress.sh - 16 threads x 200k malloc/free with cross-thread frees
# (tests/fixtures/stress.c) under the shim: it completes, exits 0, and the snapshot
# accounts for exactly the blocks the program left live: 16 x 100 blocks of 48 B
# at stress.c:45, and `info`'s live-block count equals the sum of the counts that
# `top -n 0` lists (the few extra blocks are glibc's per-thread bookkeeping).
. tests/fixtures/lib.sh
FX_TEST=stress fx_ready stress || return 0

start=$(date +%s)
timeout 120 env HEAPSNAP_OUTPUT="$T/stress.hsnap" LD_PRELOAD="$SHIM" "$FX/stress" 16 200000 \
  >"$T/out" 2>"$T/err"
rc=$?
if [ $rc = 0 ]; then t_pass "stress_completes ($(( $(date +%s) - start )) s)"
else t_fail stress_completes "exit $rc (124 = timed out): $(head -c 300 "$T/err")"; fi

if [ ! -s "$T/stress.hsnap" ]; then t_fail stress_snapshot "no snapshot written"; return 0; fi
if "$HEAPSNAP" top "$T/stress.hsnap" --key lineno -n 0 >"$T/top.txt" 2>"$T/top.err"; then
  fx_only stress.c "$T/top.txt" >"$T/mine.txt"
  want='tests/fixtures/stress.c:45: size=75.0 KiB, count=1600, average=48 B'
  [ "$(cat "$T/mine.txt")" = "$want" ] && t_pass stress_live_site \
    || t_fail stress_live_site "want only '$want', got: $(head -5 "$T/mine.txt" | tr '\n' '|')"
else
  t_fail stress_live_site "top exited $?: $(head -c 300 "$T/top.err")"
fi

if "$HEAPSNAP" info "$T/stress.hsnap" >"$T/info.txt" 2>"$T/info.err"; then
  live=$(grep -iE '^ *live blocks' "$T/info.txt" | grep -oE '[0-9]+' | head -1)
  listed=$(grep -oE ', count=[0-9]+' "$T/top.txt" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')
  if [ -z "$live" ]; then t_fail stress_info_live_blocks "no 'live blocks' line in info"
  elif [ "$live" != "$listed" ]; then t_fail stress_info_live_blocks "info says $live live blocks, top lists $listed"
  elif [ "$live" -lt 1600 ] || [ "$live" -gt $((1600 + 16 * 4)) ]; then
    t_fail stress_info_live_blocks "info says $live live blocks, want 1600 + per-thread bookkeeping (<= 64)"
  else t_pass "stress_info_live_blocks ($live)"; fi
else
  t_fail stress_info_live_blocks "info exited $?: $(head -c 300 "$T/info.err")"
fi
