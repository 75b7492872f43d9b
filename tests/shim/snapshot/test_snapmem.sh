# tests/shim/snapshot/test_snapmem.sh - what writing a snapshot costs the process in
# memory: BLOCKS is streamed into a side file in address order
# (bstream_*: the addresses, 8 bytes a block, sorted; each block
# looked up as it is written), where a sorted copy of the blocks took 32 to
# 40 bytes a block above the resident set.  The file still holds every
# block, sorted and agreeing with STATS (hsnap_dump checks both).
# Fixture: tests/shim/snapshot/snapmem.c.

t_build snapmem tests/shim/snapshot/snapmem.c &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail snapmem_builds "cc failed"; return 0 2>/dev/null || exit 0; }

out=$(LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/mem.%p.hsnap" "$T/snapmem" 400000 "$T/mem.hsnap" 2>"$T/mem.err")
per=$(echo "$out" | sed -n 's/.*per_block=\([0-9-]*\)$/\1/p')
if [ -n "$per" ] && [ "$per" -le 8 ]; then t_pass snapshot_needs_at_most_8_bytes_a_block
else t_fail snapshot_needs_at_most_8_bytes_a_block "'$out' $(head -c 200 "$T/mem.err")"; fi
n=$("$T/hsnap_dump" "$T/mem.hsnap" 2>&1 | sed -n 's/^meta .* blocks=\([0-9]*\) .*/\1/p')
if [ -n "$n" ] && [ "$n" -ge 400000 ] && [ "$n" -le 400010 ]; then t_pass streamed_blocks_all_there_sorted
else t_fail streamed_blocks_all_there_sorted "blocks '$n': $("$T/hsnap_dump" "$T/mem.hsnap" 2>&1 | head -c 200)"; fi

# TRACES is not held whole either: its frames go from frametree.c's tree
# into the file through a 32 KiB buffer, where the whole section (here
# ~8.5 MB: 16384 stacks of 64 frames) was built in memory first.  What is
# left is STATS (~40 bytes a trace), the live sums' array and the
# compression context (~1 MiB at level 1, zsec_setup).  Fixture:
# tests/shim/snapshot/snapmem.c, its "traces" mode.  No state file: the
# helper maps its documents' pieces when its beat says, and one that lands
# inside the snapshot's window counted as the snapshot's.
out=$(LD_PRELOAD="$SHIM" HEAPSNAP_STATE=0 HEAPSNAP_OUTPUT="$T/tr.%p.hsnap" "$T/snapmem" traces "$T/tr.hsnap" 2>"$T/tr.err")
tr=$(echo "$out" | sed -n 's/.*transient=\([0-9-]*\)$/\1/p')
ntr=$("$T/hsnap_dump" "$T/tr.hsnap" 2>&1 | sed -n 's/^traces \([0-9]*\)$/\1/p')
if [ -n "$tr" ] && [ "$tr" -le $((3 * 1024 * 1024)) ]; then t_pass snapshot_traces_not_held_whole
else t_fail snapshot_traces_not_held_whole "'$out' $(head -c 200 "$T/tr.err")"; fi
# checksum, lengths and counts as the reader checks them; every stack there
if [ -n "$ntr" ] && [ "$ntr" -ge 16384 ]; then t_pass streamed_traces_all_there_checksummed
else t_fail streamed_traces_all_there_checksummed "traces '$ntr': $("$T/hsnap_dump" "$T/tr.hsnap" 2>&1 | head -c 200)"; fi

# Nor is STATS (32 bytes a trace): it is made as it is written, from the
# live sums (16 bytes a trace, untouched where none is live) and the
# records (snap_put_stats).  The exit snapshot of 65,536 sites, their
# blocks all freed, costs the process's peak at most 24 bytes a trace (the
# compressor, TRACES' buffer; about 11) above its resident set before it,
# where STATS held whole took about 40.  snapmem's "exit" mode resets the high-water mark, prints the
# resident set and exits; GNU time gives the peak.  No state file, as
# above, nor site-line points: a point the helper takes as the program
# exits lands in the window too (about 1 MiB more, in 9 of 48 runs here).
if [ -x /usr/bin/time ]; then
  rss=$(HEAPSNAP_STATE=0 HEAPSNAP_SITELINE=0 HEAPSNAP_OUTPUT="$T/ex.hsnap" /usr/bin/time -f %M -o "$T/ex.time" \
    env LD_PRELOAD="$SHIM" "$T/snapmem" exit - 2>"$T/ex.err" | sed -n 's/^rss=//p')
  peak=$(tail -n 1 "$T/ex.time" 2>/dev/null)
  nex=$("$T/hsnap_dump" "$T/ex.hsnap" 2>&1 | sed -n 's/^traces \([0-9]*\)$/\1/p')
  if [ -n "$rss" ] && [ -n "$peak" ] && [ "${nex:-0}" -ge 65536 ] &&
     [ $(((peak - rss) * 1024)) -le $((24 * 65536)) ]; then
    t_pass exit_snapshot_holds_no_stats_whole
  else
    t_fail exit_snapshot_holds_no_stats_whole "rss '$rss' KiB, peak '$peak' KiB, traces '$nex': $(head -c 200 "$T/ex.err")"
  fi
else
  t_skip exit_snapshot_holds_no_stats_whole "no GNU time (/usr/bin/time)"
fi
