# tests/shim/leak/test_compare_valgrind.sh - scripts/compare-valgrind.sh runs on two
# fixtures and prints what each tool says (valgrind is slow on a loaded machine:
# the timeout only guards against a hang; speed is the bench's business):
#   compare_runs       exit 0, one table per fixture
#   compare_valgrind   Valgrind's column: direct_one 16/1 definitely lost;
#                      cycle2 (48 + 64 bytes) split into 48/1 definitely and
#                      64/1 indirectly lost (its documented view of a cycle)
#   compare_heapsnap   heapsnap's column: direct_one 16/1 direct; cycle2 112/2
#                      cycle; the "leaked (sum)" rows of both tools agree
#   compare_self_pointing_blocks_match_memcheck
#                      selfbuf and cxx_short_strings (blocks that point into
#                      themselves): both columns equal, class by class
row() { # FIXTURE LABEL COLUMN(2=valgrind 3=heapsnap): one cell of the printed table
  awk -v f="fixture: $1" -v l="$2" -v c="$3" '
    $0 == f { on = 1; next } /^fixture:/ { on = 0 }
    on && index($0, "  " l " ") == 1 { n = split($0, a, /  +/); print a[n - 3 + c] }' "$T/cmp.out"
}
start=$(date +%s)
BUILD=$BUILD timeout 240 scripts/compare-valgrind.sh direct_one cycle2 selfbuf cxx_short_strings >"$T/cmp.out" 2>"$T/cmp.err"
rc=$?; took=$(( $(date +%s) - start ))
if [ "$rc" -eq 0 ] && [ "$(grep -c '^fixture:' "$T/cmp.out")" -eq 4 ]; then
  t_pass "compare_runs (${took}s)"
else
  t_fail compare_runs "exit $rc after ${took}s: $(head -c 300 "$T/cmp.err" | tr '\n' ' ')"
fi
got="$(row direct_one 'definitely / direct' 2) $(row cycle2 'definitely / direct' 2) $(row cycle2 'indirectly / indirect' 2)"
if [ "$got" = "16/1 48/1 64/1" ]; then t_pass compare_valgrind
else t_fail compare_valgrind "valgrind column: got '$got', want '16/1 48/1 64/1'"; sed 's/^/    /' "$T/cmp.out" | head -20; fi
got="$(row direct_one 'definitely / direct' 3) $(row cycle2 '- / cycle' 3) $(row direct_one 'leaked (sum)' 3) $(row cycle2 'leaked (sum)' 3)"
if [ "$got" = "16/1 112/2 16/1 112/2" ]; then t_pass compare_heapsnap
else t_fail compare_heapsnap "heapsnap column: got '$got', want '16/1 112/2 16/1 112/2'"; fi
bad=""
for f in selfbuf cxx_short_strings; do
  for l in 'definitely / direct' 'indirectly / indirect' 'possibly lost'; do
    v=$(row "$f" "$l" 2) h=$(row "$f" "$l" 3)
    [ -n "$v" ] && [ "$v" = "$h" ] || bad="$bad $f $l: valgrind '$v' heapsnap '$h';"
  done
  [ "$(row "$f" '- / cycle' 3)" = 0/0 ] || bad="$bad $f cycle: $(row "$f" '- / cycle' 3);"
done
if [ -z "$bad" ]; then t_pass compare_self_pointing_blocks_match_memcheck
else t_fail compare_self_pointing_blocks_match_memcheck "$bad"; fi
