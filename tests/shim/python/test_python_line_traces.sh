# test_python_line_traces.sh - a Python frame is keyed by its line, not
# its instruction (code.c's struct pyfr_lines), as tracemalloc keys it: 40
# bytearrays made by 40 call instructions on one line add under a quarter of
# the traces the same 40 calls on 40 lines add (78 or more: an object and a
# buffer a line) over one call there (linetraces.py; `heapsnap info`'s
# traces, PYTHONHASHSEED=0 so that the start-ups match).  Debian's 3.11: 9
# and 87; keyed by instruction, 92 and 92.  The lines stay exact: `top`
# charges the 40 lines' blocks to 40 lines (the list's line 1 aside), and
# the one line's to that line.  On every CPython 3.10-3.15 found.
#   The start-ups do not always match: under load sid's 3.14 now and then
# skips some of its import machinery's work (zipimporter's look at the
# script, a path hook's stats: ~28 allocations, 27 traces fewer), which
# made `single` read 1,806 where it reads 1,833, and the one line 41
# traces over it (3 runs of ~214).  Such a run is always the lower, so each
# count is the larger of two runs.
. tests/shim/python/lib_py.sh

traces() {
  local best=
  for k in 1 2; do
    PYTHONHASHSEED=0 HEAPSNAP_STATE=0 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/$1-$2-$k.hsnap" \
      "$3" -S tests/shim/python/linetraces.py "$2" >/dev/null 2>&1
    n=$("$HEAPSNAP" info "$T/$1-$2-$k.hsnap" 2>/dev/null | awk '$1 == "traces:" { print $2 }')
    if [ -n "$n" ] && { [ -z "$best" ] || [ "$n" -gt "$best" ]; }; then
      best=$n
      cp "$T/$1-$2-$k.hsnap" "$T/$1-$2.hsnap"
    fi
  done
  echo "$best"
}

while read -r tag py; do
  one=$(traces "$tag" one "$py")
  single=$(traces "$tag" single "$py")
  lines=$(traces "$tag" lines "$py")
  if [ -z "$one" ] || [ -z "$single" ] || [ -z "$lines" ]; then
    t_fail "python_one_line_one_trace_$tag" "no snapshot: one '$one' single '$single' lines '$lines'"
    continue
  fi
  # The compile of a longer source makes a few native stacks of its own
  # (9 on Debian's 3.11): the one line may add a quarter of what 40 add.
  if [ $((lines - single)) -ge 78 ]; then t_pass "python_lines_apart_traces_apart_$tag"
  else t_fail "python_lines_apart_traces_apart_$tag" "40 calls on 40 lines: $lines traces, one call: $single"; fi
  if [ $((4 * (one - single))) -lt $((lines - single)) ]; then t_pass "python_one_line_one_trace_$tag"
  else t_fail "python_one_line_one_trace_$tag" "40 calls on one line: $one traces, on 40 lines: $lines, one call: $single"; fi
  n=$("$HEAPSNAP" top "$T/$tag-lines.hsnap" -n 0 --include 'linetraces-made' 2>/dev/null |
      grep -Ev '^linetraces-made:1:' | grep -Ec '^linetraces-made:[0-9]+: size=[0-9]+ B, count=[23],')
  m=$("$HEAPSNAP" top "$T/$tag-one.hsnap" -n 0 --include 'linetraces-made' 2>/dev/null |
      grep -Ec '^linetraces-made:1: size=[0-9]+ B, count=8[0-9],')
  if [ "$n" -eq 40 ] && [ "$m" -eq 1 ]; then t_pass "python_line_keyed_lines_exact_$tag"
  else t_fail "python_line_keyed_lines_exact_$tag" "lines with a bytearray: $n of 40; the one line: $m"; fi
done < <(py_interpreters)
