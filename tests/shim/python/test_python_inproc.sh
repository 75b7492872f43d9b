# test_python_inproc.sh - heapsnap.take_snapshot() built in the process
# from the shim's tables (heapsnap_dump): no CLI and no file needed, one
# trace per live block as tracemalloc has them, and cumulative statistics
# counted as tracemalloc counts them (a line once per frame of a stack:
# the recursion's line three times, 3.11's list comprehension's line
# twice), compared with real tracemalloc on the same program
# (inproc_user.py) within a few blocks; get_object_traceback.
. tests/shim/python/lib_py.sh

obj=$(py_line tests/shim/python/objtb_user.py MARK_OBJ)
for v in $(py_versions_missing); do
  t_skip "python_inproc_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
py_interpreters | while read -r tag py; do
  d=$T/$tag
  mkdir -p "$d/tmp"
  cp tests/shim/python/inproc_user.py "$d/inproc_user.py"
  "$py" "$d/inproc_user.py" tracemalloc >"$d/tm.out" 2>"$d/tm.err"
  # No CLI anywhere: HEAPSNAP names nothing, PATH has no heapsnap.
  env PATH=/usr/bin:/bin HEAPSNAP=/nonexistent/heapsnap TMPDIR="$d/tmp" PYTHONPATH="$PWD/python" \
    LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" \
    "$py" "$d/inproc_user.py" heapsnap >"$d/hs.out" 2>"$d/hs.err"
  if grep -qx "blocks of the bytearrays: 300 one block each: True" "$d/hs.out" &&
     [ -z "$(ls -A "$d/tmp")" ]; then
    t_pass "python_inproc_one_trace_per_block_no_cli_$tag"
  else
    t_fail "python_inproc_one_trace_per_block_no_cli_$tag" \
      "$(head -c 300 "$d/hs.out") $(tail -c 300 "$d/hs.err") tmp: $(ls "$d/tmp")"
  fi
  # cumulative LINE: N KiB, count C: the same lines, counts within 4 blocks
  if "$py" - "$d/hs.out" "$d/tm.out" >"$d/why" 2>&1 <<'PY'
import re, sys
def rows(p):
    return {m[0]: (int(m[1]), int(m[2])) for m in
            re.findall(r"cumulative (\d+): (\d+) KiB, count (\d+)", open(p).read())}
hs, tm = rows(sys.argv[1]), rows(sys.argv[2])
ok = hs.keys() == tm.keys() and len(tm) >= 3 and all(
    abs(hs[k][1] - tm[k][1]) <= 4 and abs(hs[k][0] - tm[k][0]) <= 16 for k in tm)
print("heapsnap", hs, "tracemalloc", tm)
sys.exit(0 if ok else 1)
PY
  then t_pass "python_inproc_cumulative_counts_as_tracemalloc_$tag"
  else t_fail "python_inproc_cumulative_counts_as_tracemalloc_$tag" "$(cat "$d/why") $(tail -c 200 "$d/hs.err")"; fi
  # get_object_traceback: each kind of object at its line (tracemalloc
  # 3.11's misses the objects with a pre-header: Debian's 3.11.2 prints
  # None for them), an object of before start() None.
  cp tests/shim/python/objtb_user.py "$d/objtb_user.py"
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" \
    "$py" "$d/objtb_user.py" heapsnap >"$d/objtb.out" 2>"$d/objtb.err"
  if [ "$(grep -c "objtb_user.py\", line $obj\$" "$d/objtb.out")" = 4 ] &&
     grep -qx "untraced None" "$d/objtb.out"; then
    t_pass "python_inproc_get_object_traceback_$tag"
  else
    t_fail "python_inproc_get_object_traceback_$tag" "$(head -c 600 "$d/objtb.out") $(tail -c 300 "$d/objtb.err")"
  fi
  # Snapshot.dump() and load() of an in-process snapshot, natives whole
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" \
    "$py" tests/shim/python/dump_user.py "$d/s.pickle" >"$d/dump.out" 2>"$d/dump.err"
  b=$(sed -n 's/^before //p' "$d/dump.out")
  if [ -n "$b" ] && grep -qxF "after $b" "$d/dump.out" && grep -qx "natives True True" "$d/dump.out"; then
    t_pass "python_inproc_dump_and_load_keep_natives_$tag"
  else
    t_fail "python_inproc_dump_and_load_keep_natives_$tag" "$(head -c 300 "$d/dump.out") $(tail -c 300 "$d/dump.err")"
  fi
  # get_traced_memory(): what was allocated since start(), as tracemalloc
  # prints it (frees of older blocks do not lower it; peak, reset_peak,
  # clear_traces, stop).
  "$py" tests/shim/python/traced_user.py tracemalloc >"$d/traced.want" 2>&1
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" \
    "$py" tests/shim/python/traced_user.py heapsnap >"$d/traced.out" 2>&1
  t_golden "python_inproc_traced_memory_since_start_$tag" "$d/traced.want" "$d/traced.out"
done

# Snapshot.load of a .hsnap: the program's line, through the CLI's
# `export --format tracemalloc-binary` (--python-only unless native=True).
data=$(py_line tests/shim/python/load_user.py MARK_DATA)
PYTHONPATH="$PWD/python" HEAPSNAP="$HEAPSNAP" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/load.%p.hsnap" \
  /usr/bin/python3 tests/shim/python/load_user.py "$T/load.hsnap" >"$T/load.out" 2>"$T/load.err"
printf 'line %s: 500 blocks or more, 1.5 MB or more: True\n%s\n%s\n%s\n%s\n%s\n' "$data" \
  'native frames in Python traces: False' 'native frames in Python traces, native=True: True' \
  'same statistics: True' 'same traces as the plain lines: True' \
  'one trace per live block: True' >"$T/load.want"
t_golden python_inproc_snapshot_load "$T/load.want" "$T/load.out"

# stop() stops the shim: a block allocated while stopped is in no snapshot;
# get_traced_memory() is (0, 0) after stop() and counts from start()
# (a bytearray of n bytes is a block of n + 1).
py=/usr/bin/python3
PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/stop.%p.hsnap" \
  "$py" tests/shim/python/stop_user.py >"$T/stop.out" 2>"$T/stop.err"
cat >"$T/stop.want" <<WANT
after stop (0, 0) False
big blocks [$(((3 << 20) + 1))]
traced since start >= 3 MiB True peak >= current True
WANT
t_golden python_inproc_stop_stops_recording "$T/stop.want" "$T/stop.out"

# CPython older than 3.10 (native frames only): start() refuses, clearly.
old=$(py_old_interpreters | awk '$1 ~ /^3\./ {print $2}' | tail -1)
if [ -z "$old" ]; then
  t_skip python_inproc_old_python_refused "no pyenv CPython 3.6-3.9 here"
else
  PYTHONPATH="$PWD/python" LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/old.%p.hsnap" \
    "$old" -c 'import heapsnap; heapsnap.start()' >"$T/old.out" 2>&1
  grep -q "RuntimeError: heapsnap: Python frames need CPython 3.10 or later" "$T/old.out" &&
    t_pass python_inproc_old_python_refused || t_fail python_inproc_old_python_refused "$(tail -c 400 "$T/old.out")"
fi
