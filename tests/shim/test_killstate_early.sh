# test_killstate_early.sh - a SIGKILL at any moment from the first
# millisecond on leaves a state file the CLI reads: a 2-thread program
# whose sites and peak grow (tests/shim/earlykill.c) killed 24 times at
# 0 to 276 ms.  Each kill leaves no file (before the shim made it), or one
# that reads, or one that says the process ended before its state was
# first written; never a PEAK that names traces the state has no stacks
# for, nor a file of zeros.
# tier: full (SIGKILL at many moments)
. tests/shim/lib_kill.sh
t_build earlykill tests/shim/earlykill.c -pthread
E=$T/earlykill
bad=""
for i in $(seq 0 23); do
  d=$(printf "0.%03d" $((i * 12)))
  mkdir -p "$T/e$i"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/e$i/e.hsnap" "$E" 2>"$T/e$i.err" & p=$!
  sleep "$d"; kill -KILL "$p"; wait "$p" 2>/dev/null
  f=$(ls "$T/e$i"/*.state 2>/dev/null | head -1)
  [ -n "$f" ] || continue
  if ! "$HEAPSNAP" info "$f" >/dev/null 2>"$T/e$i.info" &&
     ! grep -q "ended before its state was first written" "$T/e$i.info"; then
    bad="$bad [$d s: $(head -c 120 "$T/e$i.info")]"
  fi
done
if [ -z "$bad" ]; then t_pass early_kill_leaves_a_state_that_reads
else t_fail early_kill_leaves_a_state_that_reads "$bad"; fi
