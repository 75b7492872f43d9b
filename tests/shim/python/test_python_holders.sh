# test_python_holders.sh - who holds a Python object: `leaks --why SITE`
# prints, for the objects allocated at SITE, the shortest paths from a
# root named as Python names it (module __main__, global REGISTRY) through
# the objects' graph, with the holders' types, list indices, dict keys and
# attributes (Result.data: 3.10's instance __dict__, 3.11 and 3.12's
# values, 3.13's inline values).  tests/shim/python/holders.py keeps Items
# in a module's list and one in Result.data, itself in a module's dict
# under "user42"; the last holder on each path is what gc.get_referrers()
# names (a list).  On every CPython 3.10-3.15 found (a SKIP line names
# each one absent): symbols are read lazily, so a pyenv build's
# `leaks --why` takes well under a second.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_holders_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
script=tests/shim/python/holders.py
l_item=$(py_line $script MARK_ITEM) l_data=$(py_line $script MARK_DATA)
ran=0
while read -r tag py; do
  ran=$((ran + 1))
  s=$T/h-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_holders_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  refs=$(tr '\n' '/' <"$T/run-$tag.out")
  "$HEAPSNAP" leaks --why "holders.py:$l_item" "$s" >"$T/i-$tag.txt" 2>&1
  if [ "$refs" = "list/list/" ] &&
     grep -q '^  1 object: module __main__, global REGISTRY (list) -> \[3\] (__main__.Item)$' "$T/i-$tag.txt" &&
     [ "$(grep -c '^  1 object: module __main__, global REGISTRY (list) -> \[[0-4]\] (__main__.Item)$' "$T/i-$tag.txt")" = 5 ] &&
     [ "$(grep -o '\[[0-4]\] (__main__.Item)$' "$T/i-$tag.txt" | sort -u | wc -l)" = 5 ]; then
    t_pass "python_holders_list_index_as_gc_get_referrers_$tag"
  else t_fail "python_holders_list_index_as_gc_get_referrers_$tag" "gc: $refs; $(head -c 500 "$T/i-$tag.txt" | tr '\n' '|')"; fi
  "$HEAPSNAP" leaks --why "holders.py:$l_data" "$s" >"$T/d-$tag.txt" 2>&1
  if grep -Fqx "  1 object: module __main__, global CACHE (dict) -> ['user42'] (__main__.Result) -> Result.data (list) -> [0] (__main__.Item)" "$T/d-$tag.txt"; then
    t_pass "python_holders_dict_key_and_instance_path_$tag"
  else t_fail "python_holders_dict_key_and_instance_path_$tag" "$(head -c 500 "$T/d-$tag.txt" | tr '\n' '|')"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_holders "no CPython 3.10-3.13 here"; fi
