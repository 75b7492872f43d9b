# test_demo_screen.sh - what `make demo` prints, as a new user's first
# screen: a line a step before the report (install-deps says one line when
# it installs, the build one line, its compiler lines in build/build.log
# unless V=1), then the demo's own report: no compiler line, the debug
# information note at most once, the first loss record at the demo's own
# line (tests/fixtures/demo.c), not in libc.
# tier: full (runs make demo)
if ! make --no-print-directory demo >"$T/demo.out" 2>&1; then
  t_fail demo_screen_runs "$(tail -c 400 "$T/demo.out")"; return 0
fi
t_pass demo_screen_runs
before=$(sed -n '/^== /q;p' "$T/demo.out")
if [ "$(printf '%s\n' "$before" | grep -c .)" -le 2 ] &&
   printf '%s\n' "$before" | grep -q '^demo: building heapsnap (make all; V=1 shows each command)$'; then
  t_pass demo_screen_one_line_a_step
else t_fail demo_screen_one_line_a_step "$(printf '%s\n' "$before" | head -5 | tr '\n' '|')"; fi
if ! grep -Eq '^(cc|gcc|g\+\+|c\+\+|clang|printf|awk|protoc-c) ' "$T/demo.out" &&
   [ "$(grep -c 'no debug information' "$T/demo.out")" -le 1 ]; then t_pass demo_screen_no_compiler_lines
else t_fail demo_screen_no_compiler_lines "$(grep -E '^(cc|gcc|g\+\+|c\+\+|clang) |no debug' "$T/demo.out" | head -3 | cut -c1-120 | tr '\n' '|')"; fi
first=$(grep -m1 -A1 'in loss record 1 of' "$T/demo.out" | tail -1)
case "$first" in
  *"(tests/fixtures/demo.c:"*) t_pass demo_screen_first_record_is_the_demos ;;
  *) t_fail demo_screen_first_record_is_the_demos "$first" ;;
esac
