# test_python_pools.sh - pymalloc's objects are kept by place in their pools
# (shim/record/tblpool.c), on every CPython with Python frames: 400,000
# objects cost the shim at most 12 bytes each (4 and the empty places of a
# pool's array; the hash spent 16 and its slack, 19.5 at least), and the
# books stay right: the traced bytes they add are what the interpreter
# holds for them (within 2%), and dropping them takes them all off again.
# No state file: its helper's heartbeat maps a document's buffers for a
# moment, which the shim's memory counts if the reading falls within one
# (13.26 bytes an object once in CI on a loaded machine, 5-7 otherwise).
. tests/shim/python/lib_py.sh

while read -r tag py; do
  out=$(LD_PRELOAD=$SHIM HEAPSNAP_STATE=0 HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" tests/shim/python/pools.py 2>"$T/p-$tag.err")
  per=$(echo "$out" | sed -n 's/^shim_bytes_per_object //p')
  ratio=$(echo "$out" | sed -n 's/^traced_over_expected //p')
  left=$(echo "$out" | sed -n 's/^left_after_drop //p')
  if [ -n "$per" ] && awk -v x="$per" 'BEGIN { exit !(x <= 12) }'; then
    t_pass "python_pool_objects_cost_little_$tag"
  else
    t_fail "python_pool_objects_cost_little_$tag" "shim bytes an object: '$per' $(head -c 200 "$T/p-$tag.err")"
  fi
  if [ -n "$ratio" ] && awk -v x="$ratio" -v l="$left" 'BEGIN { exit !(x >= 0.98 && x <= 1.02 && l < 65536 && l > -65536) }'; then
    t_pass "python_pool_objects_booked_$tag"
  else
    t_fail "python_pool_objects_booked_$tag" "traced over expected '$ratio', left after the drop '$left'"
  fi
done < <(py_interpreters)
while read -r v; do
  t_skip "python_pool_objects_$v" "no CPython $v here"
done < <(py_versions_missing)
