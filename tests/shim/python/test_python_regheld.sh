# test_python_regheld.sh - a reference another thread holds only in a
# register while it blocks in a system call is seen by the Python pass
# of a leak check: the stop keeps the stopped threads' registers past
# the resume (keptregs.c) and pyleakref.c's word counts and pyroots.c's
# C stack roots read a blocked thread's while it still waits where it
# was stopped.  regheld.c (a C extension built against each
# interpreter's headers) holds a RegHeld in r12 alone during a raw read;
# regheld_user.py ends with the thread in it; the exit snapshot's leak
# check must not call it a leaked reference ("refcount 1, 0 references
# found", as before), and `top --retainers` names its holder "C stack of
# thread TID (a register)".  On every CPython 3.10-3.15 found (a SKIP
# line names each one absent).
. tests/shim/python/lib_py.sh

src=tests/shim/python/regheld.c user=tests/shim/python/regheld_user.py
for v in $(py_versions_missing); do
  t_skip "python_regheld_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  inc=$(py_include "$py")
  suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
  if [ ! -f "$inc/Python.h" ]; then
    t_skip "python_regheld_$tag" "no Python.h for $py (python3-dev, or a pyenv build)"; continue
  fi
  mkdir -p "$T/rh-$tag"
  if ! t_build "$T/rh-$tag/regheld$suffix" $src -shared -fPIC -O1 -I"$inc" $(py_incafter "$py") 2>"$T/cc-$tag.err"; then
    t_fail "python_regheld_build_$tag" "$(head -c 300 "$T/cc-$tag.err")"; continue
  fi
  rm -f "$T"/exit.*.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $user "$T/rh-$tag" ||
     [ "$(cat "$T/run-$tag.out")" != blocked ]; then
    t_fail "python_regheld_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" top "$s" --key type -n 0 >"$T/t-$tag.txt" 2>&1
  "$HEAPSNAP" leaks "$s" >"$T/l-$tag.txt" 2>&1
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>&1
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/g-$tag.txt" 2>&1
  if grep -q '^__main__.RegHeld: .*count=1,' "$T/t-$tag.txt" && ! grep -q RegHeld "$T/l-$tag.txt" &&
     ! grep -q RegHeld "$T/g-$tag.txt"; then
    t_pass "python_regheld_register_only_reference_not_leaked_$tag"
  else t_fail "python_regheld_register_only_reference_not_leaked_$tag" "$(grep -h -B1 RegHeld "$T/t-$tag.txt" "$T/l-$tag.txt" "$T/g-$tag.txt" | tr '\n' '|' | head -c 400)"; fi
  if grep -Eq '^    1 object: C stack of thread [0-9]+ \(a register\) \(__main__\.RegHeld\)$' "$T/r-$tag.txt"; then
    t_pass "python_regheld_register_root_named_$tag"
  else t_fail "python_regheld_register_root_named_$tag" "$(grep -A1 'RegHeld:' "$T/r-$tag.txt" | tr '\n' '|' | head -c 300)"; fi
done < <(py_interpreters)
