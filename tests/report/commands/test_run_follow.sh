# tests/report/commands/test_run_follow.sh - what `heapsnap run` follows: a wrapper script
# that runs helpers (a $(...) subshell, readlink, dirname, basename) and then
# execs the program leaves one snapshot, the program's, and says nothing of the
# helpers (they served the launcher and were never traced); --follow all keeps
# the helpers' too; a program's own children (the forker fixture: parent and
# child) are kept.
. tests/fixtures/lib.sh
FX_TEST=run_follow fx_ready sites forker || return 0
printf '#!/bin/sh\nd=$(dirname "$(readlink -f "$0")")\nn=$(basename "$1")\n[ -n "$d$n" ] && exec "$@"\n' >"$T/wrap.sh"
chmod +x "$T/wrap.sh"

"$HEAPSNAP" run --output-dir "$T/w" -- "$T/wrap.sh" "$FX/sites" >/dev/null 2>"$T/w.err"; rc=$?
if [ $rc = 0 ] && [ "$(ls "$T/w")" = "$(ls "$T/w" | grep '^sites\.[0-9]*\.hsnap$')" ] && [ "$(ls "$T/w" | wc -l)" = 1 ] &&
   ! grep -q "left out\|another process\|replacing" "$T/w.err"; then
  t_pass run_wrapper_script_one_snapshot
else t_fail run_wrapper_script_one_snapshot "exit $rc, files: $(ls "$T/w" | tr '\n' ' ') $(head -c 300 "$T/w.err")"; fi

"$HEAPSNAP" run --follow all --output-dir "$T/a" -- "$T/wrap.sh" "$FX/sites" >/dev/null 2>"$T/a.err"
n=$(ls "$T/a" | wc -l)
if [ "$n" -gt 3 ] && ls "$T/a" | grep -q '^readlink\.' && ls "$T/a" | grep -q '^sites\.' &&
   ! grep -q 'left out' "$T/a.err"; then t_pass run_follow_all_keeps_helpers
else t_fail run_follow_all_keeps_helpers "$n files: $(ls "$T/a" | tr '\n' ' ')"; fi

"$HEAPSNAP" run --output-dir "$T/f" -- "$T/wrap.sh" "$FX/forker" >/dev/null 2>&1
[ "$(ls "$T/f" | grep -c '^forker\.[0-9]*\.hsnap$')" = 2 ] && [ "$(ls "$T/f" | wc -l)" = 2 ] &&
  t_pass run_wrapper_program_children_kept || t_fail run_wrapper_program_children_kept "$(ls "$T/f" | tr '\n' ' ')"

"$HEAPSNAP" run --follow some -- true 2>"$T/bad.err"; rc=$?
[ $rc = 2 ] && grep -q "bad value for --follow: 'some' (program, all)" "$T/bad.err" &&
  t_pass run_follow_bad_value || t_fail run_follow_bad_value "exit $rc: $(cat "$T/bad.err")"
