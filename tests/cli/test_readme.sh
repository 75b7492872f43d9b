# test_readme.sh - the README's option list is the shim's option table, as
# `heapsnap run --help` prints it; and the README shows the two set-up commands.
# When it fails, scripts/readme-options.sh rewrites the README's list.
"$HEAPSNAP" run --help 2>&1 | sed -n '/^Environment read by the shim/,$p' | tail -n +2 >"$T/help.txt"
sed -n '/<!-- options:begin/,/<!-- options:end/p' README.md | sed '1,2d;$d' | sed '$d' >"$T/readme.txt"
t_golden readme_options_match_help "$T/help.txt" "$T/readme.txt"
if grep -q '^make demo' README.md && grep -q '^make check' README.md; then t_pass readme_setup_commands
else t_fail readme_setup_commands "README lacks make demo / make check"; fi
