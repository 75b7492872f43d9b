# test_attach_python_lines.sh - after heapsnap attach on a running CPython
# (every supported one here, the Debian roots' included), what Python code
# allocates is charged to its Python line as in a run from the start, and
# what the program held before the attach (100,000 dicts and lists, a
# model's weights) is no site of the session (it was: booked at
# Py_InitializeFromConfig, the top site of a training loop's window).
# pyloop.py: the count at the loop's line after the attach is
# tracemalloc's from the start (-X tracemalloc, the program's own answer),
# within 1% (a free list's object older than the wrap, reused, is none of
# ours), with the program's first allocations after the attach made by
# pymalloc alone (the wrap waited for a malloc: 134 fewer); an attach
# --duration in the middle of its training loop names the loop's line first.
# tier: full (each CPython here started three times: a few minutes)
. tests/shim/attach/lib_attach.sh
. tests/shim/python/lib_py.sh
src=tests/shim/attach/pyloop.py
line=$(grep -n 'STEP_LINE$' "$src" | cut -d: -f1)
while read -r tag py; do
  name=$(echo "$tag" | tr .- __)
  # the truth: tracemalloc from the start, the program's own count
  read -r _ want_n want_b < <(printf 'a\nq\n' | "$py" -X tracemalloc "$src" 2>/dev/null | grep '^made')
  at_start "$py" "$src"
  echo w >&7                         # in select(), not read(): no malloc to come first
  at_attach; a=$?
  at_cmd go                          # w's answer
  at_detach
  at_end
  "$HEAPSNAP" top "$(at_snap)" -n 3 >"$T/top.txt" 2>/dev/null
  got_n=$(sed -n "s|^$src:$line: size=.*, count=\([0-9]*\),.*|\1|p" "$T/top.txt")
  first=$(head -1 "$T/top.txt")
  if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ -n "$got_n" ] && [ -n "$want_n" ] &&
     [ "$want_n" -ge 8000 ] && [ $((got_n * 100)) -ge $((want_n * 99)) ] &&
     [ "$got_n" -le "$want_n" ] && [ "${first%%:*}" = "$src" ]; then
    t_pass "attach_python_${name}_charges_tracemallocs_count_to_the_line"
  else t_fail "attach_python_${name}_charges_tracemallocs_count_to_the_line" "attach $a detach $AT_DETACH_RC: count $got_n, tracemalloc's $want_n: $(head -c 300 "$T/top.txt") $(head -c 200 "$T/attach.err")"; fi

  # a training loop running at the attach, and an attach --duration
  at_start "$py" "$src"
  echo l >&7
  timeout 120 "$HEAPSNAP" attach "$AT_PID" --duration 2 -o "$AT_DIR/%p.hsnap" >"$T/attach.out" 2>"$T/attach.err"; a=$?
  at_cmd s                           # the loop's answer
  at_read                            # the stop's
  at_end
  "$HEAPSNAP" top "$(at_snap)" -n 3 >"$T/top.txt" 2>/dev/null
  first=$(head -1 "$T/top.txt")
  if [ "$a" = 0 ] && [ "${first%%: size=*}" = "$src:$line" ] && [ "$AT_STATUS" = 0 ] &&
     printf 'looped\nstopped\nbye\n' | diff - "$T/transcript" >/dev/null; then
    t_pass "attach_python_${name}_duration_names_the_loops_line_first"
  else t_fail "attach_python_${name}_duration_names_the_loops_line_first" "attach $a exit $AT_STATUS: $(head -c 300 "$T/top.txt") $(tr '\n' '|' <"$T/transcript") $(head -c 200 "$T/attach.err")"; fi
done < <(py_interpreters)
for v in $(py_versions_missing); do t_skip "attach_python_lines_$v" "no CPython $v here"; done
