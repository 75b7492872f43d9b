# test_sources.sh - the sources read as STYLE.md asks: no file over 700
# lines; a file opens with at most ~20 lines on what it owns (the format
# header, whose grammar is the contract, excepted); no benchmark figures in
# comments (a figure that justifies a choice is a row of
# docs/performance.md's table, which the comment names).
srcs=$(git ls-files 'shim/*.c' 'shim/*.h' 'report/*.c' 'report/*.h' 'report/*.cc')

long=""
for f in $srcs; do
  n=$(wc -l <"$f"); [ "$n" -gt 700 ] && long="$long $f($n)"
done
if [ -z "$long" ]; then t_pass sources_at_most_700_lines
else t_fail sources_at_most_700_lines "over 700 lines:$long"; fi

# The openings still over 20 lines, to be cut to what the file owns; the
# list only shrinks: a new file, or one not listed, fails, and so does a
# listed file once its opening is short (take it off the list).
long_openings=" report/commands/merge.c report/gate/gate.c report/gate/leakcheck.c report/gate/sarif.c report/load/lset.c report/load/snap.c report/load/snapsave.c report/model/lossrec.h report/model/supp.c report/symbols/sym.c shim/base/arena.c shim/domain.c shim/leak/collect.c shim/leak/fork.c shim/leak/lsan.c shim/leak/model.c shim/leak/roots.c shim/leak/stop.c shim/life.c shim/python/python.h shim/python/recent.c shim/python/stack.c shim/record/frametree.c shim/record/peak.c shim/record/pending.c shim/record/sample.c shim/record/table.c shim/record/traces.c shim/shim.h shim/snapshot/siteline.c shim/snapshot/snapshot.c shim/unwind/cfi.c shim/unwind/ehframe.c shim/unwind/rulecache.c shim/unwind/unwind.c "
over="" fixed=""
for f in $srcs; do
  [ "$f" = shim/hsnap_format.h ] && continue
  n=$(awk 'NR==1 && !/^\/\*/ && !/^\/\// {print 0; exit} /\*\// {print NR; exit}' "$f")
  case "$long_openings" in
    *" $f "*) [ "${n:-0}" -le 20 ] && fixed="$fixed $f" ;;
    *) [ "${n:-0}" -gt 20 ] && over="$over $f($n)" ;;
  esac
done
if [ -z "$over$fixed" ]; then t_pass opening_comments_at_most_20_lines
else t_fail opening_comments_at_most_20_lines "over 20 lines:$over; short now, take off the list:$fixed"; fi

# Measurements in prose: "14.4 -> 11.7 ms", "25.2M -> 14.0M", "350
# instructions", "2.2 ms a fork".
figures=$(git grep -nE '[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)?[ ]*->[ ]*[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)|[0-9.]+ (instructions|mispredicted|cycles)|[0-9.]+ ?(ms|us|ns) (per|a|an) ' -- shim report | head -5)
if [ -z "$figures" ]; then t_pass comments_carry_no_benchmark_figures
else t_fail comments_carry_no_benchmark_figures "$(echo "$figures" | tr '\n' ' ' | head -c 400)"; fi
