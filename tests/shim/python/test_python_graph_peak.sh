# test_python_graph_peak.sh - the snapshot that builds the Python objects'
# graph grows the process's peak RSS by less than 64 bytes an object:
# with 400,000 objects (graph_peak.py: instances each holding a list),
# the growth of ru_maxrss over the snapshot, divided by the objects the
# snapshot holds (info's "python objects" line).  48-58 bytes now; the
# structures that keep it there are listed in docs/python.md, "Cost of
# the objects' pass" (how each came down is in the git log).
# On Debian's python3 and the first pyenv CPython found.
. tests/shim/python/lib_py.sh

n=0
while read -r tag py; do
  case "$tag" in debian) ;; pyenv-*) [ "$n" = 0 ] || continue ;; *) continue ;; esac
  [ "$tag" = debian ] || n=1
  s=$T/peak-$tag.hsnap
  kib=$(HEAPSNAP_PYTHON_OBJECTS=10000000 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/exit.%p.hsnap" \
    "$py" tests/shim/python/graph_peak.py "$s" 400000 2>"$T/peak-$tag.err")
  objs=$("$HEAPSNAP" info "$s" 2>/dev/null | awk '/^python objects:/ { print $3 + 0 }')
  objs=${objs:-0} per=-1
  case "$kib" in '' | *[!0-9]*) ;; *) [ "$objs" -gt 0 ] && per=$((kib * 1024 / objs)) ;; esac
  if [ "${objs:-0}" -gt 300000 ] && [ "$per" -ge 0 ] && [ "$per" -lt 64 ]; then
    t_pass "python_graph_peak_under_64_bytes_an_object_$tag"
  else t_fail "python_graph_peak_under_64_bytes_an_object_$tag" "growth ${kib:-none} KiB, ${objs:-no} objects, $per bytes an object $(tail -c 300 "$T/peak-$tag.err")"; fi
done < <(py_interpreters)
