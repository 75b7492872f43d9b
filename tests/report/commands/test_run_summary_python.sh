# tests/report/commands/test_run_summary_python.sh - run's summary of a Python
# program (summary.c's summary_top): the peak's top line is the one `top
# --peak` prints first, found without symbolizing a native frame when a Python
# line is ahead: the run reads no DWARF of the interpreter (libpython is never
# opened by heapsnap itself), which was most of the summary's time; when C
# lines lead (-S), as many native stacks as the answer needs are added.
. tests/shim/python/lib_py.sh

py=""
while read -r tag p; do
  ldd "$p" 2>/dev/null | grep -q 'libpython3' && { py=$p; break; }
done < <(py_interpreters)
if [ -z "$py" ]; then t_skip run_summary_python "no CPython 3.10-3.13 with a shared libpython here"; return 0; fi
if ! command -v strace >/dev/null; then t_skip run_summary_python "strace is not installed"; return 0; fi
mkdir -p "$T/s"
strace -o "$T/open.txt" -e trace=openat,open "$HEAPSNAP" run -o "$T/s/p.hsnap" -- "$py" -c \
  'x = [str(i) * 10 for i in range(100000)]' >/dev/null 2>"$T/s.err"
most=$(sed -n 's/^heapsnap: peak .*; most at \(.*\) (\([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks)$/\1: size=\2, count=\3/p' "$T/s.err")
first=$("$HEAPSNAP" top --peak -n 1 "$T/s/p.hsnap" 2>/dev/null | head -1 | sed 's/, average=.*//')
if [ -n "$most" ] && [ "$most" = "$first" ] && [ "${most%%:*}" = "<string>" ]; then
  t_pass run_summary_python_top_line_as_top_peak
else t_fail run_summary_python_top_line_as_top_peak "summary '$most', top --peak '$first': $(head -c 300 "$T/s.err" | tr '\n' '|')"; fi
if [ -s "$T/open.txt" ] && ! grep -q 'libpython3' "$T/open.txt"; then
  t_pass run_summary_python_line_reads_no_interpreter_symbols
else t_fail run_summary_python_line_reads_no_interpreter_symbols "$(grep libpython "$T/open.txt" | head -3)"; fi
# without site (-S) the start-up's own C lines can be ahead: the native
# stacks are then added until the answer is sure, still top --peak's line
"$HEAPSNAP" run -o "$T/s/n.hsnap" -- "$py" -S -c pass >/dev/null 2>"$T/n.err"
most=$(sed -n 's/^heapsnap: peak .*; most at \(.*\) (\([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks)$/\1: size=\2, count=\3/p' "$T/n.err")
first=$("$HEAPSNAP" top --peak -n 1 "$T/s/n.hsnap" 2>/dev/null | head -1 | sed 's/, average=.*//')
if [ -n "$most" ] && [ "$most" = "$first" ]; then t_pass run_summary_start_up_top_line_as_top_peak
else t_fail run_summary_start_up_top_line_as_top_peak "summary '$most', top --peak '$first'"; fi
# The exit snapshot is read while the program ends (the shim's "last"
# message, summary_preload): a teardown that takes half a second (a
# global's __del__) sees run open the snapshot before it reaps the
# program; one that then puts another snapshot at that path has the
# summary read again, of what the file holds at the end.
"$HEAPSNAP" run -q -o "$T/s/other.hsnap" -- /bin/true 2>/dev/null
strace -o "$T/pre.txt" -e trace=openat,waitid "$HEAPSNAP" run -o "$T/s/pre.hsnap" -- "$py" -c '
import time
class Slow:
    def __del__(self):
        time.sleep(0.5)
slow = Slow()
x = [str(i) * 10 for i in range(100000)]' >/dev/null 2>"$T/pre.err"
opened=$(grep -n 'pre\.hsnap"' "$T/pre.txt" | head -1 | cut -d: -f1)
reaped=$(grep -n 'CLD_EXITED' "$T/pre.txt" | head -1 | cut -d: -f1)
if [ -n "$opened" ] && [ -n "$reaped" ] && [ "$opened" -lt "$reaped" ] &&
   grep -q '^heapsnap: peak .*; most at <string>:' "$T/pre.err"; then
  t_pass run_summary_reads_the_exit_snapshot_while_the_program_ends
else t_fail run_summary_reads_the_exit_snapshot_while_the_program_ends "open at line '$opened', reaped at '$reaped': $(head -c 300 "$T/pre.err" | tr '\n' '|')"; fi
cp "$T/s/other.hsnap" "$T/s/swap.hsnap"
"$HEAPSNAP" run -o "$T/s/late.hsnap" -- "$py" -c "
import os, time
class Swap:
    def __del__(self):
        time.sleep(0.5)
        os.replace('$T/s/swap.hsnap', '$T/s/late.hsnap')
swap = Swap()
x = [str(i) * 10 for i in range(100000)]" >/dev/null 2>"$T/late.err"
if grep -q '^heapsnap: peak 0 B: no heap block was traced' "$T/late.err" &&
   ! grep -q 'most at <string>' "$T/late.err"; then
  t_pass run_summary_reads_again_a_snapshot_replaced_after_it_was_read
else t_fail run_summary_reads_again_a_snapshot_replaced_after_it_was_read "$(head -c 300 "$T/late.err" | tr '\n' '|')"; fi
