# tests/shim/leak/test_leak_python_clean.sh - no false leaks in CPython: `run
# --gate -- python -c 'import json'` passes (no direct, indirect or cycle
# leak) on every CPython found: pyenv's 2.7 and 3.6-3.13 and Debian's
# /usr/bin/python3, with or without Python frames (the roots are the
# program's mappings, pymalloc's arenas among them: test_leak_mapped).
# memcheck on each: definitely lost 0.  A version not installed is a SKIP.
# tier: full (CPython under the leak check)

root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for v in 2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13 system; do
  if [ $v = system ]; then py=/usr/bin/python3; name=leak_python_clean_debian_python3
  else py=$(ls -d "$root"/versions/$v.*/bin/python$v 2>/dev/null | tail -1); name=leak_python_clean_$v; fi
  if [ -z "$py" ] || ! [ -x "$py" ]; then t_skip $name "CPython $v is not installed"; continue; fi
  (cd "$T" && "$HEAPSNAP" run --gate -- "$py" -c 'import json' >"$T/py.out" 2>&1)
  rc=$?
  if [ $rc = 0 ] && grep -q '^PASS leaks' "$T/py.out"; then t_pass $name
  else t_fail $name "exit $rc: $(grep -E 'FAIL|direct|error' "$T/py.out" | head -3 | tr '\n' ' ')"; fi
  rm -f "$T"/*.hsnap
done
