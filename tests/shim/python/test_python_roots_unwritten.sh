# test_python_roots_unwritten.sh - the roots' scan of static data reads
# no page the process never wrote (pyroot_page_unwritten: zeros, or the
# file's bytes), and still names what a written page holds.  unwritten.c
# (a library loaded with ctypes) has 8 MiB of .bss zeros never written
# and a C global that alone holds an UnwrittenHeld: after a snapshot
# taken through the shim's API, fewer than 16 of the zeros' 2,048 pages
# may be present in /proc/self/pagemap (before: every one, mapped by the
# scan's reads; another read of the snapshot, 8,216 bytes near the zeros'
# end, not traced further, still maps 2-3 here), and `top --retainers`
# must name the object "static data of libunwritten.so (unwritten_held)".  On every CPython 3.10-3.15
# found; a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_roots_unwritten_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
if ! t_build "$T/libunwritten.so" tests/shim/python/unwritten.c -shared -fPIC 2>"$T/cc.err"; then
  t_fail python_roots_unwritten_build "$(head -c 300 "$T/cc.err")"
fi
while read -r tag py; do
  [ -f "$T/libunwritten.so" ] || break
  s=$T/s-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" tests/shim/python/unwritten_user.py "$T/libunwritten.so" "$s" || [ ! -s "$s" ]; then
    t_fail "python_roots_unwritten_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  after=$(sed -n 's/^snapshot 0 pages present before 0 after \([0-9]*\) of 2048$/\1/p' "$T/run-$tag.out")
  if [ -n "$after" ] && [ "$after" -lt 16 ]; then
    t_pass "python_exit_roots_skip_unwritten_pages_$tag"
  else t_fail "python_exit_roots_skip_unwritten_pages_$tag" "$(head -c 300 "$T/run-$tag.out")"; fi
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>&1
  if grep -Eq '^    1 object: static data of libunwritten\.so \(unwritten_held\) \(__main__\.UnwrittenHeld\)$' "$T/r-$tag.txt"; then
    t_pass "python_roots_written_static_still_named_$tag"
  else t_fail "python_roots_written_static_still_named_$tag" "$(grep -A2 UnwrittenHeld "$T/r-$tag.txt" | head -3 | tr '\n' '|')"; fi
done < <(py_interpreters)
