# test_python_graph_peak.sh - the snapshot that builds the Python objects'
# graph grows the process's peak RSS by less than 64 bytes an object:
# with 400,000 objects (graph_peak.py: instances each holding a list),
# the growth of ru_maxrss over the snapshot, divided by the objects the
# snapshot holds (info's "python objects" line).  The types' and the
# parents' sections went to the side file before the retained pass, the
# objects' array before the dominators' work, the marking's arrays before
# the parents' links (126-142 bytes an object; without, 177-190); then
# the objects' records made after the graph, PYRETAIN streamed to the
# side file, the successors given back inside the dominators' work and
# the marking's counts in 4 bytes: 120-124.  Then PYTYPES streamed to the
# side file once the graph is built, 16-byte edges and followed blocks
# (pyedge.h), the marking's counts in its via array and the retained
# graph's counted from its edges at its own pass: 101-104 (121-125 before).
# Then 8-byte blocks (address and size; a block's object by its rank,
# struct pyg_rank) and the owners kept for the blocks without an object
# only: 86-89 (101-106 before).  Then the retained sizes' edges packed
# (pyrpack.h), the parents in 16 bytes and 8-byte objects (a block found
# from the ranks): 62-66 (86-89 before).  Then PYOWNED's new blocks
# merged in place, the edges sorted one array at a time with no index
# kept, and 8-byte followed blocks' records: 53-60 (59-66 before).
# Then the graph's edges packed a batch of objects at a time (pyedge.c):
# 48-58 (the stop's peak is then the PYOWNED records and the dominators).
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
