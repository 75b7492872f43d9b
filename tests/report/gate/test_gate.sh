# tests/report/gate/test_gate.sh - heapsnap merge, trend and gate: growth and trend rules,
# every output format checked by a real parser/validator, exit codes, a damaged
# snapshot among many, the rules file, run --gate over a forking and exec'ing
# suite, and run's refusal of static programs.  Sourced by tests/run.sh.
# tier: full (the npm validators (a registry) and every output format)
. tests/fixtures/lib.sh
FX_TEST=gate_fixtures
fx_ready sites forker execer || return 0
flags="-g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. -Ishim"
gcc $flags tests/report/gate/cache.c -o "$T/cache" || { t_fail gate_cache_build "gcc"; return 0; }

# --- merge: two runs (different ASLR) sum per site like top over both files ---
for i in 1 2; do fx_profile "$T/s$i.hsnap" "$FX/sites"; done
"$HEAPSNAP" merge "$T/s1.hsnap" "$T/s2.hsnap" -o "$T/all.hsnap"
"$HEAPSNAP" top -n 0 "$T/all.hsnap" >"$T/merged.txt" 2>&1
"$HEAPSNAP" top -n 0 "$T/s1.hsnap" "$T/s2.hsnap" >"$T/both.txt" 2>"$T/both.err" # "2 processes, summed"
t_golden merge_sums_per_site "$T/both.txt" "$T/merged.txt"
"$HEAPSNAP" info "$T/s1.hsnap" | grep '^traces:' >"$T/t1"
"$HEAPSNAP" info "$T/all.hsnap" | grep '^traces:' >"$T/t2"
t_golden merge_reinterns_traces "$T/t1" "$T/t2"

# --- merge keeps RETAINERS: --why and top --retainers read the merged file like both inputs ---
gcc $flags tests/report/gate/chain.c -o "$T/chain" || t_fail chain_build gcc
for i in 1 2; do "$HEAPSNAP" run --leaks -o "$T/ch$i.hsnap" -- "$T/chain" >/dev/null 2>&1; done
"$HEAPSNAP" merge "$T/ch1.hsnap" "$T/ch2.hsnap" -o "$T/chm.hsnap"
# (merge does not carry HOLDERS, whose items are per input block: the
# inputs' block-by-block lines are left out of the comparison)
"$HEAPSNAP" leaks --why tests/report/gate/chain.c:19 "$T/ch1.hsnap" "$T/ch2.hsnap" 2>&1 |
  sed '/: block by block, /,/^$/d' >"$T/why2.txt"
"$HEAPSNAP" leaks --why tests/report/gate/chain.c:19 "$T/chm.hsnap" >"$T/whym.txt" 2>&1
if grep -q '^   blocks from tests/report/gate/chain.c:17: 8 refs' "$T/whym.txt"; then t_golden merge_keeps_retainers_why "$T/why2.txt" "$T/whym.txt"
else t_fail merge_keeps_retainers_why "$(head -c 300 "$T/whym.txt")"; fi
"$HEAPSNAP" top --retainers "$T/ch1.hsnap" "$T/ch2.hsnap" >"$T/ret2.txt" 2>"$T/ret2.err"
"$HEAPSNAP" top --retainers "$T/chm.hsnap" >"$T/retm.txt" 2>&1
t_golden merge_keeps_retainers_top "$T/ret2.txt" "$T/retm.txt"
# a merged file with blocks is not merged again (its blocks' input tags would collide): exit 2, named
"$HEAPSNAP" merge "$T/chm.hsnap" "$T/ch1.hsnap" -o "$T/chm3.hsnap" >/dev/null 2>"$T/m3.err"; rc=$?
[ $rc = 2 ] && grep -q "^heapsnap: $T/chm.hsnap: a merged snapshot" "$T/m3.err" && [ ! -e "$T/chm3.hsnap" ] \
  && t_pass merge_refuses_merged_with_blocks || t_fail merge_refuses_merged_with_blocks "exit $rc: $(head -c 300 "$T/m3.err")"

# --- trend: the growing cache and nothing else ---
(cd "$T" && LD_PRELOAD=$SHIM ./cache "$T/c.%d.hsnap") || t_fail trend_fixture "cache exited $?"
"$HEAPSNAP" trend "$T"/c.[0-4].hsnap | sed 's/pid [0-9]*/pid P/; s|([^)]*cache)|(cache)|' >"$T/trend.txt"
cat >"$T/trend.want" <<'W'
1 growing site across 5 snapshots of pid P (cache)
tests/report/gate/cache.c:23: size=48.8 KiB (+39.1 KiB), count=50 (+40), average=1000 B
    blocks by epochs survived: 0:10 1:10 2:10 3:10 4:10
W
t_golden trend_picks_the_cache "$T/trend.want" "$T/trend.txt"

# --- growth against a baseline ---
t_status growth_same_passes 0 "$HEAPSNAP" gate --fail-on none --baseline "$T/c.4.hsnap" --max-growth 0 "$T/c.4.hsnap"
t_status growth_5pct_fails 1 "$HEAPSNAP" gate --fail-on none --baseline "$T/c.3.hsnap" --max-growth 5% "$T/c.4.hsnap"
t_status growth_30pct_passes 0 "$HEAPSNAP" gate --fail-on none --baseline "$T/c.3.hsnap" --max-growth 30% "$T/c.4.hsnap"
t_status growth_exitcode_23 23 "$HEAPSNAP" gate --fail-on none --exitcode 23 --baseline "$T/c.3.hsnap" --max-growth 100 "$T/c.4.hsnap"
t_status peak_growth_fails 1 "$HEAPSNAP" gate --fail-on none --metric peak --baseline "$T/c.0.hsnap" --max-growth 1K "$T/c.4.hsnap"
t_status trend_rule_fails 1 "$HEAPSNAP" gate --fail-on none --max-trend-growth 39999 "$T"/c.[0-4].hsnap
t_status trend_rule_passes 0 "$HEAPSNAP" gate --fail-on none --max-trend-growth 40000 "$T"/c.[0-4].hsnap

# --- the rules file gives the same verdict as the command line ---
mkdir -p "$T/repo"
printf '# policy\n[gate]\nfail-on = "none"\nmax-growth = "5%%"  # per site\nkey = "function"\n' >"$T/repo/.heapsnap.toml"
(cd "$T/repo" && "$HEAPSNAP" gate --baseline "$T/c.3.hsnap" "$T/c.4.hsnap" >"$T/rf.out" 2>&1); rc=$?
if [ $rc = 1 ] && grep -q '^FAIL growth' "$T/rf.out" && grep -q 'at cache_add grew' "$T/rf.out"; then t_pass rules_file
else t_fail rules_file "exit $rc: $(head -c 300 "$T/rf.out")"; fi
printf 'max-growht = 5\n' >"$T/repo/.heapsnap.toml"
(cd "$T/repo" && "$HEAPSNAP" gate "$T/c.4.hsnap" >"$T/rf.out" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q '.heapsnap.toml:1:' "$T/rf.out"; then t_pass rules_file_bad_key
else t_fail rules_file_bad_key "exit $rc: $(head -c 300 "$T/rf.out")"; fi

# --- every format from one run: text, JSON, JUnit, SARIF, GitHub ---
"$HEAPSNAP" gate --fail-on none --max-trend-growth 0 --baseline "$T/c.3.hsnap" --max-growth 5% \
  --format json -o "$T/g.json" --format junit -o "$T/g.xml" --format sarif -o "$T/g.sarif" \
  --format github -o "$T/g.gh" --format text -o "$T/g.txt" "$T"/c.[0-4].hsnap
rc=$?; [ $rc = 1 ] && t_pass formats_exit_1 || t_fail formats_exit_1 "exit $rc"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="fail"; assert [c["status"] for c in d["checks"]]==["skip","fail","fail"], d["checks"]; assert len(d["findings"])==2' "$T/g.json" 2>"$T/py.err"
then t_pass json_parses_with_counts; else t_fail json_parses_with_counts "$(head -c 300 "$T/py.err")"; fi
if xmllint --noout "$T/g.xml" 2>"$T/x.err" && [ "$(xmllint --xpath 'string(/testsuites/@tests)' "$T/g.xml")" = 3 ] \
   && [ "$(xmllint --xpath 'string(/testsuites/@failures)' "$T/g.xml")" = 2 ] \
   && [ "$(xmllint --xpath 'count(//testcase)' "$T/g.xml")" = 3 ] \
   && [ "$(xmllint --xpath 'count(//testcase/skipped)' "$T/g.xml")" = 1 ]
then t_pass junit_wellformed_counts; else t_fail junit_wellformed_counts "$(cat "$T/x.err" | head -c 300)"; fi
sed 's/\[[0-9]*\]/[PID]/g' "$T/g.gh" >"$T/gh.txt"
cat >"$T/gh.want" <<'W'
::error file=tests/report/gate/cache.c,line=23,title=heapsnap growth::live bytes at tests/report/gate/cache.c:23 grew by 10000 to 50000 (over the baseline) in all processes
::error file=tests/report/gate/cache.c,line=23,title=heapsnap trend::live bytes at tests/report/gate/cache.c:23 grew by 40000 to 50000 (across the series) in cache[PID]
W
t_golden github_annotations_exact "$T/gh.want" "$T/gh.txt"
# sarif_check NAME FILE: FILE validates against the SARIF 2.1.0 schema (ajv, from npm)
sarif_ok=0
if BUILD=$BUILD scripts/install-deps.sh npm >"$T/npm.log" 2>&1; then sarif_ok=1; fi
npmdir=$BUILD/npm/node_modules
sarif_check() {
  if [ $sarif_ok = 0 ]; then t_fail "$1" "the npm validator could not be installed: $(tail -c 300 "$T/npm.log")"; return; fi
  cp "$2" "$T/$1.json"
  if "$npmdir/.bin/ajv" validate --spec=draft2020 --strict=false -c ajv-formats \
       -s "$npmdir/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" -d "$T/$1.json" >"$T/ajv.out" 2>&1
  then t_pass "$1"; else t_fail "$1" "$(head -c 400 "$T/ajv.out")"; fi
}
sarif_check sarif_validates "$T/g.sarif"
if [ $sarif_ok = 1 ]; then
  # the validator can fail: a result without a message is rejected
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["runs"][0]["results"][0]["message"]; json.dump(d,open(sys.argv[2],"w"))' "$T/g.sarif" "$T/bad.json"
  t_status sarif_validator_rejects_bad 1 "$npmdir/.bin/ajv" validate --spec=draft2020 --strict=false -c ajv-formats \
       -s "$npmdir/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" -d "$T/bad.json"
fi
# the fingerprint is the same for a second run of the program (new addresses)
(cd "$T" && mkdir -p r2 && LD_PRELOAD=$SHIM ./cache "$T/r2/c.%d.hsnap")
"$HEAPSNAP" gate --fail-on none --max-trend-growth 0 --format sarif -o "$T/g2.sarif" "$T"/r2/c.[0-4].hsnap
"$HEAPSNAP" gate --fail-on none --max-trend-growth 0 --format sarif -o "$T/g1.sarif" "$T"/c.[0-4].hsnap
grep -o '"heapsnapStack/v1": "[0-9a-f]*"' "$T/g1.sarif" >"$T/f1"; grep -o '"heapsnapStack/v1": "[0-9a-f]*"' "$T/g2.sarif" >"$T/f2"
[ -s "$T/f1" ] && t_golden sarif_fingerprint_stable "$T/f1" "$T/f2" || t_fail sarif_fingerprint_stable "no fingerprint"

# --- a damaged snapshot among many: exit 2, named ---
cp "$T/c.2.hsnap" "$T/bad.hsnap"; printf 'XXXX' | dd of="$T/bad.hsnap" bs=1 seek=200 conv=notrunc 2>/dev/null
"$HEAPSNAP" gate --fail-on none "$T/c.1.hsnap" "$T/bad.hsnap" "$T/c.3.hsnap" >"$T/bad.out" 2>"$T/bad.err"; rc=$?
if [ $rc = 2 ] && grep -q "^heapsnap: $T/bad.hsnap: " "$T/bad.err"; then t_pass damaged_among_many_exit_2
else t_fail damaged_among_many_exit_2 "exit $rc: $(head -c 300 "$T/bad.err")"; fi

# --- following children: a suite (a dash script) that forks, execs through a shell script,
# calls posix_spawn, calls system() and runs a static program; every dynamically linked process
# writes its own <exe>.<pid>.hsnap, shells included (dash leaves through _exit) ---
gcc $flags tests/report/gate/spawner.c -o "$T/spawner" || t_fail spawner_build gcc
have_static=0
gcc -static -x c - -o "$T/static" <<<'#include <stdlib.h>
int main(void){ free(malloc(10)); return 0; }' 2>/dev/null && have_static=1
printf '#!/bin/sh\n"$1"/forker\n"$1"/execer "$1"/sites\n"$2"/spawner "$2"/chain\n[ -x "$2"/static ] && "$2"/static\nexit 0\n' >"$T/suite.sh"; chmod +x "$T/suite.sh"
"$HEAPSNAP" run --gate --output-dir "$T/leaks" -- "$T/suite.sh" "$PWD/$FX" "$T" >"$T/run.out" 2>"$T/run.err"; rc=$?
ls "$T/leaks" | sed 's/\.[0-9]*\.hsnap$//' | sort | uniq -c | awk '{print $2, $1}' >"$T/kids.txt"
# %e is the name a process was started by: the suite (a #! script: its
# interpreter's file) is dash, system()'s /bin/sh is sh.
cat >"$T/kids.want" <<'W'
chain 2
dash 1
forker 2
sh 1
sites 1
spawner 1
W
t_golden run_gate_follows_every_child "$T/kids.want" "$T/kids.txt"
n=$(ls "$T/leaks" | sed 's/^[^.]*\.\([0-9]*\)\.hsnap$/\1/' | sort -u | wc -l)
[ "$n" = 8 ] && t_pass run_gate_one_snapshot_per_pid || t_fail run_gate_one_snapshot_per_pid "$n pids: $(ls "$T/leaks" | tr '\n' ' ')"
if grep -q 'no leak classes' "$T/run.out"; then
  t_fail run_gate_leak_classes "a process wrote no leak classes under run --gate: $(grep 'no leak' "$T/run.out" | head -c 300)"
else
  [ $rc = 0 ] && grep -q '^heapsnap gate: PASS (0 of 8 checks failed, 8 processes)' "$T/run.out" \
    && t_pass run_gate_leak_classes || t_fail run_gate_leak_classes "exit $rc: $(head -c 300 "$T/run.out")"
fi
[ $have_static = 1 ] || t_skip run_static_child_absent "no static libc to build a static program"
[ $have_static = 1 ] && { ls "$T/leaks" | grep -q '^static\.' && t_fail run_static_child_absent "a static child wrote a snapshot?" || t_pass run_static_child_absent; }
# the shell of exec_into.sh with nothing to exec leaves through _exit: it still writes its
# snapshot (--follow all: by default a script that execs is a launcher, left untraced)
"$HEAPSNAP" run --follow all --output-dir "$T/sh1" -- tests/fixtures/exec_into.sh >/dev/null 2>&1
[ "$(ls "$T/sh1" 2>/dev/null | grep -c '^dash\.[0-9]*\.hsnap$')" = 1 ] && t_pass run_shell_exit_via__exit_writes || t_fail run_shell_exit_via__exit_writes "$(ls "$T/sh1" 2>&1)"
"$HEAPSNAP" run --gate --output-dir "$T/leaks2" -- sh -c 'exit 3' >/dev/null 2>&1; rc=$?
[ $rc = 3 ] && t_pass run_gate_program_status_wins || t_fail run_gate_program_status_wins "exit $rc"
if gcc -static -x c - -o "$T/static" <<<'int main(void){return 0;}' 2>/dev/null; then
  "$HEAPSNAP" run -- "$T/static" >"$T/st.out" 2>&1; rc=$?
  [ $rc = 2 ] && grep -q 'statically linked' "$T/st.out" && t_pass run_refuses_static || t_fail run_refuses_static "exit $rc: $(cat "$T/st.out")"
else
  t_skip run_refuses_static "no static libc to build a static program"
fi

# --- leak rules on a program that leaks 100 bytes directly at leakone.c:10 ---
gcc $flags tests/report/gate/leakone.c -o "$T/leaky" || t_fail leaky_build gcc
"$HEAPSNAP" run --gate --exitcode 23 -o "$T/leaky.%p.hsnap" -- "$T/leaky" >"$T/lk.out" 2>&1; rc=$?
mv "$T"/leaky.[0-9]*.hsnap "$T/leaky.hsnap"
if [ $rc = 23 ] && grep -q '100 bytes in 1 blocks leaked (direct) at tests/report/gate/leakone.c:10' "$T/lk.out"
then t_pass run_gate_leak_fails_exitcode; else t_fail run_gate_leak_fails_exitcode "exit $rc: $(head -c 300 "$T/lk.out")"; fi
t_status leak_default_fails 1 "$HEAPSNAP" gate "$T/leaky.hsnap"
t_status leak_max_bytes_100_passes 0 "$HEAPSNAP" gate --max-leaked-bytes 100 "$T/leaky.hsnap"
t_status leak_max_bytes_99_fails 1 "$HEAPSNAP" gate --max-leaked-bytes 99 "$T/leaky.hsnap"
t_status leak_max_blocks_1_passes 0 "$HEAPSNAP" gate --max-leaked-blocks 1 "$T/leaky.hsnap"
t_status leak_fail_on_none_passes 0 "$HEAPSNAP" gate --fail-on none "$T/leaky.hsnap"
t_status leak_fail_on_indirect_passes 0 "$HEAPSNAP" gate --fail-on indirect "$T/leaky.hsnap"
t_status leak_site_limit_passes 0 "$HEAPSNAP" gate --site-limit 'lose=100' "$T/leaky.hsnap"
t_status leak_site_limit_small_fails 1 "$HEAPSNAP" gate --site-limit 'tests/report/gate/leakone.c:10=50' "$T/leaky.hsnap"
t_status leak_explicit_without_model_exit_2 2 "$HEAPSNAP" gate --fail-on direct "$T/c.4.hsnap"

# --- suppressions: both syntaxes, one set for every process, matched and stale in every format ---
# twoleaks: keep_cache leaks 2 x 64 bytes (line 13), lose_name 100 bytes (line 21); two processes
gcc $flags tests/report/gate/twoleaks.c -o "$T/two" || t_fail twoleaks_build gcc
for i in 1 2; do "$HEAPSNAP" run --leaks -o "$T/two$i.hsnap" -- "$T/two" >/dev/null 2>&1; done
printf '# lsan\nleak:lose_name\nleak:never_called\n' >"$T/s1.supp"
printf '{\n   cache\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:keep_cache\n   ...\n}\n{\n   stale_block\n   Memcheck:Leak\n   fun:no_such_function\n}\n' >"$T/s2.supp"
two="$T/two1.hsnap $T/two2.hsnap"
t_status supp_none_fails 1 "$HEAPSNAP" gate $two
t_status supp_lsan_only_fails 1 "$HEAPSNAP" gate --suppressions "$T/s1.supp" $two
t_status supp_valgrind_only_fails 1 "$HEAPSNAP" gate --suppressions "$T/s2.supp" $two
"$HEAPSNAP" gate --suppressions "$T/s1.supp" --suppressions "$T/s2.supp" $two \
  --format text -o "$T/sp.txt" --format json -o "$T/sp.json" --format junit -o "$T/sp.xml" \
  --format sarif -o "$T/sp.sarif" --format github -o "$T/sp.gh"
rc=$?; [ $rc = 0 ] && t_pass supp_both_syntaxes_pass || t_fail supp_both_syntaxes_pass "exit $rc"
sed -n '/^SUPPRESSIONS/,$p' "$T/sp.txt" | sed "s|$T|T|g" >"$T/sp.got"
cat >"$T/sp.want" <<'W'
SUPPRESSIONS: 2 matched, 2 stale
   matched: leak:lose_name (T/s1.supp:2): 2 records, 200 bytes in 2 blocks
   stale: leak:never_called (T/s1.supp:3): matched no leak
   matched: cache (T/s2.supp:1): 2 records, 256 bytes in 4 blocks
   stale: stale_block (T/s2.supp:8): matched no leak
W
t_golden supp_text_matched_and_stale "$T/sp.want" "$T/sp.got"
if [ "$(grep -c 'suppressed by ' "$T/sp.txt")" = 4 ]; then t_pass supp_text_marks_findings
else t_fail supp_text_marks_findings "$(head -c 300 "$T/sp.txt")"; fi
if python3 - "$T/sp.json" 2>"$T/py.err" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "pass" and d["version"] == 2, d["status"]
s = {x["name"]: (x["syntax"], x["records"], x["bytes"], x["stale"]) for x in d["suppressions"]}
assert s == {"leak:lose_name": ("lsan", 2, 200, False), "leak:never_called": ("lsan", 0, 0, True),
             "cache": ("valgrind", 2, 256, False), "stale_block": ("valgrind", 0, 0, True)}, s
f = sorted((x["site"], x["suppression"], x["counted"]) for x in d["findings"])
assert f == [("tests/report/gate/twoleaks.c:13", "cache", False)] * 2 + \
           [("tests/report/gate/twoleaks.c:21", "leak:lose_name", False)] * 2, f
P
then t_pass supp_json; else t_fail supp_json "$(tail -c 300 "$T/py.err")"; fi
if xmllint --noout "$T/sp.xml" 2>"$T/x.err" \
   && xmllint --xpath 'string(//testsuite/system-out)' "$T/sp.xml" | grep -q '^stale: leak:never_called' \
   && [ "$(xmllint --xpath 'count(//testcase)' "$T/sp.xml")" = 2 ]
then t_pass supp_junit_system_out; else t_fail supp_junit_system_out "$(head -c 300 "$T/x.err")"; fi
sed "s|$T|T|g" "$T/sp.gh" >"$T/spgh.got"
cat >"$T/spgh.want" <<'W'
::warning file=T/s1.supp,line=3,title=heapsnap stale suppression::stale: leak:never_called (T/s1.supp:3): matched no leak
::warning file=T/s2.supp,line=8,title=heapsnap stale suppression::stale: stale_block (T/s2.supp:8): matched no leak
W
t_golden supp_github_stale_warnings "$T/spgh.want" "$T/spgh.got"
if python3 - "$T/sp.sarif" 2>"$T/py.err" <<'P'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
res = run["results"]
assert len(res) == 4 and all(r["suppressions"][0]["kind"] == "external" for r in res), res
assert {r["suppressions"][0]["justification"].split(" (")[0] for r in res} == \
       {"heapsnap suppression cache", "heapsnap suppression leak:lose_name"}
n = run["invocations"][0]["toolExecutionNotifications"]
assert sorted(x["message"]["text"].split(" (")[0] for x in n) == \
       ["stale: leak:never_called", "stale: stale_block"], n
# only frames really below the source root are SRCROOT-relative (no "../" escapes)
for r in res:
    for l in r["locations"] + r["relatedLocations"]:
        a = l["physicalLocation"]["artifactLocation"]
        assert not (a.get("uriBaseId") and a["uri"].startswith("..")), a
P
then t_pass supp_sarif_suppressions_and_stale; else t_fail supp_sarif_suppressions_and_stale "$(tail -c 300 "$T/py.err")"; fi
sarif_check supp_sarif_validates "$T/sp.sarif"
# the rules file's suppressions list works the same way
mkdir -p "$T/srepo"
printf 'suppressions = ["%s", "%s"]\n' "$T/s1.supp" "$T/s2.supp" >"$T/srepo/.heapsnap.toml"
(cd "$T/srepo" && "$HEAPSNAP" gate $two >"$T/srf.out" 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'stale: stale_block' "$T/srf.out" && t_pass supp_rules_file || t_fail supp_rules_file "exit $rc: $(head -c 300 "$T/srf.out")"
printf 'leak:ok\nbogus line\n' >"$T/bad.supp"
"$HEAPSNAP" gate --suppressions "$T/bad.supp" $two >/dev/null 2>"$T/bs.err"; rc=$?
[ $rc = 2 ] && grep -q "^heapsnap: $T/bad.supp:2: " "$T/bs.err" && t_pass supp_bad_file_exit_2 || t_fail supp_bad_file_exit_2 "exit $rc: $(cat "$T/bs.err")"
# leak findings' SARIF fingerprints are the same for two runs of the program (ASLR, new pids)
for i in 1 2; do "$HEAPSNAP" gate --format sarif -o "$T/two$i.sarif" "$T/two$i.hsnap" >/dev/null 2>&1; done
grep -o '"heapsnapStack/v1": "[0-9a-f]*"' "$T/two1.sarif" >"$T/tf1"; grep -o '"heapsnapStack/v1": "[0-9a-f]*"' "$T/two2.sarif" >"$T/tf2"
[ "$(wc -l <"$T/tf1")" = 2 ] && t_golden sarif_leak_fingerprint_stable "$T/tf1" "$T/tf2" || t_fail sarif_leak_fingerprint_stable "$(cat "$T/tf1")"
if python3 - "$T/two1.sarif" 2>"$T/py.err" <<'P'
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
got = sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"],
              r["relatedLocations"][0]["message"]["text"]) for r in res)
assert got == [("leak-direct", "tests/report/gate/twoleaks.c", 13, "main"),
               ("leak-direct", "tests/report/gate/twoleaks.c", 21, "main")], got
P
then t_pass sarif_leak_location_and_related; else t_fail sarif_leak_location_and_related "$(tail -c 300 "$T/py.err")"; fi
"$HEAPSNAP" gate --format github "$T/two1.hsnap" 2>/dev/null | sed 's/\[[0-9]*\]/[PID]/' >"$T/lgh.txt"
cat >"$T/lgh.want" <<'W'
::error file=tests/report/gate/twoleaks.c,line=13,title=heapsnap leak-direct::128 bytes in 2 blocks leaked (direct) at tests/report/gate/twoleaks.c:13 in two[PID]
::error file=tests/report/gate/twoleaks.c,line=21,title=heapsnap leak-direct::100 bytes in 1 blocks leaked (direct) at tests/report/gate/twoleaks.c:21 in two[PID]
W
t_golden github_leak_annotations_exact "$T/lgh.want" "$T/lgh.txt"
