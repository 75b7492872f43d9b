# test_python_snapshot_blocks.sh - a snapshot's traces are arrays
# (_blocks.Blocks): take_snapshot() makes a few Python objects per
# traceback, none per live block (it made a tuple and an int a block,
# tracemalloc's list: most of the snapshot's peak on numpy+pandas); and
# Snapshot.load of the .hsnap written at the same moment has one trace per
# live block (the export's BLOCKS, tracemalloc-binary's HSTMB2) whose
# statistics and traces equal the process's (it had a trace per traceback
# with summed sizes).  snapblocks.py with start(1) and start(5) on Debian's
# python3, with start(1) on 3.12 (the other frame model): the logic is the
# package's, the same on every version.
. tests/shim/python/lib_py.sh
py_interpreters | grep -q '^pyenv-3.12 ' ||
  t_skip python_snapshot_blocks_3.12 "no pyenv CPython 3.12 here (pyenv install 3.12)"
py_interpreters | while read -r tag py; do
  case "$tag" in debian) modes="1 5" ;; pyenv-3.12) modes=1 ;; *) continue ;; esac
  for n in $modes; do
    d=$T/$tag.$n
    mkdir -p "$d"
    PYTHONPATH="$PWD/python:$PWD/tests/shim/python" HEAPSNAP="$HEAPSNAP" LD_PRELOAD="$SHIM" \
      HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" "$py" tests/shim/python/snapblocks.py "$d/s.hsnap" "$n" \
      >"$d/out" 2>"$d/err"
    why="$(head -c 400 "$d/out") $(tail -c 300 "$d/err")"
    if grep -q '^objects per block under 1/8: True' "$d/out"; then
      t_pass "python_snapshot_no_object_per_block_${tag}_nframe$n"
    else t_fail "python_snapshot_no_object_per_block_${tag}_nframe$n" "$why"; fi
    if grep -qx "loaded statistics equal the process's: True" "$d/out" &&
       grep -qx "loaded traces equal the process's, one per block: True" "$d/out"; then
      t_pass "python_load_one_trace_per_block_as_the_process_${tag}_nframe$n"
    else t_fail "python_load_one_trace_per_block_as_the_process_${tag}_nframe$n" "$why"; fi
  done
done
