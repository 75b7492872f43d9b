# test_attach_warnings.sh - what an attach session has to say goes to the
# CLI, once: a warning every fork's child gives alike (here: the snapshot
# directory is a plain file while they write, so each child cannot write) is
# listed once by detach, on heapsnap's stderr, and never written to the
# program's stderr; fork children under a name without %p take their pid
# silently (the name is the program's); and two attaches at once give the
# one that loses the real reason.
. tests/shim/attach/lib_attach.sh
t_build target tests/shim/attach/target.c -pthread

at_start "$T/target"
at_attach -o "$AT_DIR/sub/same.hsnap"
: >"$AT_DIR/sub"
for _ in 1 2 3 4; do at_cmd F; done
rm -f "$AT_DIR/sub"; mkdir "$AT_DIR/sub"
at_detach
at_end
n=$(grep -c 'cannot write' "$T/detach.err")
if [ "$AT_DETACH_RC" = 0 ] && [ "$n" = 1 ] &&
   grep -q "^heapsnap: process $AT_PID: cannot write .*same\.hsnap" "$T/detach.err" &&
   ! grep -q heapsnap "$T/target.err"; then
  t_pass attach_fork_children_warning_said_once_by_detach_not_on_the_program_stderr
else t_fail attach_fork_children_warning_said_once_by_detach_not_on_the_program_stderr "detach $AT_DETACH_RC, $n lines: $(head -c 300 "$T/detach.err") | program: $(head -c 300 "$T/target.err")"; fi

# -o without %p: the program's snapshot takes the name; each fork child's
# goes to the name with its pid, and nobody says "another process"
at_start "$T/target"
at_attach -o "$AT_DIR/same.hsnap" || cp "$T/attach.err" "$T/same-attach.err"
for _ in 1 2; do at_cmd F; done
at_detach
at_end
kids=$(ls "$AT_DIR" | grep -c '^same\.[0-9]*\.hsnap$')
if [ "$AT_DETACH_RC" = 0 ] && [ "$kids" = 2 ] &&
   "$HEAPSNAP" info "$AT_DIR/same.hsnap" | grep -q "^pid: *$AT_PID " &&
   ! grep -q 'another process' "$T/detach.err" "$T/attach.err" "$T/target.err"; then
  t_pass attach_fork_children_add_their_pid_silently
else t_fail attach_fork_children_add_their_pid_silently "detach $AT_DETACH_RC, $kids children's files: $(ls "$AT_DIR" | tr '\n' ' ') $(head -c 300 "$T/detach.err") $(head -c 300 "$T/same-attach.err" 2>/dev/null)"; fi

# Two attaches at once, five times: one wins, the other says why (traced
# by the first, or attached already), never "no permission".
bad=""
for i in 1 2 3 4 5; do
  at_start "$T/target"
  "$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/a.%p.hsnap" --duration 0.5 2>"$T/a1.err" & a1=$!
  "$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/b.%p.hsnap" --duration 0.5 2>"$T/a2.err" & a2=$!
  wait "$a1"; r1=$?; wait "$a2"; r2=$?
  at_cmd "a 8"
  at_end
  [ "$AT_STATUS" = 0 ] || bad="$bad; round $i: the target exited $AT_STATUS"
  for e in a1 a2; do
    grep -q 'no permission' "$T/$e.err" && bad="$bad; round $i: $(head -c 200 "$T/$e.err")"
  done
  if [ "$r1$r2" != 02 ] && [ "$r1$r2" != 20 ] && [ "$r1$r2" != 00 ]; then
    bad="$bad; round $i: exits $r1 $r2: $(cat "$T/a1.err" "$T/a2.err" | head -c 300)"
  fi
  cat "$T/a1.err" "$T/a2.err" | grep '^heapsnap: attach:' | grep -vE 'already traced by process|attached already|being attached' &&
    bad="$bad; round $i: an unclear refusal"
done
if [ -z "$bad" ]; then t_pass attach_race_loser_gives_the_real_reason
else t_fail attach_race_loser_gives_the_real_reason "${bad#; }"; fi
