# test_badfree.sh - a bad free stops the program where glibc stops it
# without the shim, and one glibc lets pass runs on: badfree.c's modes (a
# double free, in the main thread and in another, a stack buffer, an
# interior pointer, realloc after free, two bad frees glibc lets pass, a
# correct program), each run plainly and under
# the shim, preloaded, through `heapsnap run` and sampled, with the same
# exit status, stdout and stderr (heapsnap run's own "heapsnap:" lines
# aside).  The plain runs are pinned first, so that a glibc that changed
# what it stops cannot make the comparisons pass for nothing.
. tests/shim/lib_shim.sh
if ! s_build badfree -Wno-free-nonheap-object; then
  t_fail badfree_builds "cc failed"; return 0 2>/dev/null || exit 0
fi

# name mode status stdout-lines: the plain run's known answer
bf_plain() {
  "$T/badfree" "$2" >"$T/known.out" 2>"$T/known.err"; local got=$?
  if [ "$got" -eq "$3" ] && [ "$(tr '\n' ' ' <"$T/known.out")" = "$4" ]; then t_pass "$1"
  else t_fail "$1" "exit $got, stdout $(tr '\n' ' ' <"$T/known.out"), want $3, $4"; fi
}
bf_plain badfree_plain_double_free_aborts_at_the_call double 134 "before "
bf_plain badfree_plain_stack_free_aborts_at_the_call stack 134 "before "
bf_plain badfree_plain_interior_free_aborts_at_the_call interior 134 "before "
bf_plain badfree_plain_realloc_after_free_aborts_at_the_call realloc 134 "before "
bf_plain badfree_plain_thread_double_free_aborts_at_the_call thread 134 "before "
bf_plain badfree_plain_fake_chunk_on_the_stack_runs_on stackpass 0 "before after "
bf_plain badfree_plain_fastbin_refree_runs_on refree 0 "before after "
bf_plain badfree_plain_correct_program_runs_on ok 0 "before after "

# name mode: heapsnap run's program matches the plain one (its status is
# the program's, or it dies by the program's signal: the shell's 128+N)
bf_run() {
  "$T/badfree" "$2" >"$T/plain.out" 2>"$T/plain.err"; local want=$?
  "$HEAPSNAP" run -o "$T/run.%p.hsnap" -- "$T/badfree" "$2" >"$T/run.out" 2>"$T/run.all"
  local got=$?
  grep -v '^heapsnap: ' "$T/run.all" >"$T/run.err"
  if [ "$want" -ne "$got" ]; then t_fail "$1" "exit $got under heapsnap run, $want without"
  elif ! cmp -s "$T/plain.out" "$T/run.out"; then
    t_fail "$1" "stdout differs: $(diff "$T/plain.out" "$T/run.out" | tr '\n' ' ')"
  elif ! cmp -s "$T/plain.err" "$T/run.err"; then
    t_fail "$1" "stderr differs: $(diff "$T/plain.err" "$T/run.err" | head -5 | tr '\n' ' ')"
  else t_pass "$1"; fi
}

for m in double thread stack stackpass interior realloc refree ok; do
  case $m in
    double) what=double_free_stops_at_the_call ;;
    thread) what=double_free_in_a_thread_stops_at_the_call ;;
    stack) what=stack_buffer_free_stops_at_the_call ;;
    stackpass) what=fake_chunk_on_the_stack_glibc_lets_pass_runs_on ;;
    interior) what=interior_pointer_free_stops_at_the_call ;;
    realloc) what=realloc_after_free_stops_at_the_call ;;
    refree) what=refree_glibc_lets_pass_runs_on ;;
    ok) what=correct_program_runs_as_without_the_shim ;;
  esac
  s_same badfree_${what}_preloaded "$T/badfree" $m
  bf_run badfree_${what}_in_heapsnap_run $m
  HEAPSNAP_SAMPLE=1 s_same badfree_${what}_sampled "$T/badfree" $m
done
