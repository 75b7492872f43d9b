# tests/report/symbols/test_alloc_fn.sh - allocation wrappers of the program itself:
# --alloc-fn PAT (repeatable, fnmatch on the function name) charges a wrapper's
# blocks to its callers in top, diff, leaks, gate (also from .heapsnap.toml),
# trend and export, and --no-default-alloc-fns turns the built-in list (xmalloc,
# g_malloc, zmalloc...) off.  Fixture: tests/fixtures/wrapped.c.
# (before: "pool_grab: size=6564 B, count=18" for everything, and the options
# were unknown)
. tests/fixtures/lib.sh
FX_TEST=alloc_fn fx_ready wrapped stl_clang_O2 || return 0
G=tests/golden
if ! HEAPSNAP_LEAKS=1 fx_profile "$T/w.hsnap" "$FX/wrapped" || [ ! -s "$T/w.hsnap" ]; then
  t_fail alloc_fn_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; return 0
fi
W=$T/w.hsnap

fx_top alloc_fn_top_function "$W" --key function --alloc-fn 'pool_*' &&
  t_golden alloc_fn_top_function "$G/alloc_fn_top_function.txt" "$T/alloc_fn_top_function.txt"
fx_top alloc_fn_top_lineno "$W" --key lineno --alloc-fn 'pool_*' &&
  t_golden alloc_fn_top_lineno "$G/alloc_fn_top_lineno.txt" "$T/alloc_fn_top_lineno.txt"
fx_top alloc_fn_no_defaults "$W" --key function --alloc-fn 'pool_*' --no-default-alloc-fns &&
  t_golden alloc_fn_no_default_alloc_fns "$G/alloc_fn_no_defaults.txt" "$T/alloc_fn_no_defaults.txt"
# two patterns, one of them naming nothing: the same as one
fx_top alloc_fn_repeat "$W" --key function --alloc-fn 'nothing_here' --alloc-fn 'pool_grab' &&
  t_golden alloc_fn_repeatable "$G/alloc_fn_top_function.txt" "$T/alloc_fn_repeat.txt"

"$HEAPSNAP" diff "$W" "$W" --key function --alloc-fn 'pool_*' >"$T/diff.txt" 2>&1
grep -qx 'load_index: size=4000 B (+0 B), count=4 (+0), average=1000 B' "$T/diff.txt" &&
  ! grep -q '^pool_grab' "$T/diff.txt" && t_pass alloc_fn_diff ||
  t_fail alloc_fn_diff "$(head -c 300 "$T/diff.txt" | tr '\n' '|')"

"$HEAPSNAP" leaks "$W" --alloc-fn 'pool_*' >"$T/leaks.txt" 2>&1
"$HEAPSNAP" leaks "$W" --alloc-fn 'pool_*' --all-frames >"$T/leaks_all.txt" 2>&1
grep -qx '    at 0x[0-9a-f]*: leak_one (tests/fixtures/wrapped.c:53)' "$T/leaks.txt" &&
  ! grep -q 'pool_grab' "$T/leaks.txt" &&
  grep -q 'pool_grab (tests/fixtures/wrapped.c:26) \[wrapper\]$' "$T/leaks_all.txt" &&
  t_pass alloc_fn_leaks || t_fail alloc_fn_leaks "$(head -c 300 "$T/leaks.txt" | tr '\n' '|')"

# gate: the flag, and the same from the rules file (the command line wins,
# the file's patterns outlive its parsing)
site='  64 bytes in 1 blocks leaked (direct) at tests/fixtures/wrapped.c:53 in '
"$HEAPSNAP" gate "$W" --alloc-fn 'pool_*' >"$T/gate.txt" 2>&1
grep -qF -- "$site" "$T/gate.txt" && t_pass alloc_fn_gate_flag ||
  t_fail alloc_fn_gate_flag "$(head -c 300 "$T/gate.txt" | tr '\n' '|')"
printf '[gate]\nalloc-fn = ["nothing_here", "pool_*"]\nno-default-alloc-fns = true\n' >"$T/rules.toml"
"$HEAPSNAP" gate "$W" --rules "$T/rules.toml" >"$T/gatef.txt" 2>&1
grep -qF -- "$site" "$T/gatef.txt" && t_pass alloc_fn_gate_rules_file ||
  t_fail alloc_fn_gate_rules_file "$(head -c 300 "$T/gatef.txt" | tr '\n' '|')"
printf 'no-default-alloc-fns = maybe\n' >"$T/bad.toml"
t_status alloc_fn_gate_rules_file_flag_wants_bool 2 "$HEAPSNAP" gate "$W" --rules "$T/bad.toml"

# trend: two snapshots of one process (the same file twice) take the option
"$HEAPSNAP" trend "$W" "$W" --key function --alloc-fn 'pool_*' >"$T/trend.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '^0 growing sites' "$T/trend.txt" && t_pass alloc_fn_trend_accepts ||
  t_fail alloc_fn_trend_accepts "exit $rc: $(head -c 300 "$T/trend.txt" | tr '\n' '|')"

# a C++ function is named without its parameter list: clang's "make_cycle()"
# matches 'make_cycle', and its blocks go to main
if fx_profile "$T/stl.hsnap" "$FX/stl_clang_O2" &&
   fx_top alloc_fn_cxx "$T/stl.hsnap" --key function -n 0 --alloc-fn make_cycle; then
  grep -q '^main: size=392 KiB, count=18,' "$T/alloc_fn_cxx.txt" &&
    ! grep -q '^make_cycle' "$T/alloc_fn_cxx.txt" && t_pass alloc_fn_cxx_name_without_parameters ||
    t_fail alloc_fn_cxx_name_without_parameters "$(head -c 300 "$T/alloc_fn_cxx.txt" | tr '\n' '|')"
fi

# exports: stacks start at the site, so the wrapper is no stack's leaf
"$HEAPSNAP" export --format folded "$W" --alloc-fn 'pool_*' >"$T/folded.txt" 2>&1
grep -q ';load_index (tests/fixtures/wrapped.c:42) 4000$' "$T/folded.txt" &&
  ! grep -q 'pool_grab' "$T/folded.txt" && t_pass alloc_fn_export_folded ||
  t_fail alloc_fn_export_folded "$(head -c 300 "$T/folded.txt" | tr '\n' '|')"

# a library's wrapper in the built-in list, in a Debian program without debug
# information: perl's blocks go through Perl_safesysmalloc (Newx), charged to
# its callers, unless --no-default-alloc-fns
if [ -x /usr/bin/perl ]; then
  "$HEAPSNAP" run -q -o "$T/perl.%p.hsnap" -- /usr/bin/perl -e 'my @a = map { "x" x 100 } 1 .. 2000' \
    >/dev/null 2>"$T/perl.err"
  p=$(ls "$T"/perl.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" top --key function -n 0 "$p" >"$T/perl.top" 2>/dev/null
  "$HEAPSNAP" top --key function -n 0 --no-default-alloc-fns "$p" >"$T/perl.raw" 2>/dev/null
  if [ -s "$T/perl.top" ] && ! grep -q '^Perl_safesys' "$T/perl.top" && grep -q '^Perl_safesysmalloc' "$T/perl.raw"; then
    t_pass alloc_fn_perl_wrapper_is_builtin
  else t_fail alloc_fn_perl_wrapper_is_builtin "$(head -3 "$T/perl.top" | tr '\n' '|') / $(head -3 "$T/perl.raw" | tr '\n' '|') $(head -c 200 "$T/perl.err")"; fi
else t_skip alloc_fn_perl_wrapper_is_builtin "no /usr/bin/perl"; fi
