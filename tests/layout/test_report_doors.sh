# test_report_doors.sh - the CLI's rooms keep to their doors: the model
# knows no command line (no getopt, no option or help of a command: those
# live with each command), cli.h in the lowest room declares no command
# (the commands' door is commands.h, which main's dispatch table reads),
# and the files of commands/, load/, inject/ and runner/ call each other
# in no circle (run -> live -> attach -> run was one; snap <-> state
# another).  Read from the built objects with nm, as the linker sees them.

# model_cli_uses OBJ...: the command-line symbols the objects use.
cli_syms='getopt|getopt_long|optarg|optind|opterr|optopt|cli_bad_option|cli_bad_value|cli_parse_format|cli_parse_kind|cli_nearest|cli_prefix'
model_cli_uses() {
  nm "$@" 2>/dev/null | awk -v re="^($cli_syms)\$" '$1 ~ /^[Uwv]$/ && $2 ~ re { print $2 }' | sort -u | tr '\n' ' '
}
objs=""
for f in report/model/*.c; do objs="$objs $BUILD/obj/${f%.c}.o"; done
# shellcheck disable=SC2086
used=$(model_cli_uses $objs)
if [ -z "$used" ]; then t_pass report_model_knows_no_getopt
else t_fail report_model_knows_no_getopt "report/model/ uses $used"; fi

# The same look finds a getopt call planted in an object.
printf '#include <getopt.h>\nint planted(int c, char **v) { return getopt_long(c, v, "", 0, 0) + optind; }\n' >"$T/planted.c"
if cc -c "$T/planted.c" -o "$T/planted.o" && [ "$(model_cli_uses "$T/planted.o")" = "getopt_long optind " ]; then
  t_pass report_model_getopt_check_sees_a_planted_call
else t_fail report_model_getopt_check_sees_a_planted_call "$(model_cli_uses "$T/planted.o")"; fi

# No command, nor a command's helper, declared in the lowest room.
decl=$(grep -nE '\b(cmd|run|live|attach)_[a-z_]+ *\(' report/base/*.h | head -5)
if [ -z "$decl" ]; then t_pass report_base_declares_no_command
else t_fail report_base_declares_no_command "$(echo "$decl" | tr '\n' ' ')"; fi
if grep -q '^#include "commands.h"' report/main.c; then
  t_pass report_main_takes_its_commands_from_their_door
else t_fail report_main_takes_its_commands_from_their_door "report/main.c does not include commands.h"; fi

# No circle of files inside commands/, load/, inject/ or runner/
# (callgraph.py names one as "within ROOM/ ... call each other in circles").
for room in report/commands report/load report/inject report/runner; do
  name=${room#report/}
  out=$(scripts/callgraph.py "$BUILD/obj" "$room" 2>&1)
  circle=$(echo "$out" | grep "^within $room/")
  if [ -z "$circle" ] && echo "$out" | grep -q '^rooms:'; then t_pass "report_${name}_files_call_in_no_circle"
  else t_fail "report_${name}_files_call_in_no_circle" "${circle:-$(echo "$out" | head -c 300)}"; fi
done
