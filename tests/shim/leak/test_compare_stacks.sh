# tests/shim/leak/test_compare_stacks.sh - scripts/compare-stacks.sh runs
# memcheck, LeakSanitizer and heapsnap on tests/fixtures/cxxwrappers.cc at
# -O0 and -O2 and prints, per marked line, the frames each lists before the
# program's own line (docs/leaks.md's C++ table):
#   compare_stacks_runs        exit 0, two tables of every marker
#   compare_stacks_same_lines  memcheck and heapsnap (--all-frames) report a
#                              block at every marked line, and the same number
#                              of frames before vector growth's line (6:
#                              operator new and five templates) and map's (8)
# Skips without valgrind.
if ! command -v valgrind >/dev/null; then
  t_skip compare_stacks_runs "no valgrind (scripts/install-deps.sh bench)"; return 0
fi
BUILD=$BUILD timeout 240 scripts/compare-stacks.sh >"$T/cmp.out" 2>"$T/cmp.err"; rc=$?
nmarks=$(grep -c '/\* @[a-z_]*[ :]' tests/fixtures/cxxwrappers.cc)
rows=$(grep -cE '^[a-z_]+ +[0-9]+ ' "$T/cmp.out")
if [ $rc -eq 0 ] && [ "$(grep -c '^== g++' "$T/cmp.out")" = 2 ] && [ "$rows" = $((2 * nmarks)) ]; then
  t_pass compare_stacks_runs
else
  t_fail compare_stacks_runs "exit $rc, $rows rows for $nmarks markers: $(head -c 300 "$T/cmp.err" | tr '\n' ' ')"
fi
bad=$(awk '/^[a-z_]+ +[0-9]+ / && ($3 == "-" || $5 == "-") { print $1 }' "$T/cmp.out" | tr '\n' ' ')
cells=$(awk '$1 == "vec_push_back" || $1 == "map_insert" { print $3 "=" $5 }' "$T/cmp.out" | tr '\n' ' ')
if [ -z "$bad" ] && [ "$cells" = "6=6 8=8 6=6 8=8 " ]; then
  t_pass compare_stacks_same_lines
else
  t_fail compare_stacks_same_lines "no block at: $bad; growth and map: $cells"; sed 's/^/    /' "$T/cmp.out" | head -24
fi
