# test_rooms.sh - the tree is the architecture: files of different rooms
# (folders) never call each other in a circle, in the shim (shim/,
# shim/unwind/, shim/leak/) or the CLI (report/, report/gate/).
# scripts/callgraph.py reads the call graph from the built objects (nm's
# undefined against defined symbols), so it sees what the linker sees.  And
# the script itself must see a cycle when there is one: two tiny rooms
# whose files call each other.
if out=$(scripts/callgraph.py "$BUILD/obj" shim shim/unwind shim/leak shim/attach 2>&1); then
  t_pass callgraph_no_cycle_between_shim_rooms
else t_fail callgraph_no_cycle_between_shim_rooms "$(echo "$out" | grep -A3 CYCLE | head -c 400 | tr '\n' ' ')"; fi
if out=$(scripts/callgraph.py "$BUILD/obj" report report/base report/load report/symbols report/model \
            report/export report/html report/gate report/commands 2>&1); then
  t_pass callgraph_no_cycle_between_report_rooms
else t_fail callgraph_no_cycle_between_report_rooms "$(echo "$out" | grep -A3 CYCLE | head -c 400 | tr '\n' ' ')"; fi

mkdir -p "$T/r/up" "$T/r/up/down" "$T/obj/up/down"
printf 'int down_f(void);\nint up_f(void) { return down_f(); }\nint up_g(void) { return 1; }\n' >"$T/r/up/a.c"
printf 'int up_g(void);\nint down_f(void) { return up_g(); }\n' >"$T/r/up/down/b.c"
cc -c "$T/r/up/a.c" -o "$T/obj/up/a.o" && cc -c "$T/r/up/down/b.c" -o "$T/obj/up/down/b.o"
script=$PWD/scripts/callgraph.py
if out=$(cd "$T/r" && "$script" "$T/obj" up up/down 2>&1); then
  t_fail callgraph_reports_a_cycle_between_rooms "exit 0: $(echo "$out" | tr '\n' ' ' | head -c 300)"
elif echo "$out" | grep -q '^CYCLE between rooms up, up/down: up/a up/down/b'; then
  t_pass callgraph_reports_a_cycle_between_rooms
else t_fail callgraph_reports_a_cycle_between_rooms "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
