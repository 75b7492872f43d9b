# tests/report/base/test_hostile.sh - the CLI on hostile input: FIFOs, devices and
# sparse giants given as snapshots, rules, suppressions or named as modules
# inside a snapshot; names with control characters and invalid UTF-8 in
# every output format; out-of-range option values; crafted STATS sums.
# Nothing may hang (every command runs under timeout), nothing may reach a
# CI runner's stdout as a workflow command, and every refusal is exit 2
# with one line on stderr.
# tier: full (hostile inputs against every command)

# h_trouble NAME WANT_SUBSTRING CMD...: exit 2 within 10 s, one stderr line
h_trouble() {
  local name=$1 want=$2; shift 2
  timeout 10 "$@" >"$T/h.out" 2>"$T/h.err" </dev/null; local rc=$?
  local lines; lines=$(wc -l <"$T/h.err")
  if [ "$rc" -eq 124 ]; then t_fail "$name" "still running after 10 s"
  elif [ "$rc" -ne 2 ]; then t_fail "$name" "exit $rc, want 2: $(head -c 200 "$T/h.err")"
  elif [ "$lines" -ne 1 ]; then t_fail "$name" "$lines lines on stderr: $(head -c 300 "$T/h.err" | tr '\n' '|')"
  elif ! grep -qF -- "$want" "$T/h.err"; then t_fail "$name" "stderr lacks '$want': $(cat "$T/h.err")"
  else t_pass "$name"; fi
}

cc_ok=1
${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err" || cc_ok=0
${CC:-gcc} -Ishim tests/report/craft.c -o "$T/craft" -lz 2>>"$T/cc.err" || cc_ok=0
if [ $cc_ok = 0 ]; then t_fail hostile_tools_build "$(head -c 300 "$T/cc.err")"; return 0 2>/dev/null || exit 0; fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
good=$T/c/blocks.hsnap
mkfifo "$T/fifo"

# --- 1. FIFOs and devices are refused, never waited on ----------------------
h_trouble snapshot_fifo_refused "fifo: not a regular file (a FIFO)" "$HEAPSNAP" info "$T/fifo"
h_trouble snapshot_dev_zero_refused "/dev/zero: not a regular file (a character device)" \
  "$HEAPSNAP" top /dev/zero
h_trouble baseline_fifo_refused "not a regular file (a FIFO)" \
  "$HEAPSNAP" gate --fail-on none --baseline "$T/fifo" --max-growth 5% "$good"
h_trouble rules_fifo_refused "fifo: not a regular file (a FIFO)" \
  "$HEAPSNAP" gate --rules "$T/fifo" "$good"
h_trouble rules_dev_zero_refused "/dev/zero: not a regular file (a character device)" \
  "$HEAPSNAP" gate --rules /dev/zero "$good"
h_trouble suppressions_fifo_refused "fifo: not a regular file (a FIFO)" \
  "$HEAPSNAP" leaks --suppressions "$T/fifo" "$good"
h_trouble gate_suppressions_dev_zero_refused "/dev/zero: not a regular file" \
  "$HEAPSNAP" gate --suppressions /dev/zero "$good"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$T/big.toml"
h_trouble rules_file_capped "big.toml: larger than 1048576 bytes" \
  "$HEAPSNAP" gate --rules "$T/big.toml" "$good"
printf 'leak:a\n\0leak:b\n' >"$T/nul.supp"
h_trouble suppressions_nul_byte_refused "nul.supp: a NUL byte at offset 7" \
  "$HEAPSNAP" leaks --suppressions "$T/nul.supp" "$good"

# a module path inside a snapshot that names a FIFO: missing debug info, once
"$T/craft" names "$T/m.hsnap" "$T/fifo" "./prog" "/nonexistent/prog"
timeout 10 "$HEAPSNAP" top -n 0 "$T/m.hsnap" >"$T/m.out" 2>"$T/m.err"; rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'fifo: not a regular file (a FIFO); frames shown as module+offset' "$T/m.err")" = 1 ] \
   && grep -q '^fifo+0x[0-9a-f]*: size=' "$T/m.out"; then t_pass module_fifo_is_missing_debug_info
else t_fail module_fifo_is_missing_debug_info "exit $rc: $(head -c 300 "$T/m.err")"; fi

# --- 2. a sparse giant costs one header read ----------------------------------
truncate -s 10G "$T/sparse.hsnap"
h_trouble sparse_10g_refused_by_magic "sparse.hsnap: not a heapsnap snapshot (bad magic)" \
  "$HEAPSNAP" info "$T/sparse.hsnap"
cp "$good" "$T/sparse2.hsnap" && truncate -s 10G "$T/sparse2.hsnap"
h_trouble sparse_10g_refused_by_header_size "sparse2.hsnap: " "$HEAPSNAP" top "$T/sparse2.hsnap"
grep -q "trailing data" "$T/h.err" || t_fail sparse_10g_header_size_reason "$(cat "$T/h.err")"

# --- 3. names with control characters and invalid UTF-8, in every format ----
# module 0 (the frames' "[module]" file and "module+0xoff" function), the
# command line and the executable: a forged "::error" line, an ESC sequence
# and a UTF-16 surrogate encoded as CESU-8
evil_mod=$'/nonexistent/ev\n::error::pwned\e[31m\xed\xa0\x80'
evil_cmd=$'./prog\n::error::cmd\e]0;title\a'
evil_exe=$'/x/e\nx\xed\xa0\x80e'
ev=$T/ev$'\xed\xa0\x80'.hsnap
"$T/craft" names "$ev" "$evil_mod" "$evil_cmd" "$evil_exe"
# h_clean NAME FILE: no line starts with "::", no ESC or BEL byte, valid UTF-8
h_clean() {
  if grep -aq '^::' "$2"; then t_fail "$1" "a line starts with '::': $(grep -am1 '^::' "$2" | head -c 200)"
  elif grep -aq $'[\e\a]' "$2"; then t_fail "$1" "a raw control character: $(grep -m1 $'[\e\a]' "$2" | od -c | head -3)"
  elif ! iconv -f UTF-8 -t UTF-8 "$2" >/dev/null 2>&1; then t_fail "$1" "not UTF-8"
  elif ! [ -s "$2" ]; then t_fail "$1" "no output"
  else t_pass "$1"; fi
}
while read -r name args; do
  extra=""; case $args in trend) extra=$ev ;; esac
  timeout 10 "$HEAPSNAP" $args "$ev" $extra >"$T/t.out" 2>>"$T/t.err"
  h_clean "text_escaped_$name" "$T/t.out"
done <<'L'
top top -n 0
top_traceback top --key traceback
top_module top --key module
top_function_cumulative top --key function --cumulative
info info
leaks leaks
leaks_gen_suppressions leaks --gen-suppressions
gate gate
trend trend
L
h_clean text_escaped_warnings "$T/t.err"
# bidirectional controls (U+202E turns "gpj.exe" into "exe.jpg" on screen,
# U+2066 opens an isolate) and U+2028 (a line separator): "\uXXXX" in text
# (as UTF-8 bytes: $'\u...' depends on the locale)
rlo=$'\xe2\x80\xae' lro=$'\xe2\x80\xad' lri=$'\xe2\x81\xa6' pdi=$'\xe2\x81\xa9' lsep=$'\xe2\x80\xa8'
"$T/craft" names "$T/bidi.hsnap" "/nonexistent/lib${rlo}gpj.so" "./prog ${lri}x${pdi} ${lsep}y" "/x/${lro}e"
timeout 10 "$HEAPSNAP" info "$T/bidi.hsnap" >"$T/b.out" 2>&1
timeout 10 "$HEAPSNAP" top --key module "$T/bidi.hsnap" >>"$T/b.out" 2>&1
if LC_ALL=C grep -aq "$rlo\|$lro\|$lri\|$pdi\|$lsep" "$T/b.out"; then
  t_fail text_escapes_bidi_controls "raw: $(LC_ALL=C grep -am1 "$rlo\|$lri" "$T/b.out" | od -c | head -2)"
elif grep -q 'lib\\u202egpj.so' "$T/b.out" && grep -q '\\u2066x\\u2069 \\u2028y' "$T/b.out" &&
     grep -q '/x/\\u202de' "$T/b.out"; then
  t_pass text_escapes_bidi_controls
else
  t_fail text_escapes_bidi_controls "$(head -c 400 "$T/b.out")"
fi
timeout 10 "$HEAPSNAP" diff "$good" "$ev" >"$T/t.out" 2>&1; h_clean text_escaped_diff "$T/t.out"
grep -qF 'ev\n::error::pwned\x1b[31m\xed\xa0\x80+0x' "$T/t.out" \
  && t_pass text_escape_shows_the_bytes || t_fail text_escape_shows_the_bytes "$(head -c 300 "$T/t.out")"
timeout 10 "$HEAPSNAP" info "$ev" >"$T/t.out" 2>&1
grep -qF 'command:          ./prog\n::error::cmd\x1b]0;title\x07' "$T/t.out" \
  && t_pass info_command_line_escaped || t_fail info_command_line_escaped "$(head -3 "$T/t.out")"
timeout 10 "$HEAPSNAP" gate --format github "$ev" >"$T/gh.out" 2>/dev/null
if grep -q '^::error::\|^::warning::' "$T/gh.out" || grep -v '^::error \|^::warning ' "$T/gh.out" | grep -q .; then
  t_fail github_annotations_not_forged "$(head -c 400 "$T/gh.out")"
elif ! grep -q '^::error ' "$T/gh.out"; then t_fail github_annotations_not_forged "no annotation: $(head -c 300 "$T/gh.out")"
else t_pass github_annotations_not_forged; fi

timeout 10 "$HEAPSNAP" gate --format json -o "$T/ev.json" --format junit -o "$T/ev.xml" \
  --format sarif -o "$T/ev.sarif" "$ev" >/dev/null 2>&1
timeout 10 "$HEAPSNAP" leaks --format json "$ev" >"$T/evl.json" 2>/dev/null
for f in ev.json evl.json ev.sarif; do
  python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' "$T/$f" 2>"$T/py.err" \
    && t_pass "json_parses_hostile_names_${f%.*}_${f#*.}" || t_fail "json_parses_hostile_names_${f%.*}_${f#*.}" "$(tail -c 300 "$T/py.err")"
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any("\ufffd" in p["snapshot"] for p in d["processes"]), d["processes"]' \
  "$T/ev.json" 2>"$T/py.err" && t_pass json_invalid_utf8_is_replacement_char \
  || t_fail json_invalid_utf8_is_replacement_char "$(tail -c 300 "$T/py.err")"
xmllint --noout "$T/ev.xml" 2>"$T/x.err" && t_pass junit_parses_hostile_names \
  || t_fail junit_parses_hostile_names "$(head -c 300 "$T/x.err")"
if BUILD=$BUILD scripts/install-deps.sh npm >"$T/npm.log" 2>&1; then
  npmdir=$BUILD/npm/node_modules
  cp "$T/ev.sarif" "$T/ev_sarif.json"
  "$npmdir/.bin/ajv" validate --spec=draft2020 --strict=false -c ajv-formats \
    -s "$npmdir/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" -d "$T/ev_sarif.json" >"$T/ajv.out" 2>&1 \
    && t_pass sarif_validates_hostile_names || t_fail sarif_validates_hostile_names "$(head -c 400 "$T/ajv.out")"
else
  t_fail sarif_validates_hostile_names "the npm validator could not be installed: $(tail -c 300 "$T/npm.log")"
fi
h_trouble error_line_escaped "no-such"$'\\n'"::error::x" "$HEAPSNAP" info "$T/no-such"$'\n'"::error::x"

# --- run: a program's name with a newline, its death by a signal, shared names
gcc -g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. tests/report/gate/leakone.c -o "$T/le"$'\n'"aky" \
  || t_fail run_leaky_build gcc
cp "$T/le"$'\n'"aky" "$T/leaky"
(cd "$T" && timeout 30 "$HEAPSNAP" run --gate --output-dir "$T/nl" -- "$T/le"$'\n'"aky") >"$T/nl.out" 2>"$T/nl.err"; rc=$?
if [ $rc = 1 ] && grep -q '100 bytes in 1 blocks leaked (direct) at tests/report/gate/leakone.c:10' "$T/nl.out" \
   && grep -q '^heapsnap: wrote nl/le\\naky\.[0-9]*\.hsnap$' "$T/nl.err"; then t_pass run_gate_name_with_newline
else t_fail run_gate_name_with_newline "exit $rc: $(head -c 300 "$T/nl.err" | tr '\n' '|')"; fi

# h_died NAME SIGNAL CMD...: CMD dies by SIGNAL itself (not exit 128+N)
h_died() {
  local name=$1 sig=$2; shift 2
  local got; got=$(timeout 30 python3 -c 'import subprocess,sys; print(subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode)' "$@")
  [ "$got" = "-$sig" ] && t_pass "$name" || t_fail "$name" "status $got, want death by signal $sig"
}
h_died run_dies_by_the_programs_signal 6 "$HEAPSNAP" run --output-dir "$T/sig" -- sh -c 'kill -ABRT $$'
h_died run_dies_by_sigkill_too 9 "$HEAPSNAP" run --output-dir "$T/sig" -- sh -c 'kill -KILL $$'
(cd "$T" && timeout 30 python3 -c 'import subprocess,sys; print(subprocess.run(sys.argv[1:]).returncode)' \
  "$HEAPSNAP" run --gate --output-dir "$T/sig3" -- sh -c "\"$T/leaky\"; kill -TERM \$\$") >"$T/sg.out" 2>"$T/sg.err"
if [ "$(tail -1 "$T/sg.out")" = -15 ] && grep -q '^heapsnap gate: FAIL' "$T/sg.out"; then t_pass run_gate_reports_then_dies_by_signal
else t_fail run_gate_reports_then_dies_by_signal "$(tail -c 300 "$T/sg.out" | tr '\n' '|')"; fi

# --gate under a name without %p: the shell run started takes the name,
# its children add their pid, and the gate sees the leaky child's leak
mkdir -p "$T/sg2"
timeout 30 "$HEAPSNAP" run --gate -o "$T/sg2/same.hsnap" -- sh -c "\"$T/leaky\" & true & wait" >"$T/sg2.out" 2>"$T/sg2.err"; rc=$?
if [ $rc = 1 ] && [ -e "$T/sg2/same.hsnap" ] && [ "$(ls "$T/sg2" | grep -c '^same\.[0-9]*\.hsnap$')" -ge 1 ] &&
   grep -q 'leaked (direct) at tests/report/gate/leakone.c:10' "$T/sg2.out"; then
  t_pass run_gate_name_without_pid_sees_every_process
else t_fail run_gate_name_without_pid_sees_every_process "exit $rc: $(ls "$T/sg2" | tr '\n' ' ') $(head -c 300 "$T/sg2.out" | tr '\n' '|') $(head -c 200 "$T/sg2.err")"; fi
# Without --gate, processes that share a name without %p keep every
# snapshot, and run lists each file it was told of.  Under run the bare name
# is the program's (the pid run started: here the shell), and every other
# process adds its pid, silently (HEAPSNAP_RUN_PID).
mkdir -p "$T/sm"
timeout 30 "$HEAPSNAP" run -o "$T/sm/same.hsnap" -- sh -c 'echo $$ >"$0"; /bin/true & /bin/true & wait' "$T/sm.pid" >"$T/sm.out" 2>"$T/sm.err"; rc=$?
files=$(ls "$T/sm" | grep -c '^same\(\.[0-9]*\)\?\.hsnap$') wrote=$(grep -c '^heapsnap: wrote ' "$T/sm.err")
if [ $rc = 0 ] && [ "$files" = 3 ] && [ "$files" = "$wrote" ] &&
   "$HEAPSNAP" info "$T/sm/same.hsnap" | grep -Eq "^pid: +$(cat "$T/sm.pid") " &&
   ! grep -q 'another process' "$T/sm.err"
then t_pass run_o_bare_name_is_the_commands_others_add_their_pid
else t_fail run_o_bare_name_is_the_commands_others_add_their_pid "exit $rc, $files files, $wrote listed, shell $(cat "$T/sm.pid"): $("$HEAPSNAP" info "$T/sm/same.hsnap" 2>&1 | grep '^pid') $(head -c 300 "$T/sm.err" | tr '\n' '|')"; fi
# Without run, the first to write takes the name; a later process gives it
# its pid and says so, once per process that found the name taken.
mkdir -p "$T/sm2"
timeout 30 env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/sm2/same.hsnap" sh -c '/bin/true & /bin/true & wait' >/dev/null 2>"$T/sm2.err"; rc=$?
files=$(ls "$T/sm2" | grep -c '^same\(\.[0-9]*\)\?\.hsnap$')
if [ $rc = 0 ] && [ "$files" -ge 2 ] &&
   [ "$(grep -c 'was written by another process' "$T/sm2.err")" = $((files - 1)) ]
then t_pass shared_name_without_run_warns_once_per_process
else t_fail shared_name_without_run_warns_once_per_process "exit $rc, $files files: $(head -c 300 "$T/sm2.err" | tr '\n' '|')"; fi
timeout 30 "$HEAPSNAP" run -o "$T/one.hsnap" -- /bin/true >"$T/sm.out" 2>"$T/sm.err"
grep -q 'replacing' "$T/sm.err" && t_fail run_one_process_no_warning "$(cat "$T/sm.err")" || t_pass run_one_process_no_warning

# --- 4. numeric options: one strict parser, one line naming the option --------
lk=$T/c/leaks.hsnap
[ -e "$lk" ] || lk=$ev
while read -r name want args; do
  h_trouble "$name" "$want" "$HEAPSNAP" $args "$lk"
done <<'L'
max_leaked_bytes_inf_refused --max-leaked-bytes gate --max-leaked-bytes inf
max_leaked_bytes_nan_refused --max-leaked-bytes gate --max-leaked-bytes nan
max_leaked_bytes_exponent_refused --max-leaked-bytes gate --max-leaked-bytes 1e30
max_leaked_bytes_negative_refused --max-leaked-bytes gate --max-leaked-bytes -1
max_leaked_bytes_overflow_refused --max-leaked-bytes gate --max-leaked-bytes 99999999999999999999
max_leaked_blocks_hex_refused --max-leaked-blocks gate --max-leaked-blocks 0x10
max_trend_growth_nan_refused --max-trend-growth gate --max-trend-growth nan%
site_limit_inf_refused --site-limit gate --site-limit lose=inf
exitcode_exponent_refused --exitcode gate --exitcode 1e2
top_count_overflow_refused -n top -n 99999999999999999999
leaks_count_overflow_refused -n leaks -n 99999999999999999999
L
h_trouble max_growth_inf_refused "bad value for --max-growth: 'inf'" \
  "$HEAPSNAP" gate --fail-on none --baseline "$good" --max-growth inf "$good"
h_trouble max_growth_percent_inf_refused "bad value for --max-growth: 'inf%'" \
  "$HEAPSNAP" gate --fail-on none --baseline "$good" --max-growth inf% "$good"
h_trouble fail_on_empty_refused "bad value for --fail-on: ''" "$HEAPSNAP" gate --fail-on '' "$lk"
h_trouble fail_on_only_commas_refused "bad value for --fail-on" "$HEAPSNAP" gate --fail-on ', ,' "$lk"
h_trouble trend_count_overflow_refused "bad value for -n" "$HEAPSNAP" trend -n 99999999999999999999 "$good" "$good"
h_trouble run_depth_overflow_refused "run: bad value for --depth" \
  "$HEAPSNAP" run --depth 99999999999999999999 -o "$T/d.%p.hsnap" -- /bin/true
printf '[gate]\nmax-leaked-bytes = inf\n' >"$T/inf.toml"
h_trouble rules_file_inf_refused "inf.toml:2: bad value for max-leaked-bytes" "$HEAPSNAP" gate --rules "$T/inf.toml" "$lk"
printf 'fail-on = ""\n' >"$T/empty.toml"
h_trouble rules_file_empty_fail_on_refused "empty.toml:1: bad value for fail-on" "$HEAPSNAP" gate --rules "$T/empty.toml" "$lk"
t_status max_leaked_bytes_suffix_accepted 0 "$HEAPSNAP" gate --max-leaked-bytes 1.5M --max-leaked-blocks 1K "$lk"
t_status max_growth_percent_accepted 0 "$HEAPSNAP" gate --fail-on none --baseline "$good" --max-growth 5% "$good"

# --- 5. crafted STATS: refused at load; sums over many snapshots saturate -----
"$T/craft" stats "$T/st.hsnap" 0x8000000000000000
h_trouble stats_overflow_refused_at_load "st.hsnap: STATS live bytes add up to more than" \
  "$HEAPSNAP" top "$T/st.hsnap"
# within the bound: 3100 of them pass INT64_MAX (3100 processes: a process's
# snapshots count once, series.h)
"$T/craft" stats "$T/st3.hsnap" 0x5555555555555 3100
set --; for i in $(seq 3100); do set -- "$@" "$T/st3.hsnap.$i"; done
timeout 30 "$HEAPSNAP" top --key filename "$@" >"$T/st.out" 2>/dev/null; rc=$? # a row of 2 traces
[ $rc = 0 ] && ! grep -q 'size=-' "$T/st.out" && grep -q '^\[prog\]:0: size=8388608 TiB, count=3100' "$T/st.out" \
  && t_pass stats_sums_saturate_never_negative || t_fail stats_sums_saturate_never_negative "exit $rc: $(head -c 200 "$T/st.out")"
set --

# --- 8. files the CLI writes: exclusive temporaries, rename, nothing followed -
mkdir -p "$T/w" && cd "$T/w" || return 0
echo victim >"$T/victim"
# merge's old temporary was "<final>.tmp.<pid>": plant it for the pid that runs
sh -c 'ln -s "$1" "$2.tmp.$$"; exec "$3" merge "$4" "$5" -o "$2"' sh \
  "$T/victim" "$T/w/m.hsnap" "$HEAPSNAP" "$T/c/leaks.hsnap" "$good" >/dev/null 2>"$T/w.err"; rc=$?
if [ $rc = 0 ] && [ "$(cat "$T/victim")" = victim ] && [ -f "$T/w/m.hsnap" ] && [ ! -L "$T/w/m.hsnap" ] \
   && "$HEAPSNAP" info "$T/w/m.hsnap" >/dev/null 2>&1; then t_pass merge_never_follows_a_planted_symlink
else t_fail merge_never_follows_a_planted_symlink "exit $rc, victim: $(head -c 50 "$T/victim"): $(head -c 200 "$T/w.err")"; fi
[ "$(stat -c %a "$T/w/m.hsnap")" = 600 ] && t_pass merged_snapshot_is_0600 || t_fail merged_snapshot_is_0600 "$(stat -c %a "$T/w/m.hsnap")"
# a symlink planted at the target itself: neither followed nor replaced (exit 2)
ln -s "$T/victim" "$T/w/p.hsnap"
"$HEAPSNAP" merge "$T/c/leaks.hsnap" -o "$T/w/p.hsnap" >/dev/null 2>"$T/w.err"; rc=$?
if [ $rc = 2 ] && [ "$(cat "$T/victim")" = victim ] && [ -L "$T/w/p.hsnap" ] \
   && grep -q 'p.hsnap: a symbolic link to a regular file' "$T/w.err"; then t_pass merge_refuses_a_planted_symlink_at_the_target
else t_fail merge_refuses_a_planted_symlink_at_the_target "exit $rc, victim: $(head -c 50 "$T/victim"): $(head -c 200 "$T/w.err")"; fi
ln -s "$T/victim" "$T/w/p.json"
(umask 022; timeout 10 "$HEAPSNAP" gate --format json -o "$T/w/r.json" --format junit -o "$T/w/r.xml" "$T/c/leaks.hsnap" >/dev/null 2>&1)
timeout 10 "$HEAPSNAP" gate --format json -o "$T/w/p.json" "$T/c/leaks.hsnap" >/dev/null 2>"$T/w.err"; rc=$?
if [ $rc = 2 ] && [ "$(cat "$T/victim")" = victim ] && [ -L "$T/w/p.json" ] && python3 -m json.tool "$T/w/r.json" >/dev/null 2>&1 \
   && xmllint --noout "$T/w/r.xml" 2>/dev/null; then t_pass gate_output_never_follows_a_planted_symlink
else t_fail gate_output_never_follows_a_planted_symlink "exit $rc, victim: $(head -c 80 "$T/victim")"; fi
[ "$(stat -c %a "$T/w/r.json")" = 644 ] && t_pass gate_report_mode_follows_umask || t_fail gate_report_mode_follows_umask "$(stat -c %a "$T/w/r.json")"
# a write that fails (here: the file size limit, as a full disk would) leaves the target as it was
echo before >"$T/w/full.hsnap"; echo before >"$T/w/full.json"
# (stderr through a pipe: the limit applies to a file it is redirected to)
(ulimit -f 0; trap '' XFSZ; exec "$HEAPSNAP" merge "$T/c/leaks.hsnap" -o "$T/w/full.hsnap") 2>&1 >/dev/null | cat >"$T/f.err"
rc=${PIPESTATUS[0]}
(ulimit -f 0; trap '' XFSZ; exec "$HEAPSNAP" gate --format json -o "$T/w/full.json" "$T/c/leaks.hsnap") 2>&1 >/dev/null | cat >"$T/f2.err"
rc2=${PIPESTATUS[0]}
if [ $rc = 2 ] && [ $rc2 = 2 ] && grep -q 'full.hsnap: File too large' "$T/f.err" && grep -q 'full.json: File too large' "$T/f2.err" \
   && [ "$(cat "$T/w/full.hsnap" "$T/w/full.json")" = "before
before" ] && [ -z "$(ls -A "$T/w" | grep '^\..*\.tmp\.')" ]; then t_pass failed_write_leaves_target_untouched
else t_fail failed_write_leaves_target_untouched "exit $rc/$rc2: $(cat "$T/f.err" "$T/f2.err" | head -c 200) files: $(ls -A "$T/w" | tr '\n' ' ')"; fi

# clean: stale temporaries of a killed writer, nothing else
mkdir -p "$T/cl" && cd "$T/cl"
: >.a.hsnap.tmp.Ab12Cd; : >.b.hsnap.tmp.Zz99yy77; : >.c.hsnap.tmp.fresh1; : >.d.tmp.ab1; : >e.hsnap.tmp.abcdef
ln -s "$T/victim" .f.hsnap.tmp.link00
touch -h -d '2 minutes ago' .a.hsnap.tmp.Ab12Cd .b.hsnap.tmp.Zz99yy77 .d.tmp.ab1 e.hsnap.tmp.abcdef .f.hsnap.tmp.link00
"$HEAPSNAP" clean --dry-run "$T/cl" | sort >"$T/cl.dry"
"$HEAPSNAP" clean "$T/cl" | sort >"$T/cl.out"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$T/cl.dry")" = 2 ] && grep -q "^removed $T/cl/.a.hsnap.tmp.Ab12Cd (0 bytes)" "$T/cl.out" \
   && [ "$(ls -A "$T/cl" | sort | tr '\n' ' ')" = ".c.hsnap.tmp.fresh1 .d.tmp.ab1 .f.hsnap.tmp.link00 e.hsnap.tmp.abcdef " ] \
   && [ "$(cat "$T/victim")" = victim ]; then t_pass clean_removes_only_stale_temporaries
else t_fail clean_removes_only_stale_temporaries "exit $rc: $(cat "$T/cl.out" | tr '\n' '|') left: $(ls -A "$T/cl" | tr '\n' ' ')"; fi
cd - >/dev/null
