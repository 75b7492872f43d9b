# test_python_beside_tracemalloc.sh - a program that runs tracemalloc in
# the same process: `top` charges its line what tracemalloc charges it
# (the program's dicts and ints), and tracemalloc's own tables (its traces,
# tracebacks and hash tables) are their own site in its C file
# (Modules/_tracemalloc.c, Python/tracemalloc.c from 3.12), not the
# program's line, which they were about three times over.  With the
# interpreter's debug information (pyenv's builds, 3.10-3.13) by their
# functions' names; without it (Debian's python3 without python3.X-dbgsym)
# by tracemalloc's hooks' addresses, which the shim learns (pytm.c), and
# the site is then Modules/_tracemalloc.c:0.  And `run --gate` passes on a
# program that stops tracemalloc (CPython's own leak, built in).
. tests/shim/python/lib_py.sh

line=$(py_line tests/shim/python/beside_tm.py MARK_POINTS)
for v in $(py_versions_missing); do
  t_skip "python_beside_tracemalloc_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
py_interpreters | while read -r tag py; do
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

# 3.12 and 3.13 without debug information: pyenv's interpreter run on a
# stripped copy of its libpython (LD_LIBRARY_PATH before its RUNPATH).
# tracemalloc's config is no longer exported there: the shim finds it in
# _PyRuntime (layout.c's row), and the site is Python/tracemalloc.c:0.
for v in 3.12 3.13; do
  py=$(py_interpreters | awk -v v="$v" '$1 == "pyenv-" v {print $2}')
  lib=${py%/bin/*}/lib/libpython$v.so.1.0
  if [ -z "$py" ] || [ ! -f "$lib" ]; then
    t_skip "python_beside_tracemalloc_stripped_$v" "no pyenv CPython $v with a shared libpython here"; continue
  fi
  d=$T/stripped-$v; mkdir -p "$d/lib"
  if ! strip -o "$d/lib/libpython$v.so.1.0" "$lib" 2>"$d/strip.err"; then
    t_fail "python_beside_tracemalloc_stripped_$v" "strip: $(head -c 200 "$d/strip.err")"; continue
  fi
  cp tests/shim/python/beside_tm.py "$d/beside.py"
  LD_LIBRARY_PATH="$d/lib" "$HEAPSNAP" run -q -o "$d/b.%p.hsnap" -- "$py" "$d/beside.py" >"$d/out" 2>"$d/err"
  want=$(sed -n 's/^tracemalloc: count=//p' "$d/out")
  "$HEAPSNAP" top "$d"/b.*.hsnap -n 0 >"$d/top" 2>"$d/top.err"
  got=$(sed -n "s/^.*beside.py:$line: size=.*, count=\([0-9,]*\),.*/\1/p" "$d/top" | tr -d ,)
  if ! grep -q "no debug information in libpython$v" "$d/top.err"; then
    t_fail "python_beside_tracemalloc_stripped_$v" "the copy has debug information: $(head -c 200 "$d/top.err")"
  elif [ -n "$want" ] && [ -n "$got" ] && [ "$got" -ge "$want" ] && [ "$got" -le $((want + 20)) ] &&
     grep -qE "^Python/tracemalloc.c:0: " "$d/top"; then
    t_pass "python_beside_tracemalloc_stripped_$v"
  else
    t_fail "python_beside_tracemalloc_stripped_$v" "tracemalloc counts $want, top $got: $(head -4 "$d/top" | tr '\n' '|') $(tail -c 200 "$d/err")"
  fi
done

# The gate passes on a clean program that stops tracemalloc: CPython's own
# leak there is suppressed by heapsnap's built-in CPython suppressions,
# which the report names; a clean program lists no stale built-in one.
py_interpreters | while read -r tag py; do
  "$HEAPSNAP" run --gate -o "$T/s-$tag.%p.hsnap" -- "$py" tests/shim/python/tmstop.py \
    >"$T/s-$tag.out" 2>&1
  v=$("$py" -c 'import sys; print(sys.version_info[1])')
  if ! grep -q "^heapsnap gate: PASS" "$T/s-$tag.out"; then
    t_fail "python_gate_tracemalloc_stop_$tag" "$(grep -E 'gate|FAIL|lost' "$T/s-$tag.out" | head -5)"
  elif [ "$v" -le 12 ] && ! grep -q "matched: .*(heapsnap's built-in CPython suppressions:" "$T/s-$tag.out"; then
    t_fail "python_gate_tracemalloc_stop_$tag" "the built-in suppressions are not named: $(grep -A3 SUPP "$T/s-$tag.out")"
  elif grep -q "stale: .*built-in CPython" "$T/s-$tag.out"; then
    t_fail "python_gate_tracemalloc_stop_$tag" "a stale built-in suppression is listed"
  else
    t_pass "python_gate_tracemalloc_stop_$tag"
  fi
done
