# test_bench.sh - proves scripts/bench/bench.py works: one tiny round of every
# workload under every tool (`--quick --smoke`), its table and Markdown, and
# that a tool which changes a workload's output is caught.  It asserts nothing
# about timings: those are for `make bench` and docs/performance.md.

ROWS="churn1 deep churn2 churn4 realloc cxx python sqlite"
scripts/bench/bench.py --quick --smoke --md "$T/bench.md" --raw "$T/raw.txt" >"$T/bench.out" 2>"$T/bench.err"
rc=$?

if [ "$rc" -le 1 ]; then t_pass bench_smoke_completes
else t_fail bench_smoke_completes "exit $rc: $(tail -n 3 "$T/bench.err" | tr '\n' ' ')"; fi

# bench_row FILE WORKLOAD: the row of WORKLOAD in the printed table.
bench_row() { awk -v w="$2" '$1 == w' "$1"; }

missing=""
for w in $ROWS leakcheck; do [ -n "$(bench_row "$T/bench.out" "$w")" ] || missing="$missing $w"; done
if [ -z "$missing" ]; then t_pass bench_table_has_every_workload
else t_fail bench_table_has_every_workload "no row for:$missing"; fi

# The first table of the Markdown (wall time) and the leak-check table after it.
awk '/^\| workload \|/ {n++} n == 1 && /^$/ {n++} n == 1' "$T/bench.md" >"$T/wall.md" 2>/dev/null
if grep -q '^| workload | plain | heaptrack | heapsnap |' "$T/wall.md" &&
   [ "$(grep -c '^| [a-z0-9]* | [0-9.]*s [0-9]*M |' "$T/wall.md")" -eq 8 ] &&
   grep -q '^| leakcheck | [0-9.]*s [0-9]*M |' "$T/bench.md" &&
   grep -q '^| workload | plain | heaptrack | heapsnap |.*' <(sed -n '/CPU time/,$p' "$T/bench.md") &&
   grep -q '^- CPU: ' "$T/bench.md"; then
  t_pass bench_markdown_written
else
  t_fail bench_markdown_written "missing header, machine or rows in $T/bench.md"
fi

# The targets are judged in the output: each of the three has its line, with
# a count or a verdict (not a number the script could not compute).
if [ "$(sed -n '/targets, wall time/,/^# the same/p' "$T/bench.out" |
        grep -cE '^- (full stacks, overhead.*: [0-9]+ of [0-9]+ met|threaded churn.*\((met|over)\)|sampled .*: [0-9]+ of [0-9]+ met)')" -eq 3 ]; then
  t_pass bench_targets_judged
else
  t_fail bench_targets_judged "no target lines: $(grep -A3 'targets, wall' "$T/bench.out" | tr '\n' ' ')"
fi

# Issue 21's absolute targets, side by side in the same run: full stacks at
# most 2.0x on every row, peak RSS at most 1.25x, sampled at most 1.05x,
# and (clang with LSan's runtime being a bench dependency) full stacks
# against LeakSanitizer's own ratio on the workloads rebuilt with it.
verdicts=$(sed -n '/targets, wall time/,/^# the same/p' "$T/bench.out")
if [ -f "$SHIM" ]; then
  if [ "$(grep -cE '^- (full stacks at most 2.0x plain, every workload: [0-9]+ of 9 met|full stacks. peak RSS at most 1.25x plain.s, every workload: [0-9]+ of 9 met|sampled at most 1.05x: [0-9]+ of 8 met)' <<<"$verdicts")" -eq 3 ] &&
     grep -qE '^- full stacks at most LeakSanitizer.s ratio .*: churn1 [0-9.]+x vs [0-9.]+x \((met|over)\), deep [0-9.]+x vs [0-9.]+x \((met|over)\), churn1_25k [0-9.]+x vs [0-9.]+x \((met|over)\)$' <<<"$verdicts" &&
     bench_row "$T/bench.out" churn1_25k | grep -qE ' [0-9.]+x +[0-9.]+x [0-9]+M '; then
    t_pass bench_absolute_targets_judged
  else
    t_fail bench_absolute_targets_judged "$(tr '\n' ' ' <<<"$verdicts" | head -c 600)"
  fi
else
  t_skip bench_absolute_targets_judged "no $SHIM (make did not build the shim)"
fi

# churn1_25k: one thread with as many live blocks as churn4 has per thread,
# run plain and under heapsnap, and the threaded verdict's companion line.
if [ -f "$SHIM" ]; then
  if bench_row "$T/bench.out" churn1_25k | grep -qE '^churn1_25k +[0-9.]+s [0-9]+M +- +[0-9.]+x [0-9]+M ' &&
     sed -n '/targets, wall time/,/^# the same/p' "$T/bench.out" |
       grep -qE '^- the same at equal live blocks per thread .*: churn4/churn1_25k = [0-9.]+$'; then
    t_pass bench_threads_at_equal_live_blocks
  else
    t_fail bench_threads_at_equal_live_blocks "$(bench_row "$T/bench.out" churn1_25k) / $(grep 'equal live' "$T/bench.out")"
  fi
else
  t_skip bench_threads_at_equal_live_blocks "no $SHIM (make did not build the shim)"
fi

# Beside the verdicts, the noise floor they are read against: the plain
# frame-pointer build's ratio to the plain build, which should be 1.00x.
if sed -n '/targets, wall time/,/^# the same/p' "$T/bench.out" |
     grep -qE '^- the noise floor: .* read [0-9.]+x to [0-9.]+x$'; then
  t_pass bench_noise_floor_printed
else
  t_fail bench_noise_floor_printed "$(grep -A5 'targets, wall' "$T/bench.out" | tr '\n' ' ' | head -c 300)"
fi

# The snapshot and memory targets: a snapshot written while another thread
# runs, `heapsnap top` on it (symbolized), the shim's memory per block.
if [ -f "$SHIM" ]; then
  if [ "$(sed -n '/^# snapshots and memory/,/^#/p' "$T/bench.out" |
          grep -cE '^- (a snapshot of [0-9]+ live blocks.*: [0-9]+ ms|other threads stopped.*during the write [0-9.]+ ms|heapsnap top on it.*: [0-9.]+ s by line|the shim.s own memory.*: [0-9.]+ B per live block).* \((met|over)\)$')" -eq 4 ] &&
     grep -q '^Snapshots and memory' "$T/bench.md"; then
    t_pass bench_snapshot_targets_judged
  else
    t_fail bench_snapshot_targets_judged "$(grep -A4 '^# snapshots' "$T/bench.out" | tr '\n' ' ' | head -c 400)"
  fi
else
  t_skip bench_snapshot_targets_judged "no $SHIM (make did not build the shim)"
fi

# Sampled mode runs twice a round, the second time between the round's
# plain2 and a plain run of its own, kept as round ROUNDS + 1 (here 2):
# --raw shows both.
if [ -f "$SHIM" ]; then
  short=""
  for w in $ROWS; do
    for rm in 1:plain 1:hs_sample 1:plain2 2:hs_sample 2:plain2; do
      awk -v w="$w" -v m="${rm#*:}" -v r="${rm%%:*}" '$1 == w && $2 == m && $3 == r && $6 == "ok" {f = 1}
        END {exit !f}' "$T/raw.txt" 2>/dev/null || short="$short $w:${rm#*:}:${rm%%:*}"
    done
  done
  if [ -z "$short" ]; then t_pass bench_sampled_runs_twice_a_round
  else t_fail bench_sampled_runs_twice_a_round "no clean run in --raw for:$short"; fi
else
  t_skip bench_sampled_runs_twice_a_round "no $SHIM (make did not build the shim)"
fi

# bench_column NAME COL: every workload's cell in column COL (1-based) is a ratio.
bench_column() {
  local name=$1 col=$2 bad
  bad=$(grep -E "^\| ($(echo "$ROWS" | tr ' ' '|')) \|" "$T/wall.md" |
        awk -F'|' -v c=$((col + 1)) '$c !~ /^ [0-9.]+x [0-9]+M $/ {print $2 ":" $c}' | tr '\n' ' ')
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "not measured or failed:$bad"; fi
}

if command -v heaptrack >/dev/null; then bench_column bench_heaptrack_measured 3
else t_skip bench_heaptrack_measured "heaptrack is not installed"; fi
if [ -f "$SHIM" ]; then
  bench_column bench_heapsnap_default_runs_clean 4
  bench_column bench_heapsnap_fp_runs_clean 6
  bench_column bench_heapsnap_sampled_runs_clean 7
  bench_column bench_heapsnap_sampled_leaks_runs_clean 8
else
  t_skip bench_heapsnap_runs_clean "no $SHIM (make did not build the shim)"
fi

# Issue 33's columns: the walk-only and bare floors, heapsnap
# over the walk, the walk's frames per stack, and their verdicts.
if [ -f "$SHIM" ]; then
  # --smoke runs the floors on the LSan-judged rows only (runner.py)
  ROWS="churn1 deep" bench_column bench_walk_only_runs_clean 13
  ROWS="churn1 deep" bench_column bench_bare_interposer_runs_clean 14
  bad=$(grep -E "^\| (churn1|deep) \|" "$T/wall.md" |
        awk -F'|' '$16 !~ /^ [0-9.]+x $/ || $17 !~ /^ [0-9.]+ of [0-9.]+ $/ {print $2}' | tr '\n' ' ')
  if [ -z "$bad" ] &&
     grep -qE '^- full stacks on the clang build at most LeakSanitizer.s ratio there: churn1 [0-9.]+x vs' <<<"$verdicts" &&
     grep -qE '^- bookkeeping at most 1.15x the walk-only build .*: [0-9]+ of [0-9]+ met' <<<"$verdicts" &&
     grep -qE '^- deep stacks. added time per allocation at most 1.3x churn1.s: [0-9]+ ns vs [0-9]+ ns' "$T/bench.out"; then
    t_pass bench_walk_floor_and_frames_walked
  else
    t_fail bench_walk_floor_and_frames_walked "rows:$bad $(grep -E 'clang build|bookkeeping|deep stacks' "$T/bench.out" | head -3 | tr '\n' ' ')"
  fi
else
  t_skip bench_walk_floor_and_frames_walked "no $SHIM (make did not build the shim)"
fi

# Issue 50: instructions per malloc+free pair (callgrind), with --smoke on
# churn1 only, beside the same run's wall ratios.
if ! command -v valgrind >/dev/null; then
  t_skip bench_instructions_beside_wall_ratios "valgrind is not installed"
elif sed -n '/^# instructions per malloc+free pair/,$p' "$T/bench.out" |
     grep -qE '^churn1 +[0-9]+ +[0-9]+ +\+[0-9]+ +\+[0-9]+ +\+[0-9]+ +\+[0-9]+ +[0-9]+ \((met|over)\) +[0-9.]+x +[0-9.]+x$'; then
  t_pass bench_instructions_beside_wall_ratios
else
  t_fail bench_instructions_beside_wall_ratios "$(sed -n '/^# instructions per/,+3p' "$T/bench.out" | tr '\n' ' ')"
fi

# A "heaptrack" that changes the workload's checksum must be a loud error.
mkdir -p "$T/fake"
cat >"$T/fake/heaptrack" <<'EOF'
#!/bin/sh
shift 2                           # drop "-o FILE"
"$@" | sed 's/^checksum \(.*\)$/checksum \1-tampered/'
EOF
chmod +x "$T/fake/heaptrack"
PATH="$T/fake:$PATH" scripts/bench/bench.py --smoke --no-install --no-instr --only churn1 >"$T/fake.out" 2>"$T/fake.err"
rc=$?
if [ "$rc" -eq 1 ] && bench_row "$T/fake.out" churn1 | grep -q '!!mismatch'; then
  t_pass bench_catches_changed_output
else
  t_fail bench_catches_changed_output "exit $rc, row: $(bench_row "$T/fake.out" churn1)"
fi

# Issue 68's LeakSanitizer set (--lsan), tiny: every workload of the set has
# a row whose LeakSanitizer (its default and its whole stacks), heapsnap and
# heapsnap --leaks cells are ratios (clang's -fsanitize=leak builds of our
# programs, Debian's liblsan.so.0 preloaded into its binaries), in CPU and
# wall time, and the verdicts are judged on them.  Nothing about the timings is asserted.
LSAN_ROWS="churn1 deep churn2 cxx python sqlite jq gcc"
if [ ! -f "$SHIM" ]; then
  t_skip bench_lsan_set_measured "no $SHIM (make did not build the shim)"
elif ! command -v clang >/dev/null || [ ! -f /usr/lib/x86_64-linux-gnu/liblsan.so.0 ]; then
  t_skip bench_lsan_set_measured "no clang or no liblsan0 (scripts/install-deps.sh bench)"
else
  scripts/bench/bench.py --smoke --lsan --no-install --md "$T/lsan.md" >"$T/lsan.out" 2>"$T/lsan.err"
  rc=$?
  bad=""
  for w in $LSAN_ROWS; do
    [ "$(grep -cE "^\| $w \| [0-9.]+s [0-9]+M \| [0-9.]+x [0-9]+M \| [0-9.]+x [0-9]+M \| [0-9.]+x [0-9]+M \| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \| [0-9.]+x [0-9]+M \| [0-9.]+x \|$" "$T/lsan.md")" -eq 2 ] ||
      bad="$bad $w"
  done
  if [ "$rc" -eq 0 ] && [ -z "$bad" ] &&
     [ "$(grep -cE "^- (full stacks at most LeakSanitizer.s time|heapsnap run --leaks at most LeakSanitizer.s time|full stacks at most 2.0x plain|full stacks. peak RSS at most 1.25x plain.s).*: [0-9]+ of 8 met" "$T/lsan.md")" -eq 10 ]; then
    t_pass bench_lsan_set_measured
  else
    t_fail bench_lsan_set_measured "exit $rc, rows not measured:$bad; $(tail -n 2 "$T/lsan.err" | tr '\n' ' ')"
  fi
fi
