# test_python_types_unwritten.sh - the exit snapshot's typing pass reads
# no word outside writable memory as a type (pytype.c, pyrd_map_writable):
# types_unwritten.py keeps 3,000 blocks whose second word points into
# libc's text (a count of 1 first, as an object's head has), and 500
# instances of its own class.  HEAPSNAP_VERBOSE's count of the words not
# read reaches the 3,000, and the class is still typed (top --key type).
# Cases: python_types_unwritten_words_not_read_TAG,
# python_types_unwritten_class_still_typed_TAG.
. tests/shim/python/lib_py.sh

while read -r tag py; do
  s=$T/unwritten-$tag.hsnap
  HEAPSNAP_VERBOSE=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$s" \
    "$py" tests/shim/python/types_unwritten.py 3000 500 >"$T/unwritten-$tag.out" 2>"$T/unwritten-$tag.err"
  n=$(awk -F': ' '/outside writable memory, not read:/ { print $NF + 0 }' "$T/unwritten-$tag.err" | tail -n 1)
  if [ "${n:-0}" -ge 3000 ]; then t_pass "python_types_unwritten_words_not_read_$tag ($n)"
  else t_fail "python_types_unwritten_words_not_read_$tag" "not read: ${n:-no line} $(tail -c 300 "$T/unwritten-$tag.err")"; fi
  top=$("$HEAPSNAP" top --key type -n 0 "$s" 2>/dev/null)
  if printf '%s\n' "$top" | grep -q '^__main__.Marker: size=.*count=500,'; then
    t_pass "python_types_unwritten_class_still_typed_$tag"
  else t_fail "python_types_unwritten_class_still_typed_$tag" "$(printf '%s\n' "$top" | head -n 5 | tr '\n' ' ')"; fi
done < <(py_interpreters)
