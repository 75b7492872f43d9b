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

# Every opening but the format header's is at most 20 lines: what the file
# owns and its rules; the prose on how and why is in docs/design.md.
over=""
for f in $srcs; do
  [ "$f" = shim/hsnap_format.h ] && continue
  n=$(awk 'NR==1 && !/^\/\*/ && !/^\/\// {print 0; exit} /\*\// {print NR; exit}' "$f")
  [ "${n:-0}" -gt 20 ] && over="$over $f($n)"
done
if [ -z "$over" ]; then t_pass opening_comments_at_most_20_lines
else t_fail opening_comments_at_most_20_lines "over 20 lines:$over"; fi

# Measurements in prose: "14.4 -> 11.7 ms", "25.2M -> 14.0M", "350
# instructions", "2.2 ms a fork".
figures=$(git grep -nE '[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)?[ ]*->[ ]*[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)|[0-9.]+ (instructions|mispredicted|cycles)|[0-9.]+ ?(ms|us|ns) (per|a|an) ' -- shim report | head -5)
if [ -z "$figures" ]; then t_pass comments_carry_no_benchmark_figures
else t_fail comments_carry_no_benchmark_figures "$(echo "$figures" | tr '\n' ' ' | head -c 400)"; fi
