# tests/report/commands/test_cli_truth.sh - a CLI that never misleads (issue 19): loss
# records numbered among all of them under -n, diff's help and options are its
# own, sampled estimates said to be estimates, help and version conventions.
. tests/fixtures/lib.sh
FX_TEST=cli_truth_fixtures
fx_ready sites || return 0
flags="-g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. -Ishim"

# --- leaks -n 2 of 3 sites: "loss record 1 of 3" and "2 of 3" (largest first) ---
tests/shim/leak/classes/leakfix.sh direct_sites >/dev/null 2>&1 || t_fail leakfix_build "direct_sites"
"$HEAPSNAP" run --leaks -o "$T/ds.hsnap" -- "$BUILD/leakfix/direct_sites" >/dev/null 2>&1
all=$("$HEAPSNAP" leaks -n 0 "$T/ds.hsnap" | grep -c 'in loss record')
"$HEAPSNAP" leaks -n 2 "$T/ds.hsnap" | grep -o 'loss record [0-9]* of [0-9]*' >"$T/n2.got"
printf 'loss record %d of %d\nloss record %d of %d\n' 1 "$all" 2 "$all" >"$T/n2.want"
[ "$all" -gt 2 ] && t_golden leaks_n_numbers_among_all "$T/n2.want" "$T/n2.got" || t_fail leaks_n_numbers_among_all "only $all records"

# --- diff lists only its own options, and refuses top's ---
fx_profile "$T/s.hsnap" "$FX/sites"
"$HEAPSNAP" diff --help >"$T/dh.txt"
grep -qE -- '--(pid|exe|retainers)' "$T/dh.txt" && t_fail diff_help_lists_no_top_options "$(grep -E -- '--(pid|exe|retainers)' "$T/dh.txt")" || t_pass diff_help_lists_no_top_options
"$HEAPSNAP" top --help | grep -q -- '--retainers' && t_pass top_help_lists_top_options || t_fail top_help_lists_top_options
"$HEAPSNAP" diff --pid 1 "$T/s.hsnap" "$T/s.hsnap" >"$T/dp.out" 2>"$T/dp.err"; rc=$?
[ $rc = 2 ] && grep -qx 'heapsnap: diff: --pid is an option of top only (see heapsnap diff --help)' "$T/dp.err" \
  && t_pass diff_refuses_top_options || t_fail diff_refuses_top_options "exit $rc: $(cat "$T/dp.err")"

# --- sampled top: the estimates are said to be estimates, once, on stderr ---
"$HEAPSNAP" run --sample 4096 -o "$T/smp.hsnap" -- "$FX/sites" >/dev/null 2>&1
"$HEAPSNAP" top "$T/smp.hsnap" "$T/smp.hsnap" >"$T/st.out" 2>"$T/st.err"
[ "$(grep -c 'sampled (one allocation per 4096 bytes on average): sizes and counts are estimates' "$T/st.err")" = 1 ] \
  && ! grep -q estimate "$T/st.out" && t_pass top_sampled_says_estimates_once || t_fail top_sampled_says_estimates_once "$(head -c 300 "$T/st.err")"
"$HEAPSNAP" top "$T/s.hsnap" >/dev/null 2>"$T/su.err"
[ ! -s "$T/su.err" ] && t_pass top_exact_says_nothing || t_fail top_exact_says_nothing "$(head -c 300 "$T/su.err")"

# --- progress on stderr: only on a terminal (or HEAPSNAP_PROGRESS=always), never in a pipe ---
# (two processes' snapshots: both count; one process's twice would be one, series.h)
fx_profile "$T/ss.hsnap" "$FX/sites"
HEAPSNAP_PROGRESS=always "$HEAPSNAP" top "$T/s.hsnap" "$T/ss.hsnap" >"$T/pg.out" 2>"$T/pg.err"
[ "$(grep -c '^heapsnap: symbolizing .*s.hsnap ([12])\.\.\.$' "$T/pg.err")" = 2 ] && ! grep -q symbolizing "$T/pg.out" \
  && t_pass progress_lines_on_stderr || t_fail progress_lines_on_stderr "$(head -c 300 "$T/pg.err")"
"$HEAPSNAP" top "$T/s.hsnap" "$T/ss.hsnap" >/dev/null 2>"$T/pg2.err"
[ "$(cat "$T/pg2.err")" = "heapsnap: 2 processes, summed" ] && t_pass progress_silent_off_terminal || t_fail progress_silent_off_terminal "$(head -c 300 "$T/pg2.err")"
