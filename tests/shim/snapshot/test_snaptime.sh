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

# Then one line naming the phases in milliseconds, their sum within the
# whole (each phase ends where the next begins): "snapshot: milliseconds:
# blocks N, stacks N, python N, file N".
ph=$(grep -A2 "^heapsnap: wrote $T/d.hsnap\$" "$T/d.err" | sed -n 's/^heapsnap: snapshot: milliseconds: //p')
sum=$(printf '%s\n' "$ph" | sed -n 's/^blocks \([0-9]*\), stacks \([0-9]*\), python \([0-9]*\), file \([0-9]*\)$/\1 \2 \3 \4/p' |
      awk '{print $1 + $2 + $3 + $4}')
if [ -n "$sum" ] && [ -n "$us" ] && [ "$sum" -le $((us / 1000 + 1)) ]; then
  t_pass snapshot_verbose_times_its_phases
else t_fail snapshot_verbose_times_its_phases "phases '$ph', microseconds '${us}'"; fi

# A leak check times its phases too, on a fork and in place: "leak check:
# milliseconds: blocks N, marks N, roots N, objects N, scan N, after N"
# (and ", report N" where the fork's copy writes the answer itself).
for fork in 1 0; do
  HEAPSNAP_VERBOSE=1 HEAPSNAP_LEAKS=1 HEAPSNAP_LEAK_FORK=$fork HEAPSNAP_OUTPUT="$T/l$fork.hsnap" \
    LD_PRELOAD="$SHIM" "$BUILD/fixtures/demo" >/dev/null 2>"$T/l$fork.err"
  want='blocks [0-9]*, marks [0-9]*, roots [0-9]*, objects [0-9]*, scan [0-9]*, after [0-9]*'
  [ "$fork" = 1 ] && want="$want, report [0-9]*"
  if grep -q "^heapsnap: leak check: milliseconds: $want\$" "$T/l$fork.err"; then
    t_pass "leak_check_verbose_times_its_phases_fork_$fork"
  else t_fail "leak_check_verbose_times_its_phases_fork_$fork" "$(grep 'leak check' "$T/l$fork.err" | tr '\n' '|' | head -c 300)"; fi
done
