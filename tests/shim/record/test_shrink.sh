# tests/shim/record/test_shrink.sh - the table gives back what a fallen peak
# left it before the exit snapshot (tbl_shrink): tests/fixtures/peakfall.c
# holds 300,000 blocks, then 5,000 ("fall") or all of them ("keep").  The
# shim's memory `heapsnap info` reports (the arena's bytes when the
# snapshot began) must be lower after the fall by most of the table's
# peak (about 22 B a block: test_table's table_bytes_per_block): a byte
# count, not the resident set's timing.
. tests/fixtures/lib.sh
FX_TEST=shrink fx_ready peakfall || return 0

# shim_bytes NAME MODE: the exit snapshot's shim memory, in bytes, on stdout
shim_bytes() {
  fx_profile "$T/$1.hsnap" "$FX/peakfall" "$2" || { echo "run $2 exited $?" >&2; return 1; }
  "$HEAPSNAP" info "$T/$1.hsnap" 2>"$T/$1.err" |
    sed -n 's/^shim memory: .*(\([0-9]*\) bytes)$/\1/p'
}
keep=$(shim_bytes keep keep)
fall=$(shim_bytes fall fall)
# the peak's table: 300,000 blocks at 17 B or more each (a full cluster);
# after the fall it holds 5,000, so most of it goes back
if [ -n "$keep" ] && [ -n "$fall" ] && [ $((keep - fall)) -ge $((300000 * 12)) ]; then
  t_pass table_shrinks_before_exit_snapshot
else
  t_fail table_shrinks_before_exit_snapshot "shim memory: keep '$keep' fall '$fall' bytes"
fi
