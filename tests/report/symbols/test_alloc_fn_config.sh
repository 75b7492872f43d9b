# tests/report/symbols/test_alloc_fn_config.sh - alloc-fn everywhere: `html` takes
# --alloc-fn / --no-default-alloc-fns like top, diff, leaks, gate, trend and
# export, and every one of them honours alloc-fn / no-default-alloc-fns from
# the rules file the gate reads (--rules FILE, else ./.heapsnap.toml; --rules
# none for none), at the top level or under [gate]; the command line adds to
# it.  Fixture: tests/fixtures/wrapped.c (pool_grab is its own wrapper).
# (before: html refused --alloc-fn, and only gate read .heapsnap.toml)
. tests/fixtures/lib.sh
FX_TEST=alloc_fn_config fx_ready wrapped || return 0
G=tests/golden
HEAPSNAP_LEAKS=1 fx_profile "$T/w.hsnap" "$FX/wrapped"; rc=$?
if [ "$rc" != 0 ] || [ ! -s "$T/w.hsnap" ]; then
  t_fail alloc_fn_config_profiled "exit $rc$([ -s "$T/w.hsnap" ] || echo ', no snapshot'): $(head -c 300 "$T/fx.err")"; return 0
fi
W=$T/w.hsnap

# html: pool_grab is no stack's site with the flag, and is without it
"$HEAPSNAP" html -o "$T/plain.html" "$W" 2>"$T/html.err" &&
  "$HEAPSNAP" html -o "$T/af.html" "$W" --alloc-fn 'pool_*' 2>>"$T/html.err"; rc=$?
if [ $rc -eq 0 ] && grep -q 'pool_grab' "$T/plain.html" && ! grep -q 'pool_grab' "$T/af.html" &&
   grep -q 'load_index' "$T/af.html"; then t_pass alloc_fn_html
else t_fail alloc_fn_html "exit $rc: $(head -c 300 "$T/html.err")"; fi
t_check alloc_fn_html_no_default_alloc_fns "$HEAPSNAP" html -o "$T/nd.html" "$W" --no-default-alloc-fns

# the rules file, found in the current directory, for every command
mkdir -p "$T/repo" && printf '# the gate reads this too\nfail-on = "none"\n[gate]\nalloc-fn = ["pool_*"]\n' \
  >"$T/repo/.heapsnap.toml"
in_repo() { (cd "$T/repo" && "$HEAPSNAP" "$@"); }
in_repo top "$W" --key function >"$T/top.txt" 2>&1
t_golden alloc_fn_config_top_function "$G/alloc_fn_top_function.txt" "$T/top.txt"
in_repo top "$W" --key function --rules none >"$T/none.txt" 2>&1
grep -q '^pool_grab: ' "$T/none.txt" && t_pass alloc_fn_config_rules_none ||
  t_fail alloc_fn_config_rules_none "$(head -c 300 "$T/none.txt" | tr '\n' '|')"
# --rules FILE from anywhere, and the command line adds to the file
cp "$T/repo/.heapsnap.toml" "$T/rules.toml"
"$HEAPSNAP" top "$W" --key function --rules "$T/rules.toml" --no-default-alloc-fns >"$T/nd.txt" 2>&1
t_golden alloc_fn_config_rules_flag_adds "$G/alloc_fn_no_defaults.txt" "$T/nd.txt"

in_repo diff "$W" "$W" --key function >"$T/diff.txt" 2>&1
grep -qx 'load_index: size=4000 B (+0 B), count=4 (+0), average=1000 B' "$T/diff.txt" &&
  ! grep -q '^pool_grab' "$T/diff.txt" && t_pass alloc_fn_config_diff ||
  t_fail alloc_fn_config_diff "$(head -c 300 "$T/diff.txt" | tr '\n' '|')"
in_repo leaks "$W" >"$T/leaks.txt" 2>&1
grep -qx '    at 0x[0-9a-f]*: leak_one (tests/fixtures/wrapped.c:53)' "$T/leaks.txt" &&
  t_pass alloc_fn_config_leaks || t_fail alloc_fn_config_leaks "$(head -c 300 "$T/leaks.txt" | tr '\n' '|')"
# trend has no site to show on one snapshot twice: that it reads the file is
# checked below, where a bad file stops it
in_repo export --format folded "$W" >"$T/folded.txt" 2>&1
grep -q ';load_index (tests/fixtures/wrapped.c:42) 4000$' "$T/folded.txt" &&
  ! grep -q 'pool_grab' "$T/folded.txt" && t_pass alloc_fn_config_export ||
  t_fail alloc_fn_config_export "$(head -c 300 "$T/folded.txt" | tr '\n' '|')"
in_repo html -o "$T/cfg.html" "$W" 2>"$T/cfg.err" && ! grep -q 'pool_grab' "$T/cfg.html" &&
  t_pass alloc_fn_config_html || t_fail alloc_fn_config_html "$(head -c 300 "$T/cfg.err")"
site='  64 bytes in 1 blocks leaked (direct) at tests/fixtures/wrapped.c:53 in '
in_repo gate "$W" --fail-on direct >"$T/gate.txt" 2>&1
grep -qF -- "$site" "$T/gate.txt" && t_pass alloc_fn_config_gate ||
  t_fail alloc_fn_config_gate "$(head -c 300 "$T/gate.txt" | tr '\n' '|')"

# a bad file is trouble for every command, with FILE:LINE: each one reads it
mkdir -p "$T/broken" && printf 'alloc-fn = [\n' >"$T/broken/.heapsnap.toml"
ok=1; why=
for cmd in "top" "diff $W" "leaks" "gate" "trend $W" "export --format folded" "html -o $T/b.html"; do
  set -- $cmd
  c=$1; shift
  (cd "$T/broken" && "$HEAPSNAP" "$c" "$W" "$@" >/dev/null 2>"$T/broken.err"); rc=$?
  [ $rc -eq 2 ] && grep -q "^heapsnap: .*\.heapsnap\.toml:[0-9]*: not valid TOML" "$T/broken.err" ||
    { ok=0; why="$why $c: exit $rc $(head -c 200 "$T/broken.err");"; }
done
[ $ok = 1 ] && t_pass alloc_fn_config_every_command_reads_the_file ||
  t_fail alloc_fn_config_every_command_reads_the_file "$why"
t_status alloc_fn_config_missing_rules_file 2 "$HEAPSNAP" leaks "$W" --rules "$T/nothing.toml"
