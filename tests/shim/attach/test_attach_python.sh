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

# tracemalloc on from start-up: the wrappers go beneath its hooks, RAW's
# entry gets pass-throughs (shim/python/frames/pytm.c); a detach puts them back
# (the RAW one too), and an attach again wraps it all again.  The program
# runs on, its output unchanged, and each session names its lines.
if [ -x /usr/bin/python3 ]; then
  at_start /usr/bin/python3 -S -X tracemalloc tests/shim/attach/target.py
  at_attach; a1=$?
  at_cmd a
  at_detach; d1=$AT_DETACH_RC
  "$HEAPSNAP" top "$(at_snap)" >"$T/tm1.txt" 2>/dev/null
  at_cmd a
  at_attach; a2=$?
  at_cmd a
  at_detach; d2=$AT_DETACH_RC
  "$HEAPSNAP" top "$(at_snap)" >"$T/tm2.txt" 2>/dev/null
  at_cmd a
  at_end
  if [ "$a1$d1$a2$d2" = 0000 ] && [ "$AT_STATUS" = 0 ] && [ ! -s "$T/target.err" ] &&
     printf 'dicts 1000\ndicts 2000\ndicts 3000\ndicts 4000\nbye\n' | diff - "$T/transcript" >/dev/null &&
     grep -q '^tests/shim/attach/target.py:11: size=.*, count=' "$T/tm1.txt" &&
     grep -q '^tests/shim/attach/target.py:11: size=.*, count=' "$T/tm2.txt"; then
    t_pass attach_python_tracemalloc_from_start_attach_again
  else t_fail attach_python_tracemalloc_from_start_attach_again "attach $a1/$a2 detach $d1/$d2 exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript") $(head -c 200 "$T/target.err") $(head -c 200 "$T/tm2.txt")"; fi
fi
