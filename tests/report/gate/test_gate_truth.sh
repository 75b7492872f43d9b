# tests/report/gate/test_gate_truth.sh - a gate that never misleads (issue 19): a rule
# that can check nothing is trouble (exit 2), not a PASS; leak totals are the
# loss records' totals that `leaks` prints (indirect bytes included, never
# twice); --key function never puts a function where a file belongs.
. tests/fixtures/lib.sh
FX_TEST=gate_truth_fixtures
fx_ready sites || return 0
flags="-g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. -Ishim"

# --- a rule that cannot be evaluated: exit 2 with one line, unless turned off ---
fx_profile "$T/plain.hsnap" "$FX/sites"
"$HEAPSNAP" gate "$T/plain.hsnap" >"$T/g0.out" 2>"$T/g0.err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/g0.err")" = 1 ] \
   && grep -q "^heapsnap: gate: cannot check leaks in $T/plain.hsnap: no leak check in this snapshot (run with --leaks" "$T/g0.err"
then t_pass gate_without_leak_check_exit_2; else t_fail gate_without_leak_check_exit_2 "exit $rc: $(head -c 300 "$T/g0.out" "$T/g0.err")"; fi
t_status gate_without_leak_check_fail_on_none_passes 0 "$HEAPSNAP" gate --fail-on none "$T/plain.hsnap"
"$HEAPSNAP" gate --fail-on none --max-trend-growth 10% "$T/plain.hsnap" >"$T/g1.out" 2>"$T/g1.err"; rc=$?
[ $rc = 2 ] && grep -q '^heapsnap: gate: --max-trend-growth cannot be checked: no process has two snapshots' "$T/g1.err" \
  && t_pass gate_trend_without_series_exit_2 || t_fail gate_trend_without_series_exit_2 "exit $rc: $(head -c 300 "$T/g1.out" "$T/g1.err")"
# a crashed program's fatal-signal snapshot: the reason, not "run with --leaks"
printf '#include <signal.h>\n#include <stdlib.h>\nint main(void){ void *volatile p = malloc(10); (void)p; raise(SIGSEGV); return 0; }\n' >"$T/crash.c"
gcc $flags "$T/crash.c" -o "$T/crash" || t_fail crash_build gcc
"$HEAPSNAP" run --leaks -o "$T/crash.hsnap" -- "$T/crash" >/dev/null 2>"$T/crash.err"
"$HEAPSNAP" gate "$T/crash.hsnap" >/dev/null 2>"$T/g2.err"; rc=$?
# (once in CI, no snapshot was written: run's stderr and the files left say why)
[ $rc = 2 ] && grep -q 'written at a fatal signal (the program crashed' "$T/g2.err" \
  && t_pass gate_fatal_snapshot_says_crashed || t_fail gate_fatal_snapshot_says_crashed "exit $rc: $(head -c 300 "$T/g2.err"); run said: $(head -c 400 "$T/crash.err" | tr '\n' '|'); files: $(cd "$T" && ls crash* | tr '\n' ' ')"

# --- totals: one direct leak of 48000 bytes owning 42889 indirect ones ---
gcc $flags tests/report/gate/owner.c -o "$T/owner" || t_fail owner_build gcc
"$HEAPSNAP" run --leaks -o "$T/owner.hsnap" -- "$T/owner" >/dev/null 2>&1
"$HEAPSNAP" leaks "$T/owner.hsnap" >"$T/ol.txt" 2>&1
"$HEAPSNAP" gate "$T/owner.hsnap" >"$T/og.txt" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q '^90889 (48000 direct, 42889 indirect) bytes' "$T/ol.txt" \
   && grep -q '^FAIL leaks owner\[[0-9]*\]: 90889 bytes in 2 blocks lost (loss record totals, indirect included;' "$T/og.txt" \
   && grep -q '^  90889 bytes in 2 blocks leaked (direct, 42889 of them indirect) at tests/report/gate/owner.c:20' "$T/og.txt"
then t_pass gate_total_matches_leaks; else t_fail gate_total_matches_leaks "exit $rc: $(head -c 400 "$T/og.txt")"; fi
t_status gate_limit_counts_indirect_owned 1 "$HEAPSNAP" gate --max-leaked-bytes 90000 "$T/owner.hsnap"
t_status gate_limit_at_total_passes 0 "$HEAPSNAP" gate --max-leaked-bytes 90889 "$T/owner.hsnap"
# failing on indirect too never counts the owned bytes twice
"$HEAPSNAP" gate --fail-on direct,indirect,cycle "$T/owner.hsnap" >"$T/og3.txt" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^FAIL leaks owner\[[0-9]*\]: 90889 bytes in 2 blocks lost' "$T/og3.txt" \
  && grep -q 'leaked (indirect) at tests/report/gate/owner.c:21 .*\[counted in the record that owns it\]' "$T/og3.txt" \
  && t_pass gate_indirect_not_counted_twice || t_fail gate_indirect_not_counted_twice "exit $rc: $(head -c 400 "$T/og3.txt")"
# alone, the indirect rule counts the indirect bytes
"$HEAPSNAP" gate --fail-on indirect "$T/owner.hsnap" >"$T/og4.txt" 2>&1
grep -q '^FAIL leaks owner\[[0-9]*\]: 42889 bytes in 1 blocks lost' "$T/og4.txt" \
  && t_pass gate_indirect_alone_counts || t_fail gate_indirect_alone_counts "$(head -c 300 "$T/og4.txt")"

# --- --key function: a file where a file belongs (GitHub file=, SARIF uri) ---
gcc $flags tests/report/gate/cache.c -o "$T/cache" || t_fail cache_build gcc
(cd "$T" && LD_PRELOAD=$SHIM ./cache "$T/c.%d.hsnap") || t_fail cache_run "exit $?"
"$HEAPSNAP" gate --fail-on none --key function --baseline "$T/c.3.hsnap" --max-growth 5% \
  --format github -o "$T/kf.gh" --format sarif -o "$T/kf.sarif" "$T/c.4.hsnap"
if grep -q '^::error file=tests/report/gate/cache.c,line=23,title=heapsnap growth::live bytes at cache_add grew' "$T/kf.gh" \
   && python3 - "$T/kf.sarif" 2>"$T/py.err" <<'P'
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in res]
assert uris == ["tests/report/gate/cache.c"], uris
P
then t_pass gate_key_function_file_is_a_file; else t_fail gate_key_function_file_is_a_file "$(head -c 300 "$T/kf.gh" "$T/py.err")"; fi

# --- the rules file is TOML, read by a complete parser; bad values say what is accepted ---
mkdir -p "$T/toml"
printf '[gate]\nmax-leaked-bytes = 100_000   # TOML integer with separators\nfail-on = '"'"'direct,cycle'"'"'\n' >"$T/toml/.heapsnap.toml"
(cd "$T/toml" && "$HEAPSNAP" gate "$T/owner.hsnap" >"$T/t1.out" 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'allowed: 100000 bytes, any blocks' "$T/t1.out" \
  && t_pass rules_file_toml_underscores || t_fail rules_file_toml_underscores "exit $rc: $(head -c 300 "$T/t1.out")"
printf 'max-leaked-bytes = "10MB"\n' >"$T/toml/.heapsnap.toml"
(cd "$T/toml" && "$HEAPSNAP" gate "$T/owner.hsnap" >"$T/t2.out" 2>&1); rc=$?
[ $rc = 2 ] && grep -qF ".heapsnap.toml:1: bad value for max-leaked-bytes: '10MB' (a byte count: digits with an optional K, M or G" "$T/t2.out" \
  && t_pass rules_file_bad_amount_says_accepted || t_fail rules_file_bad_amount_says_accepted "exit $rc: $(head -c 300 "$T/t2.out")"
printf 'max-leaked-bytes = = 5\n' >"$T/toml/.heapsnap.toml"
(cd "$T/toml" && "$HEAPSNAP" gate "$T/owner.hsnap" >"$T/t3.out" 2>&1); rc=$?
[ $rc = 2 ] && grep -q '^heapsnap: .heapsnap.toml:1: not valid TOML' "$T/t3.out" \
  && t_pass rules_file_invalid_toml_line || t_fail rules_file_invalid_toml_line "exit $rc: $(head -c 300 "$T/t3.out")"
printf 'suppressions = [\n  "a.supp",\n]\n[other]\nx = 1\n' >"$T/toml/.heapsnap.toml"
(cd "$T/toml" && "$HEAPSNAP" gate "$T/owner.hsnap" >"$T/t4.out" 2>&1); rc=$?
[ $rc = 2 ] && grep -q '^heapsnap: .heapsnap.toml:4: other: not a rule (only \[gate\] holds a table of rules)' "$T/t4.out" \
  && t_pass rules_file_other_table_refused || t_fail rules_file_other_table_refused "exit $rc: $(head -c 300 "$T/t4.out")"
"$HEAPSNAP" gate --format xml "$T/owner.hsnap" >/dev/null 2>"$T/t5.err"
grep -qx "heapsnap: gate: bad value for --format: 'xml' (text, json, junit, sarif, github)" "$T/t5.err" \
  && t_pass gate_bad_format_names_option_and_values || t_fail gate_bad_format_names_option_and_values "$(cat "$T/t5.err")"
"$HEAPSNAP" gate --max-leaked-bytes 10MB "$T/owner.hsnap" >/dev/null 2>"$T/t6.err"; rc=$?
[ $rc = 2 ] && grep -qF "heapsnap: gate: bad value for --max-leaked-bytes: '10MB' (a byte count: digits with an optional K, M or G" "$T/t6.err" \
  && t_pass gate_bad_amount_says_accepted || t_fail gate_bad_amount_says_accepted "exit $rc: $(cat "$T/t6.err")"
"$HEAPSNAP" leaks --format xml "$T/owner.hsnap" >/dev/null 2>"$T/t7.err"
grep -qx "heapsnap: leaks: bad value for --format: 'xml' (text, json)" "$T/t7.err" \
  && t_pass leaks_bad_format_names_option_and_values || t_fail leaks_bad_format_names_option_and_values "$(cat "$T/t7.err")"

# --- trend judges the steady part: the exit snapshot (cache freed, a last buffer) is left out ---
gcc $flags tests/report/gate/exitgrow.c -o "$T/exitgrow" || t_fail exitgrow_build gcc
(cd "$T" && HEAPSNAP_OUTPUT="$T/eg.9.hsnap" LD_PRELOAD=$SHIM ./exitgrow "$T/eg.%d.hsnap") || t_fail exitgrow_run "exit $?"
"$HEAPSNAP" trend "$T"/eg.[0-9].hsnap >"$T/eg.txt" 2>&1
if grep -q '^1 growing site across 4 snapshots of pid [0-9]* (.*exitgrow); its exit snapshot left out$' "$T/eg.txt" \
   && grep -q '^tests/report/gate/exitgrow.c:23: size=39.1 KiB (+29.3 KiB)' "$T/eg.txt" && ! grep -q 'exitgrow.c:35' "$T/eg.txt"
then t_pass trend_steady_part_without_exit; else t_fail trend_steady_part_without_exit "$(head -c 300 "$T/eg.txt")"; fi
t_status gate_trend_steady_part_fails 1 "$HEAPSNAP" gate --fail-on none --max-trend-growth 0 "$T"/eg.[0-9].hsnap
