# tests/shim/leak/test_leak_classes.sh - the leak-class fixture matrix (issue 3).
# Each fixture in tests/shim/leak/classes/ states its exact answer; expect/<name>.txt is
# that answer as the LEAK SUMMARY's six lines plus the direct and cycle loss
# records (site, blocks, bytes, owned indirect bytes).  For every fixture:
#   heapsnap run --leaks -o $T/<name>.%p.hsnap -- build/leakfix/<name>
#   heapsnap leaks SNAP             (and --format json, when it works)
# and tests/shim/leak/classes/check.py compares.  A fixture with several processes
# (fork_child) has one expectation per snapshot: expect/<name>+<role>.txt.
# "+ runtime noleak" in an expectation adds what the noleak fixture (or
# cxx_noleak) has in that class, i.e. what glibc/libstdc++ keep for themselves.
# Cases: leakfix_lint, leakfix_<name>... (leakfix_million too; its time is printed).
# tier: full (the whole leak-class fixture matrix)
LF=tests/shim/leak/classes
LFB=$BUILD/leakfix

lf_fail_all() { # why: one FAIL per fixture (the heapsnap part is not there)
  local e
  for e in "$LF"/expect/*.txt; do
    e=$(basename "$e" .txt)
    case "$e" in *+*) ;; *) t_fail "leakfix_$e" "$1" ;; esac
  done
}

# lf_run NAME: runs the fixture under `heapsnap run --leaks`; its snapshots
# end up as $T/NAME.*.hsnap.  Fails (returns 1, with $lf_why) on a bad exit.
lf_run() {
  local name=$1 rc
  rm -f "$T/$name".*.hsnap
  "$HEAPSNAP" run --leaks -o "$T/$name.%p.hsnap" -- "$LFB/$name" >"$T/$name.run" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ]; then
    lf_why="heapsnap run --leaks exited $rc: $(tail -c 300 "$T/$name.run" | tr '\n' ' ')"
    return 1
  fi
}

# lf_report SNAP OUT: `heapsnap leaks` in text into OUT, and JSON into OUT.json
# (empty when --format json does not work yet: the text records are parsed then).
lf_report() {
  local rc
  "$HEAPSNAP" leaks "$1" >"$2" 2>"$2.err"; rc=$?
  if [ "$rc" -gt 1 ]; then
    lf_why="heapsnap leaks exited $rc: $(head -c 300 "$2.err" | tr '\n' ' ')"; return 1
  fi
  "$HEAPSNAP" leaks --format json "$1" >"$2.json" 2>/dev/null; rc=$?
  [ "$rc" -le 1 ] || : >"$2.json"
}

# lf_baseline NAME: records the noleak fixture NAME's per-class sums in $T/runtime.
lf_baseline() {
  local name=$1 snap
  lf_run "$name" || return 1
  snap=$(ls "$T/$name".*.hsnap 2>/dev/null | head -1)
  [ -n "$snap" ] || { lf_why="no snapshot written"; return 1; }
  lf_report "$snap" "$T/$name.txt" || return 1
  python3 "$LF/check.py" --summary "$T/$name.txt" | sed "s/^/$name /" >>"$T/runtime"
}

# lf_case NAME: runs NAME and checks every snapshot against one expectation each.
lf_case() {
  local name=$1 snaps exps snap e out bad=""
  lf_run "$name" || { t_fail "leakfix_$name" "$lf_why"; return; }
  snaps=$(ls "$T/$name".*.hsnap 2>/dev/null)
  exps=$(ls "$LF/expect/$name.txt" "$LF/expect/$name+"*.txt 2>/dev/null)
  if [ "$(echo "$snaps" | grep -c .)" -ne "$(echo "$exps" | grep -c .)" ]; then
    t_fail "leakfix_$name" "$(echo "$snaps" | grep -c .) snapshots, want $(echo "$exps" | grep -c .)"
    return
  fi
  for snap in $snaps; do
    lf_report "$snap" "$T/$name.txt" || { t_fail "leakfix_$name" "$lf_why"; return; }
    out=""
    for e in $exps; do  # each snapshot must match one expectation, each used once
      out=$(python3 "$LF/check.py" "$e" "$T/$name.txt" "$T/$name.txt.json" --runtime "$T/runtime")
      if [ -z "$out" ]; then exps=$(echo "$exps" | grep -vxF "$e"); break; fi
    done
    if [ -n "$out" ]; then bad="$bad$(basename "$snap"): $(echo "$out" | tr '\n' ';') "; cp "$T/$name.txt" "$T/$name.bad.txt"; fi
  done
  if [ -z "$bad" ]; then t_pass "leakfix_$name"
  else t_fail "leakfix_$name" "$bad"; sed 's/^/    /' "$T/$name.bad.txt" | head -30; fi
}

lf_main() {
  local name why
  if python3 "$LF/check.py" --lint "$LF" >"$T/lint.out" 2>&1; then t_pass leakfix_lint
  else t_fail leakfix_lint "$(head -c 400 "$T/lint.out" | tr '\n' ';')"; fi
  if [ ! -x "$HEAPSNAP" ] || [ ! -f "$SHIM" ]; then
    lf_fail_all "build/heapsnap or build/libheapsnap.so is not built (run make)"; return
  fi
  if ! "$LF/leakfix.sh" >"$T/build.log" 2>&1; then
    lf_fail_all "fixtures do not build: $(head -c 300 "$T/build.log" | tr '\n' ' ')"; return
  fi
  if ! "$HEAPSNAP" run --help 2>&1 | grep -q -- '--leaks'; then
    lf_fail_all "heapsnap run has no --leaks yet"; return
  fi
  if ! "$HEAPSNAP" leaks --help >/dev/null 2>&1; then
    lf_fail_all "heapsnap has no leaks command yet"; return
  fi
  : >"$T/runtime"
  for name in noleak cxx_noleak; do
    lf_baseline "$name" || { why=$lf_why; lf_fail_all "runtime baseline ($name): $why"; return; }
  done
  for e in "$LF"/expect/*.txt; do
    name=$(basename "$e" .txt)
    case "$name" in *+*|million) continue ;; esac
    lf_case "$name"
  done
  local t0 t1
  t0=$(date +%s%N); lf_case million; t1=$(date +%s%N)
  local ms=$(( (t1 - t0) / 1000000 ))
  # How long it takes is a benchmark figure (the machine is shared), not a verdict.
  echo "    (run --leaks + leaks on 1,000,000 blocks took ${ms} ms)"
}

lf_main
