# test_python_holders_every_version.sh - issue 46's "who holds it" on every
# supported CPython: test_python_holders_* asks `leaks --why` on Debian's
# python3 and pyenv's 3.10 only; this runs the same program
# (tests/shim/python/holders.py) on every other CPython 3.10-3.13 found
# (pyenv's 3.11 to 3.13 on the farm: 3.11 on keeps a class's attributes in
# the instance's values, 3.12 on makes builtins immortal) and asks the same
# paths: REGISTRY[0..4] as gc.get_referrers names their holder (a list), and
# CACHE['user42'] -> Result.data -> [0].  Symbols are read lazily now, so a
# pyenv build's `leaks --why` takes well under a second.  A SKIP line names
# each supported version absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_holders_every_version_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
script=tests/shim/python/holders.py
l_item=$(py_line $script MARK_ITEM) l_data=$(py_line $script MARK_DATA)
ran=0
while read -r tag py; do
  case "$tag" in debian|pyenv-3.10) continue ;; esac  # test_python_holders'
  ran=$((ran + 1))
  s=$T/h-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_holders_every_version_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  refs=$(tr '\n' '/' <"$T/run-$tag.out")
  "$HEAPSNAP" leaks --why "holders.py:$l_item" "$s" >"$T/i-$tag.txt" 2>&1
  if [ "$refs" = "list/list/" ] &&
     [ "$(grep -c '^  1 object: module __main__, global REGISTRY (list) -> \[[0-4]\] (__main__.Item)$' "$T/i-$tag.txt")" = 5 ] &&
     [ "$(grep -o '\[[0-4]\] (__main__.Item)$' "$T/i-$tag.txt" | sort -u | wc -l)" = 5 ]; then
    t_pass "python_holders_every_version_list_index_$tag"
  else t_fail "python_holders_every_version_list_index_$tag" "gc: $refs; $(head -c 500 "$T/i-$tag.txt" | tr '\n' '|')"; fi
  "$HEAPSNAP" leaks --why "holders.py:$l_data" "$s" >"$T/d-$tag.txt" 2>&1
  if grep -Fqx "  1 object: module __main__, global CACHE (dict) -> ['user42'] (__main__.Result) -> Result.data (list) -> [0] (__main__.Item)" "$T/d-$tag.txt"; then
    t_pass "python_holders_every_version_dict_key_and_attribute_$tag"
  else t_fail "python_holders_every_version_dict_key_and_attribute_$tag" "$(head -c 500 "$T/d-$tag.txt" | tr '\n' '|')"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then
  t_skip python_holders_every_version "no CPython here beyond Debian's python3 and pyenv's 3.10 (test_python_holders')"
fi
