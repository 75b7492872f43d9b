# test_pystart_drift.sh - recording a Python start-up does not grow dearer
# (issue 47 item 6): scripts/bench/pystartcount.py --check counts, with
# callgrind, the instructions of hook_stack (the Python frames' walk, the
# recent splices, the native walk, the splice, the intern) while an
# interpreter starts and imports json, argparse and email.parser under the
# shim, and those of unwind_again (the memo's exact-repeat test, before
# hook_stack), and fails when a figure is more than 5% over the one
# scripts/bench/pystart.counts records for its version (which says how to
# update it on purpose).  Before one walk an allocation reused the last
# one's words, 3.11.7's figure was 706 million; it is 421 million.  Then
# the same comparison against a figure 6% lower must fail: the check can
# fail.  One interpreter: pyenv's 3.11 when it is recorded, else the first
# recorded one lib_py.sh finds.
. tests/shim/python/lib_py.sh

py=""
while read -r tag p; do
  v=$("$p" -c 'import platform; print(platform.python_version())' 2>/dev/null)
  grep -q "^$v stacks " scripts/bench/pystart.counts || continue
  case "$tag" in pyenv-3.11) py=$p; break ;; esac
  [ -n "$py" ] || py=$p
done < <(py_interpreters)

if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
  t_skip pystart_within_recorded_count "valgrind is not installed (scripts/install-deps.sh)"
elif ! command -v setarch >/dev/null; then
  t_skip pystart_within_recorded_count "no setarch (util-linux)"
elif [ ! -f "$SHIM" ]; then
  t_skip pystart_within_recorded_count "no $SHIM (make did not build the shim)"
elif [ -z "$py" ]; then
  t_skip pystart_within_recorded_count "no interpreter of a version scripts/bench/pystart.counts records"
else
  BUILD=$(dirname "$SHIM") scripts/bench/pystartcount.py --check --save "$T/got" "$py" >"$T/check.out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/got")" -ge 1 ]; then
    t_pass pystart_within_recorded_count
  else
    t_fail pystart_within_recorded_count "exit $rc: $(tr '\n' ' ' <"$T/check.out" | tail -c 600)"
  fi
  awk '{printf "%s %s %d\n", $1, $2, $3 / 1.06}' "$T/got" >"$T/lower"
  scripts/bench/pystartcount.py --check --counts "$T/lower" --measured "$T/got" "$py" >"$T/lower.out" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ] && grep -q 'OVER 5%' "$T/lower.out"; then
    t_pass pystart_growth_over_5_percent_fails
  else
    t_fail pystart_growth_over_5_percent_fails "exit $rc: $(tr '\n' ' ' <"$T/lower.out")"
  fi
fi
