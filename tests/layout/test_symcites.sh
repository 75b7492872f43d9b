# test_symcites.sh - a symbol or test name that a comment cites is one the
# tree still has: scripts/symcites.py over the tree, and over a small tree
# of known citations (a stale name in a C comment and one in a shell
# comment are named; a function, an assembly label in a string, a test
# case cited without its interpreter's suffix, a name of another prefix
# and a name in a string outside comments are not).
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  t_skip symcites_name_symbols_that_exist "not a git checkout: no list of tracked files"
elif out=$(scripts/symcites.py 2>&1); then t_pass symcites_name_symbols_that_exist
else t_fail symcites_name_symbols_that_exist "$(echo "$out" | head -8 | tr '\n' ' ')"; fi

script=$PWD/scripts/symcites.py
mkdir -p "$T/s/shim" "$T/s/tests" "$T/s/scripts"
cp scripts/citations.py "$T/s/scripts/"
cat >"$T/s/shim/a.c" <<'C'
/* a.c - foo_one and foo_two (foo_label in assembly); foo_gone was here */
static void foo_one(void) {}
static void foo_two(void) {}
static void foo_three(void) {}
__asm__(".globl foo_label\nfoo_label: ret\n");
static const char *s = "foo_unseen_string";
/* pinned by foo_works on every interpreter; other_thing is not ours */
C
cat >"$T/s/tests/test_foo.sh" <<'SH'
# test_foo.sh - foo_four's case; foo_lost is no more
t_pass "foo_works_$tag"
foo_four=1
SH
(cd "$T/s" && git init -q && git add .)
cp "$script" "$T/s/scripts/" && out=$(cd "$T/s" && scripts/symcites.py 2>&1); rc=$?
want='shim/a.c:1: foo_gone
tests/test_foo.sh:1: foo_lost'
if [ "$rc" = 1 ] && [ "$out" = "$want" ]; then t_pass symcites_check_names_stale_symbols_only
else t_fail symcites_check_names_stale_symbols_only "exit $rc: $(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
