# test_python_numbers_retained.sh - the retained sizes' scan takes a word
# for a reference only where one can be: a set's hashes, a dict's keys
# table header and indices, a type's flags and sizes, a dict's version
# hold numbers (pyh_plain_words), as do the digits of an int
# subclass's instance and the bytes of a bytes subclass's.
# numbers_retained.py keeps five item arrays under one list and numbers
# equal to addresses inside them in a small set, a larger set, a dict's
# key, an int and a bytes subclass's instance: on every CPython
# 3.10-3.13 found (a SKIP line names each one absent), HELD's line
# retains the five arrays (before, an array whose address a set's hash
# held was a root's, charged to no list).  Numbers that fall in a block
# by chance made test_python_numpy_retained fail about one run in twenty
# (a heap type's tp_flags, a keys table's header, an IntFlag's digits).
. tests/shim/python/lib_py.sh

script=tests/shim/python/numbers_retained.py
l_held=$(py_line $script MARK_HELD)
for v in $(py_versions_missing); do
  t_skip "python_numbers_retained_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  s=$T/n-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_numbers_retained_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  want=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  got=$(python3 - "$T/l-$tag.json" "$l_held" <<'PY'
import json, sys
line = int(sys.argv[2])
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x.get("type") == "list"
     and x["frames"][0]["line"] == line and x["frames"][0]["file"].endswith("numbers_retained.py")]
print(g[0]["retained_bytes"] if g else 0)
PY
)
  if [ "$want" = 4000000 ] && [ "$got" -ge "$want" ] && [ "$got" -lt $((want + 8000)) ]; then
    t_pass "python_numbers_retained_hashes_are_no_references_$tag"
  else t_fail "python_numbers_retained_hashes_are_no_references_$tag" "item arrays ${want:-?} B; HELD's line retains ${got:-?} $(head -c 200 "$T/l-$tag.err")"; fi
done < <(py_interpreters)
