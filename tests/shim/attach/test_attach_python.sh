# test_attach_python.sh - heapsnap attach on a running CPython (each of 3.10
# to 3.13 found here): the MEM and OBJ domains are wrapped under the GIL by
# the interpreter's next allocation, so the snapshot names the Python lines
# allocated from the attach on; nothing of heapsnap is imported; after the
# detach the program runs on (its domains unwrapped by a pending call), its
# output the same as without heapsnap.
. tests/shim/attach/lib_attach.sh
. tests/shim/python/lib_py.sh
while read -r tag py; do
  name=$(echo "$tag" | tr .- __)
  at_start "$py" -S tests/shim/attach/target.py
  at_attach; a=$?
  at_cmd a
  at_detach
  at_cmd a                            # after the detach: untraced, unchanged
  at_end
  "$HEAPSNAP" top "$(at_snap)" >"$T/top.txt" 2>/dev/null
  if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && grep -q '^tests/shim/attach/target.py:11: size=.*, count=' "$T/top.txt"; then
    t_pass "attach_python_${name}_names_python_lines"
  else t_fail "attach_python_${name}_names_python_lines" "attach $a detach $AT_DETACH_RC: $(head -c 300 "$T/top.txt") $(head -c 200 "$T/attach.err")"; fi
  if [ "$AT_STATUS" = 0 ] && printf 'dicts 1000\ndicts 2000\nbye\n' | diff - "$T/transcript" >/dev/null &&
     [ ! -s "$T/target.err" ]; then
    t_pass "attach_python_${name}_output_unchanged"
  else t_fail "attach_python_${name}_output_unchanged" "exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript") $(head -c 200 "$T/target.err")"; fi
done < <(py_interpreters)
for v in $(py_versions_missing); do t_skip "attach_python_$v" "no CPython $v here"; done
