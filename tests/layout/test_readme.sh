# test_readme.sh - docs/options.md's option list is the shim's option table,
# as `heapsnap run --help` prints it; the README shows the two set-up commands,
# stays a guide (at most 300 lines) and links only pages that exist;
# docs/performance.md stays the method and one table (at most 300 lines);
# every docs page the sources cite exists.
# When the list differs, scripts/readme-options.sh rewrites docs/options.md's.
"$HEAPSNAP" run --help 2>&1 | sed -n '/^Environment read by the shim/,$p' | tail -n +2 >"$T/help.txt"
sed -n '/<!-- options:begin/,/<!-- options:end/p' docs/options.md | sed '1,2d;$d' | sed '$d' >"$T/readme.txt"
t_golden readme_options_match_help "$T/help.txt" "$T/readme.txt"
if grep -q '^make demo' README.md && grep -q '^make check' README.md; then t_pass readme_setup_commands
else t_fail readme_setup_commands "README lacks make demo / make check"; fi
n=$(wc -l <README.md)
if [ "$n" -le 300 ]; then t_pass readme_is_a_guide
else t_fail readme_is_a_guide "README.md has $n lines (at most 300)"; fi
missing=
for f in $(grep -o '](docs/[a-z-]*\.md)' README.md | sed 's/^](//; s/)$//' | sort -u); do
    [ -f "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ] && grep -q '](docs/' README.md; then t_pass readme_map_links_exist
else t_fail readme_map_links_exist "README links to missing pages:${missing:- (no docs/ links at all)}"; fi
n=$(wc -l <docs/performance.md)
if [ "$n" -le 300 ]; then t_pass performance_doc_is_method_and_table
else t_fail performance_doc_is_method_and_table "docs/performance.md has $n lines (at most 300)"; fi
# Every page the sources, scripts and tests cite exists (they once cited a
# DESIGN.md the tree did not have).
cited=$(grep -rhoE --exclude=test_readme.sh '(docs/[a-z-]+\.md|\bDESIGN\.md)' shim report scripts $(find tests -mindepth 2 -name '*.sh') $(find tests -name 'test_*.c') tests/unit.h Makefile 2>/dev/null | sort -u)
missing=
for f in $cited; do case $f in docs/*) [ -f "$f" ] || missing="$missing $f";; *) missing="$missing $f";; esac; done
if [ -z "$missing" ]; then t_pass sources_cite_existing_docs
else t_fail sources_cite_existing_docs "cited but absent:$missing"; fi
