# test_python_interval_after_exit.sh - no snapshot after the exit one: with
# HEAPSNAP_INTERVAL at 20 ms, the helper's interval snapshot that waited for
# the snapshot lock while a Python program's exit snapshot was written
# (tests/shim/python/objects_thread.py: some 100 ms of it) is not written
# after it, during the interpreter's teardown, where the hooks keep no
# tables (snapshot.c's exit_written): it was, in every run, with no Python
# objects, ending a `trend` series after the exit snapshot.  Two runs on
# Debian's python3: the exit snapshot's sequence is the highest written.
. tests/shim/python/lib_py.sh

ok=0
for k in 1 2; do
  rm -f "$T"/ix*.hsnap
  HEAPSNAP_INTERVAL=0.02 HEAPSNAP_OUTPUT="$T/ix.hsnap" LD_PRELOAD=$SHIM \
    /usr/bin/python3 tests/shim/python/objects_thread.py >"$T/ix.out" 2>"$T/ix.err"
  exit_seq=$("$HEAPSNAP" info "$T/ix.hsnap" 2>/dev/null | sed -n 's/^sequence: *//p')
  top=0 n=0
  for f in "$T"/ix.[0-9]*.hsnap; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    s=$("$HEAPSNAP" info "$f" 2>/dev/null | sed -n 's/^sequence: *//p')
    [ "${s:-0}" -gt "$top" ] && top=$s
  done
  [ -n "$exit_seq" ] && [ "$n" -ge 1 ] && [ "$top" -lt "$exit_seq" ] && ok=$((ok + 1))
done
if [ "$ok" = 2 ]; then
  t_pass python_interval_snapshot_never_after_the_exit_one
else t_fail python_interval_snapshot_never_after_the_exit_one "$ok of 2 runs: exit sequence ${exit_seq:-none}, highest interval one $top of $n $(head -c 200 "$T/ix.err")"; fi
