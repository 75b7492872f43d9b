# test_python_cstack_roots.sh - a Python object held by a thread's C
# stack is named by the C function whose frame holds it, and another
# thread's dead C frames hold nothing.  cstackroot.c (built with gcc -g
# against each interpreter's headers) holds a CstackBlocked in a C local
# of a thread blocked in read(2), a CstackCalled in a C local of the main
# thread while it takes the snapshot: `top --retainers`, `leaks --why`
# (text and JSON) and html's retainers must read "C stack of thread TID in
# cstackroot_hold_and_block (.../cstackroot.c:LINE)", the line of the
# call the frame waits in (before: a bare "C stack of thread TID").  Two
# more threads smear an object's address over a deep C frame that
# returns, then block: a CstackDead cycle the program drops must be
# garbage as gc.collect() says (before: held by "C stack of thread TID",
# those dead words), and a CstackLeaked with one leaked reference must be
# a leaked reference in the exit snapshot's leak check (before: its count
# matched by the dead words).  A word of a live C frame is no owner
# either: a CstackBorrowed cycle whose address only borrow_and_call's
# local holds while it calls the snapshot is garbage, as gc.collect()
# says (before: kept alive by that word, as the eval loop's own frame
# kept a ring of lists on 3.12).  On every CPython 3.10-3.15 found; a
# SKIP line names each one absent.
. tests/shim/python/lib_py.sh

user=tests/shim/python/cstackroot_user.py src=tests/shim/python/cstackroot.c
l_block=$(py_line $src MARK_HELD_BLOCK) l_call=$(py_line $src MARK_HELD_CALL)
for v in $(py_versions_missing); do
  t_skip "python_cstack_roots_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
total() { awk '/: size=/ { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }
count() { awk -v k="$2: " 'index($0, k) == 1 { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }

while read -r tag py; do
  inc=$(py_include "$py")
  suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
  if [ ! -f "$inc/Python.h" ]; then
    t_skip "python_cstack_roots_$tag" "no Python.h for $py (python3-dev, or a pyenv build)"; continue
  fi
  mkdir -p "$T/cs-$tag"
  if ! t_build "$T/cs-$tag/cstackroot$suffix" $src -shared -fPIC -I"$inc" $(py_incafter "$py") 2>"$T/cc-$tag.err"; then
    t_fail "python_cstack_roots_build_$tag" "$(head -c 300 "$T/cc-$tag.err")"; continue
  fi
  rm -f "$T"/exit.*.hsnap
  s=$T/s-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $user "$T/cs-$tag" "$s" || [ ! -s "$s" ]; then
    t_fail "python_cstack_roots_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>&1
  if grep -Eq "^    1 object: C stack of thread [0-9]+ in cstackroot_hold_and_block \([^ ]*cstackroot\.c:$l_block\) \(__main__\.CstackBlocked\)$" "$T/r-$tag.txt" &&
     grep -Eq "^    1 object: C stack of thread [0-9]+ in cstackroot_hold_and_call \([^ ]*cstackroot\.c:$l_call\) \(__main__\.CstackCalled\)$" "$T/r-$tag.txt"; then
    t_pass "python_cstack_roots_name_their_function_top_retainers_$tag"
  else t_fail "python_cstack_roots_name_their_function_top_retainers_$tag" "$(grep -A1 -E 'Cstack(Blocked|Called):' "$T/r-$tag.txt" | tr '\n' '|' | head -c 400)"; fi
  # leaks --why at the line that calls hold_and_call (CstackCalled's site), text and JSON
  line=$(py_line $user '^cstackroot.hold_and_call')
  "$HEAPSNAP" leaks --why "cstackroot_user.py:$line" "$s" >"$T/w-$tag.txt" 2>&1
  "$HEAPSNAP" leaks --why "cstackroot_user.py:$line" --format json "$s" >"$T/w-$tag.json" 2>&1
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 --format json >"$T/j-$tag.json" 2>&1
  called="C stack of thread [0-9]+ in cstackroot_hold_and_call \\([^ ]*cstackroot\\.c:$l_call\\) \\(__main__\\.CstackCalled\\)"
  if grep -Eq "^  1 object: $called$" "$T/w-$tag.txt" && grep -Eq "\"$called\"" "$T/w-$tag.json" &&
     grep -Eq "C stack of thread [0-9]+ in cstackroot_hold_and_block \\([^ ]*cstackroot\\.c:$l_block\\)" "$T/j-$tag.json"; then
    t_pass "python_cstack_roots_name_their_function_leaks_why_and_json_$tag"
  else t_fail "python_cstack_roots_name_their_function_leaks_why_and_json_$tag" "$(grep -h 'C stack' "$T/w-$tag.txt" "$T/w-$tag.json" | head -3 | tr '\n' '|' | head -c 400)"; fi
  # html: the retainers of its top ten types (5000 CstackMany in a list a C local holds)
  "$HEAPSNAP" html -o "$T/h-$tag.html" "$s" 2>/dev/null
  if grep -Eq "C stack of thread [0-9]+ in cstackroot_hold_and_block \\([^ ]*cstackroot\\.c:$l_block\\) \\(list\\) -(>|\\\\u003e) \\[\\.\\.\\.\\] \\(__main__\\.CstackMany\\)" "$T/h-$tag.html"; then
    t_pass "python_cstack_roots_name_their_function_html_$tag"
  else t_fail "python_cstack_roots_name_their_function_html_$tag" "$(grep -o 'C stack of thread[^"]\{0,160\}' "$T/h-$tag.html" | head -2 | tr '\n' '|')"; fi
  want=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/g-$tag.txt" 2>&1
  if [ -n "$want" ] && [ "$(total "$T/g-$tag.txt")" = "$want" ] && [ "$(count "$T/g-$tag.txt" __main__.CstackDead)" = 1 ]; then
    t_pass "python_cstack_roots_other_threads_dead_frames_hold_no_garbage_$tag"
  else t_fail "python_cstack_roots_other_threads_dead_frames_hold_no_garbage_$tag" "gc.collect() $want: $(tr '\n' '|' <"$T/g-$tag.txt" | head -c 300)"; fi
  if [ -n "$want" ] && [ "$(total "$T/g-$tag.txt")" = "$want" ] && [ "$(count "$T/g-$tag.txt" __main__.CstackBorrowed)" = 1 ]; then
    t_pass "python_cstack_roots_live_frame_word_keeps_no_cycle_alive_$tag"
  else t_fail "python_cstack_roots_live_frame_word_keeps_no_cycle_alive_$tag" "gc.collect() $want: $(tr '\n' '|' <"$T/g-$tag.txt" | head -c 300)"; fi
  set -- "$T"/exit.*.hsnap
  "$HEAPSNAP" leaks "$1" >"$T/l-$tag.txt" 2>&1
  if sed -n '/leaked references/,$p' "$T/l-$tag.txt" | grep -Eq '^  1 __main__\.CstackLeaked .*refcount 1, 0 references found'; then
    t_pass "python_cstack_roots_other_threads_dead_frames_hide_no_leaked_ref_$tag"
  else t_fail "python_cstack_roots_other_threads_dead_frames_hide_no_leaked_ref_$tag" "$# exit snapshots; $(grep -A3 'leaked references' "$T/l-$tag.txt" | tr '\n' '|' | head -c 300)"; fi
done < <(py_interpreters)
