# test_python_domains.sh - tracemalloc's domains through `import heapsnap
# as tracemalloc`: a C extension's blocks tracked with PyTraceMalloc_Track
# (pyext.c: numpy's domain 389047 from its init and later, another domain)
# are in those domains, DomainFilter picks them, PyTraceMalloc_Untrack
# takes them out: the lines real tracemalloc prints (domain_user.py), on
# every CPython 3.10-3.15 found.  Debian's python3 is a static build whose
# executable defines PyTraceMalloc_Track (the shim reaches the calls
# through the extensions' GOT entries, pytrack.c).  And numpy's own arrays
# (Debian's python3-numpy) in domain 389047 at their lines.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_domains_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

py_interpreters | while read -r tag py; do
  if ! dir=$(py_ext_build "$py"); then
    t_fail "python_domains_builds_$tag" "cannot build pyext.c for $py (python3-dev)"; continue
  fi
  "$py" tests/shim/python/domain_user.py tracemalloc "$dir" >"$T/tm-$tag.out" 2>&1
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/x-$tag.%p.hsnap" \
    "$py" tests/shim/python/domain_user.py heapsnap "$dir" >"$T/hs-$tag.out" 2>&1
  if grep -q "domain 389047 domain_user.py" "$T/tm-$tag.out"; then
    t_golden "python_domains_as_tracemalloc_$tag" "$T/tm-$tag.out" "$T/hs-$tag.out"
  else
    t_fail "python_domains_as_tracemalloc_$tag" "tracemalloc printed: $(head -c 300 "$T/tm-$tag.out")"
  fi
done

py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
  t_skip python_domains_numpy_arrays "Debian's python3-numpy is not installed"
else
  "$py" tests/shim/python/numpy_domain.py tracemalloc >"$T/np-tm.out" 2>&1
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/np.%p.hsnap" \
    "$py" tests/shim/python/numpy_domain.py heapsnap >"$T/np-hs.out" 2>&1
  if grep -q "^domain 389047 line" "$T/np-tm.out"; then
    t_golden python_domains_numpy_arrays "$T/np-tm.out" "$T/np-hs.out"
  else
    t_fail python_domains_numpy_arrays "tracemalloc printed: $(head -c 300 "$T/np-tm.out")"
  fi
fi
