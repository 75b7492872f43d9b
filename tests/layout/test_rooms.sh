# tests/layout/test_rooms.sh - the tree is the architecture: files of
# different rooms (folders) never call each other in a circle.  The call
# graph comes from the built objects (scripts/callgraph.sh: nm's undefined
# against defined symbols), so it sees what the linker sees.

ROOT=$PWD
if out=$(scripts/callgraph.sh report report/gate 2>&1); then t_pass report_rooms_have_no_cross_room_cycle
else t_fail report_rooms_have_no_cross_room_cycle "$(echo "$out" | tr '\n' '|')"; fi

# The check itself, on two rooms whose files call each other: a circle
# across rooms fails, the same circle inside one room is only listed.
mkdir -p "$T/s/a" "$T/s/b" "$T/o/a" "$T/o/b"
printf 'int y(int);\nint x(int n) { return n ? y(n - 1) : 0; }\n' >"$T/s/a/x.c"
printf 'int x(int);\nint y(int n) { return n ? x(n - 1) : 1; }\n' >"$T/s/b/y.c"
cp "$T/s/b/y.c" "$T/s/a/y.c"
${CC:-gcc} -c "$T/s/a/x.c" -o "$T/o/a/x.o" && ${CC:-gcc} -c "$T/s/b/y.c" -o "$T/o/b/y.o" &&
  ${CC:-gcc} -c "$T/s/a/y.c" -o "$T/o/a/y.o"
mv "$T/o/a/y.o" "$T/o/a/y.keep"
(cd "$T/s" && "$ROOT/scripts/callgraph.sh" -b "$T/o" a b) >"$T/cross.out" 2>&1; rc=$?
if [ "$rc" = 1 ] && grep -q '^FAIL cycle across rooms: a/x.c b/y.c$' "$T/cross.out"; then
  t_pass callgraph_fails_on_a_cycle_across_rooms
else t_fail callgraph_fails_on_a_cycle_across_rooms "exit $rc: $(tr '\n' '|' <"$T/cross.out")"; fi
mv "$T/o/a/y.keep" "$T/o/a/y.o"
(cd "$T/s" && "$ROOT/scripts/callgraph.sh" -b "$T/o" a) >"$T/inside.out" 2>&1; rc=$?
if [ "$rc" = 0 ] && grep -q '^cycle inside a/: a/x.c a/y.c$' "$T/inside.out"; then
  t_pass callgraph_lists_a_cycle_inside_a_room
else t_fail callgraph_lists_a_cycle_inside_a_room "exit $rc: $(tr '\n' '|' <"$T/inside.out")"; fi
