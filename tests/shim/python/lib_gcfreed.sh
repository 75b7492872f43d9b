# lib_gcfreed.sh - the collector tests' shared run (sourced after
# lib_py.sh): gcpairs.py under the shim, with a known count of objects the
# cycle collector frees (600) at a known line (GC_PAIR_LINE).

# py_gc_interpreters: py_interpreters whose collector the shim watches
# (3.10-3.15: pygcfreed.c reads the stats just before gc.collecting, or
# 3.15's behind the pointer there).
# py_gc_skips NAME: a SKIP line NAME_TAG for each other one, saying why
# (none now: kept for a version to come).
py_gc_interpreters() {
  py_interpreters
}
py_gc_skips() {
  :
}

GC_PAIRS=tests/shim/python/gcpairs.py
GC_PAIR_LINE=$(py_line $GC_PAIRS '# PAIR')

# gc_pairs_run PY OUT [FIFO]: PY runs gcpairs.py under the shim, its
# snapshots named OUT (HEAPSNAP_OUTPUT), stderr in $T/gcpairs.err.  With
# FIFO, the program writes 1 there after its collection and waits to be
# killed: it runs in the background, its pid in gc_pairs_pid.
gc_pairs_run() {
  local py=$1 out=$2 fifo=${3:-}
  if [ -z "$fifo" ]; then
    LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT=$out "$py" $GC_PAIRS 2>"$T/gcpairs.err"
  else
    LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT=$out "$py" $GC_PAIRS "$fifo" 2>"$T/gcpairs.err" &
    gc_pairs_pid=$!
  fi
}
