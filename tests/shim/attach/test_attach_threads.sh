# test_attach_threads.sh - heapsnap attach on a multi-threaded program (four
# threads in malloc and free throughout the attach), on a program that forks
# after the attach (the child runs, exits and writes its own snapshot), and
# on a C++ program (operator new reaches malloc through libstdc++'s GOT).
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread
t_build target_cc tests/shim/attach/target.cc

# --- threads: four churning through malloc/free during the attach ---
at_start "$T/target"
at_cmd c
at_attach; a=$?
at_cmd "t 4"
at_detach
at_cmd C
at_end
snap=$(at_snap)
"$HEAPSNAP" top "$snap" >"$T/top.txt" 2>/dev/null
if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ "$AT_STATUS" = 0 ] &&
   grep -q 'target.c:37: size=9600 B, count=200' "$T/top.txt" &&
   printf 'churning\nthreads 4\nstopped\nbye\n' | diff - "$T/transcript" >/dev/null; then
  t_pass attach_multithreaded_program_records_its_threads
else t_fail attach_multithreaded_program_records_its_threads "attach $a, detach $AT_DETACH_RC, exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript") $(head -c 200 "$T/top.txt")"; fi

# --- a fork after the attach: the child runs and exits as it would ---
at_start "$T/target"
at_attach; a=$?
at_cmd F
child=$(ls "$AT_DIR"/*.hsnap 2>/dev/null | grep -v "/$AT_PID.hsnap" | head -1)
at_detach
at_end
if [ "$a" = 0 ] && [ "$AT_STATUS" = 0 ] && grep -qx 'child 0' "$T/transcript" && [ "$AT_DETACH_RC" = 0 ] &&
   [ -n "$child" ] && "$HEAPSNAP" top "$child" 2>/dev/null | grep -q 'target.c:38: size=2400 B, count=100'; then
  t_pass attach_then_fork_child_exits_and_writes_its_own
else t_fail attach_then_fork_child_exits_and_writes_its_own "attach $a exit $AT_STATUS child '$child': $(tr '\n' '|' <"$T/transcript")"; fi

# --- a C++ program ---
at_start "$T/target_cc"
at_attach; a=$?
at_cmd a
at_detach
at_end
"$HEAPSNAP" top "$(at_snap)" >"$T/top.txt" 2>/dev/null
if [ "$a" = 0 ] && [ "$AT_DETACH_RC" = 0 ] && [ "$AT_STATUS" = 0 ] &&
   grep -q 'tests/shim/attach/target.cc:17: size=.*, count=20[01],' "$T/top.txt" &&
   printf 'strings 100\nbye\n' | diff - "$T/transcript" >/dev/null; then
  t_pass attach_cxx_program_records_operator_new
else t_fail attach_cxx_program_records_operator_new "attach $a, exit $AT_STATUS: $(tr '\n' '|' <"$T/transcript") $(head -c 300 "$T/top.txt")"; fi
