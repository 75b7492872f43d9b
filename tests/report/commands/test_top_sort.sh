# tests/report/commands/test_top_sort.sh - top --sort allocations|allocated: sites by the
# allocations since the start (STATS' total_count / total_bytes), freed or not,
# on sites.c whose counts are known from its source: line 59 made 40 blocks of
# 256 B and freed 20, so it ranks third by allocations (40) although only 20
# are live.  tracemalloc's lines stay the default (tests/report/commands/test_top.sh).
. tests/fixtures/lib.sh
FX_TEST=top_sort fx_ready sites || return 0
G=tests/golden
if ! fx_profile "$T/sites.hsnap" "$FX/sites" || [ ! -s "$T/sites.hsnap" ]; then
  t_fail top_sort_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; return 0
fi
S=$T/sites.hsnap
for how in allocations allocated; do
  fx_top "top_sites_sort_$how" "$S" --sort "$how" &&
    t_golden "top_sites_sort_$how" "$G/top_sites_sort_$how.txt" "$T/top_sites_sort_$how.txt"
done
fx_top top_sites_sort_allocations_function "$S" --sort allocations --key function &&
  t_golden top_sites_sort_allocations_function "$G/top_sites_sort_allocations_function.txt" \
    "$T/top_sites_sort_allocations_function.txt"
# live is the default: the same bytes as no --sort
"$HEAPSNAP" top "$S" >"$T/default.txt" 2>&1
fx_top top_sites_sort_live "$S" --sort live && cmp -s "$T/default.txt" "$T/top_sites_sort_live.txt" &&
  t_pass top_sort_live_is_default || t_fail top_sort_live_is_default "differs from plain top"

"$HEAPSNAP" top "$S" --sort count >"$T/bad.out" 2>"$T/bad.err"; rc=$?
[ $rc -eq 2 ] && grep -qx "heapsnap: top: bad value for --sort: 'count' (live, allocations, allocated)" \
  "$T/bad.err" && t_pass top_sort_bad_value_names_flag ||
  t_fail top_sort_bad_value_names_flag "exit $rc: $(cat "$T/bad.err")"
t_status top_sort_allocations_refuses_leaked 2 "$HEAPSNAP" top "$S" --sort allocations --leaked
t_status top_sort_not_an_option_of_diff 2 "$HEAPSNAP" diff "$S" "$S" --sort allocations
