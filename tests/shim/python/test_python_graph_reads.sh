# test_python_graph_reads.sh - the snapshot that builds the Python objects'
# graph reads their memory a window at a time (pyread.c), not a block a
# system call: between a run with 10,000 objects and one with 110,000
# (graph_peak.py: instances each holding a list), the process_vm_readv
# calls (counted by strace, both runs' snapshots together) grow by fewer
# than one per 100 objects added.  Reading each block and each item array
# or values array by its own call grew them by about two an object.  On
# Debian's python3 and the first pyenv CPython found; the snapshot must
# hold the graph (info's "python objects" line).
. tests/shim/python/lib_py.sh

command -v strace >/dev/null || { t_skip python_graph_reads_batched "strace not installed (scripts/install-deps.sh)"; exit 0; }
strace -f -qq -o /dev/null true 2>/dev/null || { t_skip python_graph_reads_batched "strace cannot trace here (ptrace refused)"; exit 0; }

# calls PY N: process_vm_readv calls of one run with N objects, or "".
calls() {
  local py=$1 n=$2 s=$T/g-$n.hsnap
  rm -f "$s"
  HEAPSNAP_PYTHON_OBJECTS=10000000 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/exit.%p.hsnap" \
    strace -f -qq -e trace=process_vm_readv -c -o "$T/strace-$n.txt" \
    "$py" tests/shim/python/graph_peak.py "$s" "$n" >"$T/run-$n.out" 2>&1 || return 0
  "$HEAPSNAP" info "$s" 2>/dev/null | grep -Eq '^python objects: +[0-9]{5}' || return 0
  awk '$NF == "process_vm_readv" { print $4 }' "$T/strace-$n.txt"
}

n=0
while read -r tag py; do
  case "$tag" in debian) ;; pyenv-*) [ "$n" = 0 ] || continue ;; *) continue ;; esac
  [ "$tag" = debian ] || n=1
  small=$(calls "$py" 10000) big=$(calls "$py" 110000)
  if [ -n "$small" ] && [ -n "$big" ] && [ $((big - small)) -lt 1000 ]; then
    t_pass "python_graph_reads_batched_$tag"
  else t_fail "python_graph_reads_batched_$tag" "calls: ${small:-none} with 10000 objects, ${big:-none} with 110000 $(tail -c 300 "$T/run-110000.out")"; fi
done < <(py_interpreters)
