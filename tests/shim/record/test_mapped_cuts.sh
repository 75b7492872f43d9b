# test_mapped_cuts.sh - the hooks' per-trace lines follow a mapped range
# cut in pieces (trace_recut): mapcuts.c cuts a range's front, another's
# back and a hole in a third, then reaches a new peak.  The state document
# a SIGKILL leaves (its live sums are the lines', peak_live) and the peak's
# capture (summed from the lines) name each site with its pieces' bytes and
# ranges, as the exit snapshot's walk does; META's totals keep allocations
# less frees equal to the live blocks (a hole's second range counted as an
# allocation); HEAPSNAP_SITELINE_CHECK finds the lines equal to the walk,
# counts and bytes, with every allocation and with sampled weights.
. tests/shim/lib_shim.sh
. tests/shim/lib_kill.sh
if ! s_build mapcuts -O1 -fno-inline; then t_fail mapped_cuts_builds "cc failed"; return 0 2>/dev/null || exit 0; fi
src=tests/shim/record/mapcuts.c
line() { grep -n "static char \*map_$1(" "$src" | cut -d: -f1; }
want() { # the three mapped sites, largest first, as top prints them (--kind mmap)
  printf '%s\n' "$src:$(line hole): size=10.0 MiB, count=2, average=5120 KiB [untouched]" \
    "$src:$(line back): size=6144 KiB, count=1, average=6144 KiB [untouched]" \
    "$src:$(line front): size=6144 KiB, count=1, average=6144 KiB [untouched]"
}
want | sort >"$T/want.txt"
# same NAME FILE ARGS...: top --kind mmap ARGS on FILE gives the three sites
same() {
  local name=$1 f=$2; shift 2
  "$HEAPSNAP" top --kind mmap -n 0 "$@" "$f" 2>/dev/null | sort >"$T/$name.txt"
  if diff -u "$T/want.txt" "$T/$name.txt" >"$T/$name.diff"; then t_pass "$name"
  else t_fail "$name" "$(tail -n +3 "$T/$name.diff" | head -8 | tr '\n' '|')"; fi
}

# killed: the state document's live sums and its PEAK are the lines'
mkfifo "$T/ready"
LD_PRELOAD=$SHIM HEAPSNAP_PEAK=exact HEAPSNAP_OUTPUT="$T/k.%p.hsnap" "$T/mapcuts" "$T/ready" \
  2>"$T/k.err" & pid=$!
kill_wait_fifo "$T/ready" && kill_settle "$T/k.$pid.hsnap.state"
kill_now "$pid"
st=$T/k.$pid.hsnap.state
same mapped_cuts_state_live_pieces "$st"
same mapped_cuts_state_peak_pieces "$st" --peak
"$HEAPSNAP" info "$st" >"$T/k.info" 2>/dev/null
if grep -qxF "by kind:          malloc 32.0 MiB in 1 block, mmap 22.0 MiB in 4 ranges" "$T/k.info" &&
   grep -qxF "live blocks:      5" "$T/k.info" && grep -qxF "total:            5 allocations, 0 frees" "$T/k.info" &&
   grep -qxF "traced current:   54.0 MiB (56623104 bytes)" "$T/k.info"; then
  t_pass mapped_cuts_state_totals_follow_the_ranges
else
  t_fail mapped_cuts_state_totals_follow_the_ranges "$(grep -E 'kind|live blocks|total:|current' "$T/k.info" | tr '\n' '|')"
fi

# the exit snapshot's walk, and the lines checked against it; sampled too
for how in every sampled; do
  if [ $how = every ]; then s=0; else s=4194304; fi
  LD_PRELOAD=$SHIM HEAPSNAP_PEAK=exact HEAPSNAP_SAMPLE=$s HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_SITELINE_CHECK=1 \
    HEAPSNAP_VERBOSE=1 HEAPSNAP_OUTPUT="$T/x.$how.hsnap" "$T/mapcuts" 2>"$T/x.$how.err"
  compared=$(sed -n 's/^heapsnap: siteline: check: traces compared with the walk: //p' "$T/x.$how.err" | tail -1)
  differed=$(sed -n 's/^heapsnap: siteline: check: traces that differed: //p' "$T/x.$how.err" | tail -1)
  if [ "${compared:-0}" -ge 4 ] && [ "$differed" = 0 ]; then t_pass "mapped_cuts_lines_are_the_walk_$how"
  else t_fail "mapped_cuts_lines_are_the_walk_$how" "compared '$compared', differed '$differed'"; fi
done
same mapped_cuts_exit_walk_pieces "$T/x.every.hsnap"
same mapped_cuts_exit_peak_pieces "$T/x.every.hsnap" --peak
