# test_run_jobs.sh - how tests/run.sh schedules the test files, checked on a
# tree of three made-up files (each writes "start NAME" and "end NAME" to
# one log): with TEST_JOBS=1 they run one after another, the one that
# tests/durations says is longest first though another comes first in path
# order, and the one whose opening says "serial: WHY" last; with
# TEST_JOBS=2 the two others overlap and the serial one starts when both
# have ended.  Every verdict line is printed in both, and the last line
# counts them all.
rt=$T/rt
mkdir -p "$rt/tests/x" "$rt/shim" "$rt/report"
cp tests/run.sh tests/lib.sh "$rt/tests/"
echo "9 test_long" >"$rt/tests/durations"
# mk NAME [HEADER]: a test file that naps $rt/nap.NAME seconds between its lines
mk() {
  { [ -n "${2:-}" ] && echo "$2"
    echo "echo start $1 >>'$rt/events'; sleep \$(cat '$rt/nap.$1'); echo end $1 >>'$rt/events'"
    echo "t_pass runjobs_$1"; } >"$rt/tests/x/test_$1.sh"
}
mk a_short; mk long; mk alone "# serial: a made-up file that must run alone"
# rj JOBS NAP_SHORT NAP_LONG: runs the tree (its output in $out), the events
# on one line in $ev
rj() {
  rm -f "$rt/events"; echo "$2" >"$rt/nap.a_short"; echo "$3" >"$rt/nap.long"; echo 0 >"$rt/nap.alone"
  out=$(cd "$rt" && TEST_JOBS=$1 tests/run.sh x/ 2>&1)
  ev=$(tr '\n' ' ' <"$rt/events")
}
rj 1 0 0
if [ "$ev" = "start long end long start a_short end a_short start alone end alone " ] &&
   [ "$(echo "$out" | grep -c '^PASS runjobs_')" = 3 ] && echo "$out" | tail -1 | grep -q '^6 passed, 0 failed'; then
  t_pass run_sh_runs_the_longest_first_and_serial_files_last
else t_fail run_sh_runs_the_longest_first_and_serial_files_last "events: $ev; $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
rj 2 1 2
case "$ev" in
  "start "*" start "*" end a_short end long start alone end alone ")
    if [ "$(echo "$out" | grep -c '^PASS runjobs_')" = 3 ]; then t_pass run_sh_runs_files_at_once_and_serial_files_alone
    else t_fail run_sh_runs_files_at_once_and_serial_files_alone "$(echo "$out" | tr '\n' ' ')"; fi ;;
  *) t_fail run_sh_runs_files_at_once_and_serial_files_alone "events: $ev" ;;
esac
