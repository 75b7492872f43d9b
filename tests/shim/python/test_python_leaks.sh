# test_python_leaks.sh - `python -c 'import json'` has no leaks on every
# supported CPython found: the objects made before the domains were
# wrapped live in pymalloc's arenas (roots), and 3.12 on, the interned
# strings that finalization forgets without freeing are immortal objects,
# the runtime's for good (ignored, as roots); `run --gate` passes it.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_import_json_no_leaks_$v" "no CPython $v here"
done
while read -r tag py; do
  rm -f "$T"/lk-$tag.*.hsnap
  "$HEAPSNAP" run --leaks -o "$T/lk-$tag.%p.hsnap" -- "$py" -c 'import json' >"$T/lk-$tag.out" 2>&1
  st=$?
  "$HEAPSNAP" leaks "$T"/lk-$tag.*.hsnap >"$T/lk-$tag.txt" 2>/dev/null
  lost=$(awk '/^ *(direct|indirect|cycle):/ { sum += $2 } END { print sum + 0 }' "$T/lk-$tag.txt")
  if [ "$st" = 0 ] && grep -q '^ *direct: 0 bytes in 0 blocks' "$T/lk-$tag.txt" && [ "$lost" = 0 ]; then
    t_pass "python_import_json_no_leaks_$tag"
  else t_fail "python_import_json_no_leaks_$tag" "exit $st, $(grep -E '^ *(direct|indirect|cycle):' "$T/lk-$tag.txt" | tr '\n' ' ')"; fi
  if "$HEAPSNAP" run --gate -o "$T/g-$tag.%p.hsnap" -- "$py" -c 'import json' >"$T/g-$tag.out" 2>&1; then
    t_pass "python_import_json_gate_passes_$tag"
  else t_fail "python_import_json_gate_passes_$tag" "$(grep -E 'FAIL|trouble|error' "$T/g-$tag.out" | head -3 | tr '\n' ' ')"; fi
done < <(py_interpreters)
