# test_python_holders_untracked.sh - `leaks --why` names the holder of
# objects the gc does not track (audit46 D4), as gc.get_referrers would:
# a str value of a module's dict of text (an untracked dict too), a bytes
# in a module's list, a bytearray in an instance's attribute
# (tests/shim/python/untracked.py, which prints that the gc tracks none
# of them), on every supported CPython found; and the str keys made on
# the same line, which the graph does not follow, get a line saying why
# rather than a header with no row under it.  A SKIP line names each
# supported version absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_holders_untracked_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
script=tests/shim/python/untracked.py
l_str=$(py_line $script MARK_STR) l_bytes=$(py_line $script MARK_BYTES)
l_ba=$(py_line $script MARK_BYTEARRAY)
while read -r tag py; do
  s=$T/u-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ] ||
     [ "$(cat "$T/run-$tag.out")" != "False False False" ]; then
    t_fail "python_holders_untracked_run_$tag" "$(cat "$T/run-$tag.out") $(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" leaks --why "untracked.py:$l_str" "$s" >"$T/s-$tag.txt" 2>&1
  if [ "$(grep -c "^  1 object: module __main__, global CACHE (dict) -> \['s[0-2]'\] (str)$" "$T/s-$tag.txt")" = 3 ] &&
     [ "$(grep -o "\['s[0-2]'\] (str)$" "$T/s-$tag.txt" | sort -u | wc -l)" = 3 ] &&
     grep -q '^  3 objects (str, ...) with no path: not tracked by the gc' "$T/s-$tag.txt"; then
    t_pass "python_holders_untracked_str_in_module_dict_$tag"
  else t_fail "python_holders_untracked_str_in_module_dict_$tag" "$(head -c 600 "$T/s-$tag.txt" | tr '\n' '|')"; fi
  "$HEAPSNAP" leaks --why "untracked.py:$l_bytes" "$s" >"$T/b-$tag.txt" 2>&1
  if [ "$(grep -c '^  1 object: module __main__, global BLOBS (list) -> \[[0-2]\] (bytes)$' "$T/b-$tag.txt")" = 3 ] &&
     [ "$(grep -o '\[[0-2]\] (bytes)$' "$T/b-$tag.txt" | sort -u | wc -l)" = 3 ]; then
    t_pass "python_holders_untracked_bytes_in_list_$tag"
  else t_fail "python_holders_untracked_bytes_in_list_$tag" "$(head -c 600 "$T/b-$tag.txt" | tr '\n' '|')"; fi
  "$HEAPSNAP" leaks --why "untracked.py:$l_ba" "$s" >"$T/a-$tag.txt" 2>&1
  if grep -Fqx "  1 object: module __main__, global CONN (__main__.Conn) -> Conn.buf (bytearray)" "$T/a-$tag.txt"; then
    t_pass "python_holders_untracked_bytearray_attribute_$tag"
  else t_fail "python_holders_untracked_bytearray_attribute_$tag" "$(head -c 600 "$T/a-$tag.txt" | tr '\n' '|')"; fi
  # never a header alone: each is followed by a row
  if awk '/who holds them/ { h = 1; next } h && !/^  [0-9]/ { bad = 1 } { h = 0 } END { exit bad }' \
       "$T/s-$tag.txt" "$T/b-$tag.txt" "$T/a-$tag.txt"; then
    t_pass "python_holders_untracked_no_empty_header_$tag"
  else t_fail "python_holders_untracked_no_empty_header_$tag" "$(head -c 300 "$T/s-$tag.txt" | tr '\n' '|')"; fi
  "$HEAPSNAP" top --retainers --key type -n 0 "$s" >"$T/t-$tag.txt" 2>&1
  if grep -q '^  str: [0-9]* objects' "$T/t-$tag.txt" &&
     grep -Fqx "    1 object: module __main__, global CONN (__main__.Conn) -> Conn.buf (bytearray)" "$T/t-$tag.txt"; then
    t_pass "python_holders_untracked_in_top_retainers_$tag"
  else t_fail "python_holders_untracked_in_top_retainers_$tag" "$(grep -A3 -E '^  (str|bytearray):' "$T/t-$tag.txt" | head -c 400 | tr '\n' '|')"; fi
done < <(py_interpreters)
