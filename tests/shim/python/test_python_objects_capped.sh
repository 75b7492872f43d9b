# test_python_objects_capped.sh - a Python process's snapshot with more
# live blocks than HEAPSNAP_PYTHON_OBJECTS has no types nor graph, and
# says so: the shim warns once (three snapshots here: two taken, the exit
# one), naming the cap and the value that would do; the snapshot records
# it (PYCAPPED), so that `top --key type` fails naming both and `leaks`
# notes it.  Under the cap, the same program warns nothing and its
# snapshot has the types.  On every CPython found.
. tests/shim/python/lib_py.sh

while read -r tag py; do
  s=$T/cap-$tag.hsnap
  HEAPSNAP_PYTHON_OBJECTS=1000 HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/exit-$tag.%p.hsnap" \
    "$py" tests/shim/python/objects_capped.py "$s" 2>"$T/cap-$tag.err"
  warned=$(grep -c "Python objects not read in a snapshot: [0-9]* live blocks, over HEAPSNAP_PYTHON_OBJECTS=1000: .*raise it (HEAPSNAP_PYTHON_OBJECTS=[0-9]* or more)" "$T/cap-$tag.err")
  if [ "$warned" = 1 ]; then t_pass "python_objects_over_the_cap_warn_once_$tag"
  else t_fail "python_objects_over_the_cap_warn_once_$tag" "$warned warnings: $(tail -c 400 "$T/cap-$tag.err")"; fi
  "$HEAPSNAP" top --key type "$s" >"$T/top-$tag.out" 2>&1; rc=$?
  if [ "$rc" -ne 0 ] && grep -q "the Python objects were not read.* live blocks, over HEAPSNAP_PYTHON_OBJECTS=1000; raise it (HEAPSNAP_PYTHON_OBJECTS=[0-9]* or more" "$T/top-$tag.out"; then
    t_pass "python_top_key_type_names_the_cap_$tag"
  else t_fail "python_top_key_type_names_the_cap_$tag" "rc $rc: $(head -c 400 "$T/top-$tag.out")"; fi
  "$HEAPSNAP" leaks "$s" >"$T/leaks-$tag.out" 2>&1
  if grep -q "^note: .*the Python objects were not read.*over HEAPSNAP_PYTHON_OBJECTS=1000" "$T/leaks-$tag.out"; then
    t_pass "python_leaks_notes_the_cap_$tag"
  else t_fail "python_leaks_notes_the_cap_$tag" "$(head -c 400 "$T/leaks-$tag.out")"; fi
  u=$T/under-$tag.hsnap
  HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/exit2-$tag.%p.hsnap" \
    "$py" tests/shim/python/objects_capped.py "$u" 2>"$T/under-$tag.err"
  if ! grep -q "Python objects not read" "$T/under-$tag.err" &&
    "$HEAPSNAP" top --key type "$u" 2>&1 | grep -q "Node"; then
    t_pass "python_objects_under_the_cap_typed_silently_$tag"
  else t_fail "python_objects_under_the_cap_typed_silently_$tag" "$(tail -c 300 "$T/under-$tag.err")"; fi
done < <(py_interpreters)
