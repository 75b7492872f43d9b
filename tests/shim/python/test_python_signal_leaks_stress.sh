# test_python_signal_leaks_stress.sh - every snapshot reads: 50 --leaks signal
# snapshots of a Python program whose threads free and make blocks anew
# without a pause (sigleaks_threads.py), taken while two busy loops load the
# machine, and every command (info, top, top --retained, leaks, leaks --why,
# diff with the one before) reads every file with exit 0 and no warning.
# The leak check's fork wrote BLOCKS from its image while the objects' pass
# walked the running table: a block made anew at an address had another
# size, and PYRETAIN's retained size fell below BLOCKS' own (the writer now
# types BLOCKS as written, snap_run.written).  One interpreter (Debian's,
# else the first), about a minute.
# serial: two busy loops load every core it has
. tests/shim/python/lib_py.sh

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(py_interpreters | head -1 | cut -d' ' -f2)
if [ -z "$PY" ]; then t_skip python_signal_leaks_stress "no CPython 3.10-3.13 here"; return 0; fi
N=${STRESS_SNAPSHOTS:-50}
prog=tests/shim/python/sigleaks_threads.py
churn=$(py_line $prog MARK_CHURN)
d=$T/stress && mkdir -p "$d"
busy=""
for i in 1 2; do (while :; do :; done) & busy="$busy $!"; done
HEAPSNAP_OUTPUT="$d/s.%n.hsnap" HEAPSNAP_SIGNAL=USR2 HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM \
  "$PY" $prog 300 >"$d/out" 2>"$d/err" & pid=$!
for i in $(seq 1 200); do grep -q ready "$d/out" 2>/dev/null && break; sleep 0.1; done
taken=0
for i in $(seq 1 "$N"); do
  kill -USR2 "$pid" 2>/dev/null || break
  for k in $(seq 1 300); do # a snapshot at a time: the signal waits for none
    [ "$(ls "$d" | grep -c '^s\..*\.hsnap$')" -gt "$taken" ] && break
    sleep 0.05
  done
  taken=$(ls "$d" | grep -c '^s\..*\.hsnap$')
done
kill -TERM "$pid" 2>/dev/null; wait "$pid"
kill $busy 2>/dev/null; wait $busy 2>/dev/null
# the first N: the signals' (SIGTERM's own snapshot, if any, comes after,
# with the threads gone)
files=$(ls "$d" | grep '^s\..*\.hsnap$' | sort -t. -k2 -n | head -n "$N" | sed "s|^|$d/|")
bad="" prev="" n=0
for f in $files; do
  n=$((n + 1))
  for cmd in "info" "top" "top --retained" "leaks" "leaks --why sigleaks_threads.py:$churn"; do
    "$HEAPSNAP" $cmd "$f" >/dev/null 2>"$d/cmd.err" && ! grep -q 'warning: .*section' "$d/cmd.err" ||
      bad="$bad ${f##*/}($cmd: $(head -c 160 "$d/cmd.err" | tr '\n' ' '))"
  done
  if [ -n "$prev" ]; then
    "$HEAPSNAP" diff "$prev" "$f" >/dev/null 2>"$d/cmd.err" && ! grep -q 'warning: .*section' "$d/cmd.err" ||
      bad="$bad ${f##*/}(diff: $(head -c 160 "$d/cmd.err" | tr '\n' ' '))"
  fi
  prev=$f
done
if [ "$n" -ge "$N" ] && [ -z "$bad" ]; then t_pass python_signal_leaks_snapshots_all_read_under_load
else t_fail python_signal_leaks_snapshots_all_read_under_load "$n of $N files; refused:$(echo "$bad" | head -c 600)"; fi
