# test_python_clean_numpy.sh - numpy keeps an array's buffer info (made
# when the array exports a buffer: a memoryview, a Cython typed
# memoryview as pandas and numpy.random use) at its address + 3 (numpy's
# buffer_info_tag), so the only reference to it is an interior one:
# "possibly lost" at the program's line, 336 bytes in 6 blocks after
# `import numpy, pandas`.  heapsnap's built-in suppressions name it
# (numpy's, possible only): `leaks` reads nothing possibly lost and lists
# the suppression that matched, alone.  Debian's python3 with
# python3-numpy; a SKIP line otherwise.
. tests/shim/python/lib_py.sh

py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
  t_skip python_numpy_buffer_info_not_possibly_lost "no numpy for $py (apt install python3-numpy)"
  exit 0
fi
"$HEAPSNAP" run --leaks -q -o "$T/n.%p.hsnap" -- "$py" \
  -c 'import numpy; a = numpy.arange(3); m = memoryview(a); m.release()' >"$T/run.out" 2>&1
"$HEAPSNAP" leaks "$T"/n.*.hsnap >"$T/leaks.txt" 2>/dev/null
if grep -q '^ *possibly lost: 0 bytes in 0 blocks' "$T/leaks.txt" &&
   grep -q '^ *direct: 0 bytes in 0 blocks' "$T/leaks.txt" &&
   grep -q "matched: numpy .*buffer_info_tag.*(heapsnap's built-in CPython suppressions:" "$T/leaks.txt" &&
   ! grep -q "stale: .*built-in CPython" "$T/leaks.txt"; then
  t_pass python_numpy_buffer_info_not_possibly_lost
else
  t_fail python_numpy_buffer_info_not_possibly_lost "$(grep -E 'possibly|direct|matched|stale' "$T/leaks.txt" | tr '\n' '|') $(tail -c 200 "$T/run.out")"
fi
