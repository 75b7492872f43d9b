# test_python_workers_every_version.sh - forked Pool workers on every
# supported CPython found: test_python_workers runs the pools (fork and
# spawn, closed and terminated) on Debian's python3; here each other
# interpreter (pyenv's 3.10-3.13) runs tests/shim/python/pool.py's "fork
# both" under `heapsnap run`: a `with` pool (its workers ended by SIGTERM),
# then a pool closed and joined (its workers leave through os._exit).
# Each of the 4 workers leaves its own snapshot whose peak's top line is
# the worker's, no state file is left, and run names every file.  Spawned
# workers are fresh interpreters that end as any program does (the exit
# tests cover that per version), and cost seconds each: Debian's only.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_workers_every_version_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
work=$(py_line tests/shim/python/pool.py MARK_WORK)
ran=0
while read -r tag py; do
  [ "$tag" = debian ] && continue  # test_python_workers'
  ran=$((ran + 1))
  d=$T/$tag && mkdir -p "$d"
  "$HEAPSNAP" run -o "$d/p.%p.hsnap" -- "$py" tests/shim/python/pool.py fork both >/dev/null 2>"$d.err"
  at=0 n=0
  for f in "$d"/*.hsnap; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    # 9-13 MiB at the worker's line (the stepped capture is within 1% or ~440 KiB;
    # under 10 MiB top prints KiB)
    "$HEAPSNAP" top --peak -n 1 "$f" 2>/dev/null | grep -Eq "pool\.py:$work: size=(9[2-9][0-9]{2} KiB|10[0-2][0-9]{2} KiB|1[0-2]\.[0-9] MiB)" && at=$((at + 1))
  done
  listed=$(grep -c '^heapsnap: wrote ' "$d.err")
  if [ "$at" = 4 ] && [ "$n" = 5 ] && ! ls "$d" | grep -q '\.state$' && [ "$listed" = "$n" ]; then
    t_pass "python_workers_every_version_fork_pools_each_worker_writes_$tag"
  else t_fail "python_workers_every_version_fork_pools_each_worker_writes_$tag" "$at of 4 workers at pool.py:$work, $n files ($listed listed): $(ls "$d" | tr '\n' ' ') $(head -c 300 "$d.err")"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then
  t_skip python_workers_every_version "no CPython here beyond Debian's python3 (test_python_workers')"
fi
