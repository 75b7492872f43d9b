# test_python_holders_nocheck.sh - `leaks --why SITE` and `top --retainers`
# answer from any snapshot that holds the Python graph, with no leak check
# in it: one written by heapsnap.write_snapshot() and one written at
# HEAPSNAP_SIGNAL, neither with --leaks.  tests/shim/python/holders_nocheck.py
# keeps Items in a module's list and one in Result.data, itself in a
# module's dict; each path's last holder is the one object
# gc.get_referrers() names.  A site with no Python object says so, exit 2.
# The root's name is pinned on write_snapshot()'s snapshot; on a signal's,
# written by the shim's thread while the program sleeps, pyenv's 3.12 names
# the module's dict "outside (C code or the interpreter)" in some runs (so
# with --leaks too: not this test's subject), so there the holders from
# the module's list or dict on are.
# On every CPython found (TEST_PYTHONS picks; a SKIP line names each absent).
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_holders_nocheck_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
script=tests/shim/python/holders_nocheck.py
l_item=$(py_line $script MARK_ITEM) l_data=$(py_line $script MARK_DATA)
ran=0
# the root as named: write_snapshot()'s exactly; a signal's, any
root_re() { if [ "$1" = write ]; then echo "module __main__, global $2 ($3)"; else echo ".*\\($3\\|($3)\\)"; fi; }
while read -r tag py; do
  ran=$((ran + 1))
  for how in write signal; do
    # the signal's snapshot is the first of HEAPSNAP_OUTPUT's (%n = 0);
    # write_snapshot's is named by the program
    s=$T/n-$how-$tag.0.hsnap
    if ! PYTHONPATH="$PWD/python" HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/n-$how-$tag.%n.hsnap" \
         LD_PRELOAD=$SHIM "$py" $script "$s" $how >"$T/run-$how-$tag.out" 2>"$T/run-$how-$tag.err" ||
       [ ! -s "$s" ]; then
      t_fail "python_holders_nocheck_run_${how}_$tag" "$(tail -c 300 "$T/run-$how-$tag.err")"; continue
    fi
    gc=$(tr '\n' '/' <"$T/run-$how-$tag.out")
    "$HEAPSNAP" leaks "$s" >/dev/null 2>"$T/l-$how-$tag.err"; lrc=$?
    "$HEAPSNAP" leaks --why "holders_nocheck.py:$l_item" "$s" >"$T/i-$how-$tag.txt" 2>&1; rc=$?
    if [ $lrc = 2 ] && [ $rc = 0 ] && [ "$gc" = "registry yes/data yes/written True/" ] &&
       [ "$(grep -c "^  1 object: $(root_re $how REGISTRY list) -> \[[0-3]\] (__main__.Item)\$" "$T/i-$how-$tag.txt")" = 4 ]; then
      t_pass "python_holders_nocheck_why_list_${how}_$tag"
    else t_fail "python_holders_nocheck_why_list_${how}_$tag" "rc $rc/$lrc gc $gc; $(head -c 500 "$T/i-$how-$tag.txt" | tr '\n' '|')"; fi
    "$HEAPSNAP" leaks --why "holders_nocheck.py:$l_data" "$s" >"$T/d-$how-$tag.txt" 2>&1; rc=$?
    if [ $rc = 0 ] && grep -qx "  1 object: $(root_re $how CACHE dict) -> \['k7'\] (__main__.Result) -> Result.data (list) -> \[0\] (__main__.Item)" "$T/d-$how-$tag.txt"; then
      t_pass "python_holders_nocheck_why_path_${how}_$tag"
    else t_fail "python_holders_nocheck_why_path_${how}_$tag" "rc $rc; $(head -c 500 "$T/d-$how-$tag.txt" | tr '\n' '|')"; fi
    "$HEAPSNAP" leaks --why "holders_nocheck.py:$l_data" --format json "$s" >"$T/j-$how-$tag.json" 2>/dev/null; rc=$?
    if [ $rc = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
got = [p["path"] for h in d["python_holders"] for p in h["paths"]]
sys.exit(0 if len(got) == 1 and (got[0] == want or sys.argv[3] == "signal" and got[0].endswith(want.split(" -> ", 1)[1])) else 1)
' "$T/j-$how-$tag.json" "module __main__, global CACHE (dict) -> ['k7'] (__main__.Result) -> Result.data (list) -> [0] (__main__.Item)" $how; then
      t_pass "python_holders_nocheck_why_json_${how}_$tag"
    else t_fail "python_holders_nocheck_why_json_${how}_$tag" "rc $rc; $(head -c 400 "$T/j-$how-$tag.json" | tr '\n' '|')"; fi
    "$HEAPSNAP" top --retainers -n 100000 "$s" >"$T/r-$how-$tag.txt" 2>&1; rc=$?
    if [ $rc = 0 ] && grep -q '^  __main__.Item: 5 objects' "$T/r-$how-$tag.txt" &&
       grep -q "^    1 object: $(root_re $how REGISTRY list) -> \[[0-3]\] (__main__.Item)\$" "$T/r-$how-$tag.txt"; then
      t_pass "python_holders_nocheck_top_retainers_${how}_$tag"
    else t_fail "python_holders_nocheck_top_retainers_${how}_$tag" "rc $rc; $(head -c 500 "$T/r-$how-$tag.txt" | tr '\n' '|')"; fi
    "$HEAPSNAP" leaks --why nosuch.py:1 "$s" >"$T/x-$how-$tag.txt" 2>"$T/x-$how-$tag.err"; rc=$?
    if [ $rc = 2 ] && [ ! -s "$T/x-$how-$tag.txt" ] &&
       grep -q '^heapsnap: leaks: --why nosuch.py:1: no Python object allocated there' "$T/x-$how-$tag.err"; then
      t_pass "python_holders_nocheck_why_unknown_site_${how}_$tag"
    else t_fail "python_holders_nocheck_why_unknown_site_${how}_$tag" "rc $rc; $(head -c 300 "$T/x-$how-$tag.err" | tr '\n' '|')"; fi
  done
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_holders_nocheck "no CPython 3.10-3.13 here"; fi
