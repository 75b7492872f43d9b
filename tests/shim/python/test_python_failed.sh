# test_python_failed.sh - a Python MemoryError's allocation is on record
# (FAILED): the object domain's NULL is counted at the Python line that
# asked (memerror.py:9), by `info` and `top --failed`, for every CPython
# 3.11 on the machine.
. tests/shim/python/lib_py.sh

n=0
while read -r tag py; do
  n=$((n + 1))
  mkdir -p "$T/$tag"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/$tag/x.%p.hsnap" "$py" tests/shim/python/memerror.py \
    >"$T/$tag.out" 2>&1
  snap=$(ls "$T/$tag"/x.*.hsnap 2>/dev/null | head -1)
  if [ -z "$snap" ] || ! grep -q MemoryError "$T/$tag.out"; then
    t_fail "python_failed_site_$tag" "no snapshot or no MemoryError: $(head -c 300 "$T/$tag.out")"
    continue
  fi
  top=$("$HEAPSNAP" top "$snap" --failed 2>/dev/null | head -1)
  info=$("$HEAPSNAP" info "$snap" 2>/dev/null | grep '^failed allocations:')
  if [ "$top" = "tests/shim/python/memerror.py:9: failed=1, largest=1024 GiB" ] &&
     [ "$info" = "failed allocations: 1 at 1 site, largest 1024 GiB (from tests/shim/python/memerror.py:9)" ]; then
    t_pass "python_failed_site_$tag"
  else t_fail "python_failed_site_$tag" "top: '$top'; info: '$info'"; fi
done < <(py_interpreters)
[ $n -gt 0 ] || t_skip python_failed_site "no CPython 3.11 on this machine"
