# test_python_beside_tracemalloc.sh - a program that runs tracemalloc in
# the same process: `top` charges its line what tracemalloc charges it
# (the program's dicts and ints), and tracemalloc's own tables (its traces,
# tracebacks and hash tables) are their own site in its C file
# (Modules/_tracemalloc.c, Python/tracemalloc.c from 3.12), not the
# program's line, which they were about three times over.  Needs the
# interpreter's debug information: pyenv's builds (3.10-3.13) have it;
# Debian's python3 without python3.X-dbgsym is a SKIP line.
. tests/shim/python/lib_py.sh

line=$(py_line tests/shim/python/beside_tm.py MARK_POINTS)
for v in $(py_versions_missing); do
  t_skip "python_beside_tracemalloc_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
py_interpreters | while read -r tag py; do
  if [ "$tag" = debian ]; then
    t_skip "python_beside_tracemalloc_$tag" "Debian's python3 has no debug information here (python3.X-dbgsym)"
    continue
  fi
  cp tests/shim/python/beside_tm.py "$T/beside_$tag.py"
  "$HEAPSNAP" run -o "$T/b-$tag.%p.hsnap" -- "$py" "$T/beside_$tag.py" >"$T/b-$tag.out" 2>"$T/b-$tag.err"
  want=$(sed -n 's/^tracemalloc: count=//p' "$T/b-$tag.out")
  "$HEAPSNAP" top "$T"/b-"$tag".*.hsnap -n 0 >"$T/b-$tag.top" 2>/dev/null
  got=$(sed -n "s/^.*beside_$tag.py:$line: size=.*, count=\([0-9,]*\),.*/\1/p" "$T/b-$tag.top" | tr -d ,)
  if [ -n "$want" ] && [ -n "$got" ] && [ "$got" -ge "$want" ] && [ "$got" -le $((want + 20)) ] &&
     grep -qE "^Modules/_tracemalloc.c:[0-9]+: |^Python/tracemalloc.c:[0-9]+: " "$T/b-$tag.top"; then
    t_pass "python_beside_tracemalloc_$tag"
  else
    t_fail "python_beside_tracemalloc_$tag" "tracemalloc counts $want, top $got: $(head -5 "$T/b-$tag.top" | tr '\n' '|') $(tail -c 200 "$T/b-$tag.err")"
  fi
done
