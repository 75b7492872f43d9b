# test_python_load_window.sh - the stacks of an extension's load, spliced
# outward of the load once (shim/python/frames/window.c): while the
# interpreter's dlopen runs the constructors of loadwin.c (6,000 blocks
# kept from 1,024 stacks, each ten lw_level frames deep, two at a time
# from a loop, under the import in loadwin_user.py's load()), each new
# stack is walked only up to the load's frame and given the part outward
# spliced once, and a stack met again (the loop's second block) is found
# among the thread's last walks.  Under HEAPSNAP_UNWIND_CHECK=1 every such
# stack is spliced the ordinary way too and compared, and a stack met
# again walked and compared with the trace it was given: none may differ,
# and enough of both must be compared that the check is not vacuous.
# Without it the window must be taken, and the snapshot must hold the
# 1,024 stacks, each with the constructor's frames and the import's Python
# line outward of them.  On every CPython 3.10-3.15
# found; a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

user=tests/shim/python/loadwin_user.py
l_import=$(py_line $user MARK_IMPORT)
for v in $(py_versions_missing); do
  t_skip "python_load_window_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
# n LABEL FILE: the count HEAPSNAP_VERBOSE printed after "python: LABEL: "
n() { sed -n "s/.*python: $1: \([0-9]*\)\$/\1/p" "$2" | tail -1; }

while read -r tag py; do
  dir=$(py_ext_build "$py" loadwin -O2 -fno-omit-frame-pointer 2>"$T/cc-$tag.err"); rc=$?
  if [ $rc -eq 2 ]; then
    t_skip "python_load_window_$tag" "no Python.h for $py (python3-dev, or a pyenv build)"; continue
  elif [ $rc -ne 0 ]; then
    t_fail "python_load_window_build_$tag" "$(head -c 300 "$T/cc-$tag.err")"; continue
  fi
  rm -f "$T"/exit.*.hsnap
  if ! HEAPSNAP_UNWIND_CHECK=1 HEAPSNAP_VERBOSE=1 py_run "$py" "$T/chk-$tag" $user "$dir" ||
     ! grep -qx "kept 6000" "$T/chk-$tag.out"; then
    t_fail "python_load_window_checked_$tag" "$(tail -c 300 "$T/chk-$tag.err")"; continue
  fi
  checked=$(n "load stacks checked against their splice" "$T/chk-$tag.err")
  differed=$(n "load stacks that differed" "$T/chk-$tag.err")
  again=$(n "\.\.\. met again among the thread's last walks" "$T/chk-$tag.err")
  if [ -n "$differed" ] && [ "$differed" -eq 0 ] && [ "${checked:-0}" -ge 5000 ] &&
     [ "${again:-0}" -ge 2500 ]; then
    t_pass "python_load_window_stacks_are_the_ordinary_splices_$tag"
  else
    t_fail "python_load_window_stacks_are_the_ordinary_splices_$tag" \
      "checked ${checked:-none} (${again:-none} met again), differed ${differed:-none}: $(grep -m1 'differs' "$T/chk-$tag.err")"
  fi
  rm -f "$T"/exit.*.hsnap
  if ! HEAPSNAP_VERBOSE=1 py_run "$py" "$T/win-$tag" $user "$dir" ||
     ! grep -qx "kept 6000" "$T/win-$tag.out"; then
    t_fail "python_load_window_run_$tag" "$(tail -c 300 "$T/win-$tag.err")"; continue
  fi
  given=$(n "load stacks spliced outward of the load once" "$T/win-$tag.err")
  s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" top "$s" --key traceback --native -n 0 >"$T/tb-$tag.txt" 2>"$T/tb-$tag.err"
  # each group: its stack's lines; count those with the constructor's frames
  # and the import's line, and their blocks
  got=$(awk -v imp="loadwin_user.py\", line $l_import, in load" '
    function flush() { if (init && im) { g++; b += cnt } init = im = 0 }
    /^[^ ]/ { flush(); c = $0; sub(/.*count=/, "", c); sub(/,.*/, "", c); cnt = c + 0; next }
    index($0, "in lw_init") { init = 1 }
    index($0, imp) { im = 1 }
    END { flush(); print g + 0, b + 0 }' "$T/tb-$tag.txt")
  if [ "${given:-0}" -ge 5000 ] && [ "$got" = "1024 6000" ]; then
    t_pass "python_load_window_taken_and_stacks_charged_to_the_import_$tag"
  else
    t_fail "python_load_window_taken_and_stacks_charged_to_the_import_$tag" \
      "window stacks ${given:-none}; groups and blocks under lw_init and the import: $got (want 1024 6000)"
  fi
done < <(py_interpreters)
