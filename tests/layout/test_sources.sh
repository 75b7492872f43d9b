# test_sources.sh - the sources read as the house rules ask: each opens
# with a comment that names the file and says what it owns; no two share
# a name; no benchmark figures in comments (a figure that justifies a
# choice is a row of docs/performance-hotpath.md's table, which the
# comment names).  Sizes are a report, not a gate: scripts/sizes.sh names
# the largest files, the longest openings and the doors of two prefixes
# (make check prints it), and is checked here on a tree of known sizes.
srcs=$(git ls-files 'shim/*.c' 'shim/*.h' 'shim/*.cc' 'report/*.c' 'report/*.h' 'report/*.cc' \
       'report/*.S' 'report/*.js' 'report/*.css')

# "NAME.c - what it owns" in a comment on the first lines.
bare=""
for f in $srcs; do
  head -n 3 "$f" | grep -qE "^(/\*|//| \*) *(${f##*/}) - " || bare="$bare $f"
done
if [ -z "$bare" ]; then t_pass sources_open_with_their_name_and_what_they_own
else t_fail sources_open_with_their_name_and_what_they_own "no opening \"NAME - what it owns\":$bare"; fi

# Measurements in prose: "14.4 -> 11.7 ms", "25.2M -> 14.0M", "350
# instructions", "2.2 ms a fork".
figures=$(git grep -nE '[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)?[ ]*->[ ]*[0-9][0-9.]*[ ]?(ms|us|ns|s|KiB|MiB|GiB|KB|MB|M|k|%)|[0-9.]+ (instructions|mispredicted|cycles)|[0-9.]+ ?(ms|us|ns) (per|a|an) ' -- shim report | head -5)
if [ -z "$figures" ]; then t_pass comments_carry_no_benchmark_figures
else t_fail comments_carry_no_benchmark_figures "$(echo "$figures" | tr '\n' ' ' | head -c 400)"; fi

# No two sources share a name (issue 71): a file's name says which one it
# is, wherever it is cited or included from (the include path holds every
# room, so two headers of one name would also be one header too many).
dups=$(for f in $srcs; do echo "${f##*/}"; done | sort | uniq -d)
if [ -z "$dups" ]; then t_pass sources_share_no_name
else t_fail sources_share_no_name "$(for d in $dups; do echo "$srcs" | tr ' ' '\n' | grep "/$d\$"; done | tr '\n' ' ')"; fi

# The report on a tree of known sizes: a file of 800 lines and one of 300,
# an opening of 18 lines (// ones) and one of 3, a door of two prefixes
# (two.c: duo_ and pair_ exported) and one of one prefix with helpers of
# another (one.c: its statics and cmd_ are no noun); it ranks them, names
# two.c alone, names no figure to aim at, and exits 0.
script=$PWD/scripts/sizes.sh
mkdir -p "$T/sz/shim" "$T/sz/report"
{ printf '/*\n * big.c - a big file.\n */\n'; for i in $(seq 797); do echo "int b$i;"; done; } >"$T/sz/shim/big.c"
{ for i in $(seq 18); do echo "// long.c - line $i"; done; for i in $(seq 282); do echo "int l$i;"; done; } >"$T/sz/report/long.c"
printf 'int duo_a(void)\n{ return 1; }\nint duo_b(void)\n{ return 2; }\nvoid pair_a(int x)\n{ (void)x; }\nvoid *pair_b(void)\n{ return 0; }\n' >"$T/sz/shim/two.c"
printf 'static int h_a(void)\n{ return 1; }\nstatic int h_b(void)\n{ return 2; }\nint one_a(void)\n{ return h_a(); }\nint one_b(void)\n{ return h_b(); }\nint cmd_one(int c, char **v)\n{ return c; }\nint cmd_two(void);\n' >"$T/sz/report/one.c"
if (cd "$T/sz" && git init -q && git add . ) && out=$(cd "$T/sz" && "$script" 1 2>&1) &&
   echo "$out" | grep -q 'largest files (lines): shim/big.c 800$' &&
   echo "$out" | grep -q 'longest openings (lines): report/long.c 18$' &&
   echo "$out" | grep -q 'doors of more than one prefix: 1$' &&
   echo "$out" | grep -q '^ *shim/two.c: .*duo_(2)' && echo "$out" | grep -q '^ *shim/two.c: .*pair_(2)' &&
   ! echo "$out" | grep -q 'one.c' && ! echo "$out" | grep -qE ' over [0-9]+|aim'; then
  t_pass sizes_report_ranks_files_and_doors_and_does_not_fail
else t_fail sizes_report_ranks_files_and_doors_and_does_not_fail "$(echo "${out:-}" | tr '\n' ' ' | head -c 400)"; fi
