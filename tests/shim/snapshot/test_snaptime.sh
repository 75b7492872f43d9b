# test_snaptime.sh - HEAPSNAP_VERBOSE times each snapshot it writes: after
# "wrote NAME", one line "snapshot: microseconds to write it: N", so that
# the exit snapshot's cost (most of a big Python program's end) can be
# read without a build of one's own.  On the demo fixture: one snapshot
# (its exit), one such line right after its "wrote" line, N a number
# above 0 and under a minute's.
tests/fixtures/build.sh demo >/dev/null
HEAPSNAP_VERBOSE=1 HEAPSNAP_OUTPUT="$T/d.hsnap" LD_PRELOAD="$SHIM" "$BUILD/fixtures/demo" \
  >/dev/null 2>"$T/d.err"
n=$(grep -c "^heapsnap: snapshot: microseconds to write it: " "$T/d.err")
us=$(grep -A1 "^heapsnap: wrote $T/d.hsnap\$" "$T/d.err" | sed -n 's/^heapsnap: snapshot: microseconds to write it: \([0-9]*\)$/\1/p')
if [ "$n" = 1 ] && [ -n "$us" ] && [ "$us" -gt 0 ] && [ "$us" -lt 60000000 ]; then
  t_pass snapshot_verbose_says_how_long_it_took
else t_fail snapshot_verbose_says_how_long_it_took "lines $n, microseconds '${us}': $(tr '\n' '|' <"$T/d.err" | head -c 300)"; fi
