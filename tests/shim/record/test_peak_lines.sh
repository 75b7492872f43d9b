# test_peak_lines.sh - the peak's per-thread lines are mapped in chunks as
# threads claim them (peak_claim): with 70 threads alive at once every
# chunk is mapped and 7 threads share line 0, and the capture adds up
# every line (peakthreads.c: hold_site 700 x 1000 B at the peak); and a
# capture is not lost to a writer holding its lock (peakrace.c).
. tests/shim/lib_shim.sh
if ! s_build peakthreads -O1; then t_fail peak_lines_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

HEAPSNAP_PEAK=exact HEAPSNAP_OUTPUT="$T/pl.hsnap" LD_PRELOAD=$SHIM "$T/peakthreads" >"$T/pl.out" 2>"$T/pl.err"
"$HEAPSNAP" top --peak --key function "$T/pl.hsnap" >"$T/pl.txt" 2>&1
if grep -qx ok "$T/pl.out" && grep -qx 'hold_site: size=684 KiB, count=700, average=1000 B' "$T/pl.txt"; then
  t_pass peak_sums_every_thread_past_one_line_chunk
else
  t_fail peak_sums_every_thread_past_one_line_chunk "$(head -c 300 "$T/pl.txt") $(head -c 200 "$T/pl.err")"
fi

# A capture taken while a writer holds the capture's lock (peakrace.c: a
# thread writing snapshots without pause, main passing 1000 new peaks of a
# block freed at once) goes to the side capture (peak_capture) and is
# adopted by the next reader: every peak's capture holds its block.
if s_build peakrace -O1; then
  HEAPSNAP_PEAK=exact HEAPSNAP_OUTPUT="$T/pr.%p.hsnap" LD_PRELOAD=$SHIM "$T/peakrace" "$T/prw.hsnap" \
    >"$T/pr.out" 2>"$T/pr.err"
  if grep -qx 'lost 0 of 1000' "$T/pr.out"; then
    t_pass peak_capture_not_lost_to_a_writer
  else
    t_fail peak_capture_not_lost_to_a_writer "$(head -c 200 "$T/pr.out") $(head -c 200 "$T/pr.err")"
  fi
else t_fail peak_capture_not_lost_to_a_writer "cc failed"; fi
