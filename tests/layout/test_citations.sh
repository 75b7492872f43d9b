# test_citations.sh - a path that a comment or a doc cites names a file
# that is there: scripts/citations.py over the tree, and over a small tree
# of known citations (a stale one in a comment and one in a doc are named;
# a path that exists, a pattern with NAME, a string outside comments and a
# path relative to the citing tree are not).
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  t_skip citations_name_files_that_exist "not a git checkout: no list of tracked files"
elif out=$(scripts/citations.py 2>&1); then t_pass citations_name_files_that_exist
else t_fail citations_name_files_that_exist "$(echo "$out" | head -8 | tr '\n' ' ')"; fi

script=$PWD/scripts/citations.py
mkdir -p "$T/c/report/base" "$T/c/docs" "$T/c/shim/python"
cat >"$T/c/report/base/a.c" <<'C'
/* a.c - see report/base/a.c and report/gone.c; a command is report/commands/NAME.c */
static const char *p = "report/also_gone.c";
C
printf '# doc\nAs `tests/layout/test_gone.sh` checks, and docs/ here.\n' >"$T/c/docs/NOTE.md"
printf '/* b.c - python/code.c is in this tree */\n' >"$T/c/shim/python/b.c"
touch "$T/c/shim/python/code.c"
(cd "$T/c" && git init -q && git add .)
out=$(cd "$T/c" && "$script" 2>&1); rc=$?
want='docs/NOTE.md:2: tests/layout/test_gone.sh
report/base/a.c:1: report/gone.c'
if [ "$rc" = 1 ] && [ "$out" = "$want" ]; then t_pass citations_check_names_stale_paths_only
else t_fail citations_check_names_stale_paths_only "exit $rc: $(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
