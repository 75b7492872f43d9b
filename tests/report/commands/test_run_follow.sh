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

# A shell that runs its command as a child (`sh -c "CMD; true"`, a script
# without exec) is the pid run started: its children are followed, bash's
# too (bash's own unsetenv, before bash has read its environment, leaves
# HEAPSNAP_LAUNCHER in place: launch_unset), and when it started one
# process alone, -o's name goes to that process (follow_hand_name); two
# commands leave the name with the shell.  (A last command that is not a
# builtin, the shell may exec instead: bash -c does.)
fxabs=$(cd "$FX" && pwd)
for sh in sh bash; do
  command -v "$sh" >/dev/null || { t_skip "run_${sh}_hands_its_name_to_its_one_command" "no $sh"; continue; }
  mkdir -p "$T/$sh"
  "$HEAPSNAP" run -o "$T/$sh/s.hsnap" -- "$sh" -c "\"$FX/sites\"; true" >/dev/null 2>"$T/$sh.err"; rc=$?
  "$HEAPSNAP" info "$T/$sh/s.hsnap" >"$T/$sh.info" 2>&1
  shell=$(ls "$T/$sh" | grep '^s\.[0-9]*\.hsnap$')
  if [ $rc = 0 ] && grep -q "^executable: *$fxabs/sites\$" "$T/$sh.info" && [ -n "$shell" ] &&
     [ "$(ls "$T/$sh" | wc -l)" = 2 ] &&
     grep -q "^heapsnap: $sh ran its one command as its child, pid [0-9]*: .*s.hsnap is that program's snapshot, and the shell's has its pid\$" "$T/$sh.err" &&
     grep -q "the program's: pid [0-9]* (sites)" "$T/$sh.err"; then
    t_pass "run_${sh}_hands_its_name_to_its_one_command"
  else t_fail "run_${sh}_hands_its_name_to_its_one_command" "exit $rc: $(ls -A "$T/$sh" | tr '\n' ' ') $(head -3 "$T/$sh.info" | tr '\n' ' ') $(tail -n +3 "$T/$sh.err" | head -c 400)"; fi
done
mkdir -p "$T/two"
"$HEAPSNAP" run -o "$T/two/s.hsnap" -- bash -c "\"$FX/sites\"; \"$FX/sites\"; true" >/dev/null 2>"$T/two.err"
"$HEAPSNAP" info "$T/two/s.hsnap" >"$T/two.info" 2>&1
if grep -q '^executable: .*/bash$' "$T/two.info" && [ "$(ls "$T/two" | grep -c '^s\.[0-9]*\.hsnap$')" = 2 ] &&
   ! grep -q 'as its child' "$T/two.err"; then t_pass run_shell_with_two_commands_keeps_its_name
else t_fail run_shell_with_two_commands_keeps_its_name "$(ls -A "$T/two" | tr '\n' ' ') $(head -3 "$T/two.info" | tr '\n' ' ') $(head -c 300 "$T/two.err")"; fi
# a shell that did the work itself (a peak higher than its one command's)
# keeps the name: a script's closing `echo` is not its program
mkdir -p "$T/work"
"$HEAPSNAP" run -o "$T/work/s.hsnap" -- bash -c 'x=""; for i in {1..3000}; do x="$x.$i"; done; /bin/echo done >/dev/null; true' \
  >/dev/null 2>"$T/work.err"
"$HEAPSNAP" info "$T/work/s.hsnap" >"$T/work.info" 2>&1
if grep -q '^executable: .*/bash$' "$T/work.info" && [ "$(ls "$T/work" | grep -c '^s\.[0-9]*\.hsnap$')" = 1 ] &&
   ! grep -q 'as its child' "$T/work.err"; then t_pass run_shell_that_did_the_work_keeps_its_name
else t_fail run_shell_that_did_the_work_keeps_its_name "$(ls -A "$T/work" | tr '\n' ' ') $(head -3 "$T/work.info" | tr '\n' ' ') $(head -c 300 "$T/work.err")"; fi
