# test_python_trim.sh - the native frames of a Python stack
# (HEAPSNAP_PYTHON_NATIVE, docs/python.md): a stack 200 Python frames deep,
# with interpreter frames between each two (deep_user.py), reaches
# <module> within HEAPSNAP_DEPTH=256, since the interpreter's own frames
# outward of the innermost Python frame are not stored and the depth
# counts the Python frames; what is stored reads right (the C extension's
# frames between Python frames and under the innermost one are there, in
# the order the full stack has them); under a Python frame whose native
# frames are all the interpreter's, trim keeps only the innermost (the C
# that allocated), all keeps the chain; HEAPSNAP_PYTHON_NATIVE=all keeps the
# full stacks, and the CLI reads both.  On every CPython 3.10-3.15 found.
. tests/shim/python/lib_py.sh
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd

user=tests/shim/python/deep_user.py
l_ext=$(py_line $user MARK_DEEP_EXT) l_keep=$(py_line tests/shim/python/pyext.c MARK_KEEP)

while read -r tag py; do
  if ! dir=$(py_ext_build "$py"); then
    t_fail "python_trim_ext_builds_$tag" "cannot build pyext for $py (python3-dev)"; continue
  fi
  for mode in trim all; do
    py_deep_run $mode "$py" "$dir" "$T/$mode-$tag.hsnap"
    "$HEAPSNAP" top "$T/$mode-$tag.hsnap" -n 0 --key traceback --native --interpreter-frames >"$T/tb-$mode-$tag.txt" 2>"$T/tb-$mode-$tag.err"
  done
  tb=$T/tb-trim-$tag.txt
  py_deep_check "python_deep_stack_reaches_module_$tag" "$tb"
  # The extension's malloc: ext_keep innermost (with the interpreter's
  # frames that called it), then from its Python line out to <module> only
  # Python frames and the extension's ext_call (4 of them).
  py_tb_frames "$tb" "tests/shim/python/pyext.c:$l_keep:" >"$T/ext-$tag.txt"
  awk '/deep_user.py/ { on = 1 } on' "$T/ext-$tag.txt" >"$T/extpy-$tag.txt"
  others=$(grep -v 'deep_user.py\|ext_call$' "$T/extpy-$tag.txt" | head -3)
  calls=$(grep -c 'ext_call$' "$T/extpy-$tag.txt")
  if head -1 "$T/ext-$tag.txt" | grep -q 'ext_keep$' &&
     head -1 "$T/extpy-$tag.txt" | grep -q "line $l_ext, in rec$" && [ "$calls" = 4 ] &&
     [ -z "$others" ] && tail -1 "$T/extpy-$tag.txt" | grep -q "in <module>$"; then
    t_pass "python_trimmed_stack_keeps_extension_frames_$tag"
  else t_fail "python_trimmed_stack_keeps_extension_frames_$tag" \
    "ext_call x$calls; not Python: $others; $(head -2 "$T/ext-$tag.txt" | tr '\n' '|')"; fi
  # Under the innermost Python frame (hsnap_dump --python: "pyinner K
  # INTERP W LIVE"): trim keeps one frame where all are the interpreter's (none
  # with more), all keeps chains of them; a C extension's keep theirs.
  "$T/hsnap_dump" --python "$T/trim-$tag.hsnap" >"$T/pyin-trim-$tag.txt" 2>&1
  "$T/hsnap_dump" --python "$T/all-$tag.hsnap" >"$T/pyin-all-$tag.txt" 2>&1
  one=$(awk '$1 == "pyinner" && $2 == 1 && $3 == 1' "$T/pyin-trim-$tag.txt" | wc -l)
  more=$(awk '$1 == "pyinner" && $2 > 1 && $3 == 1' "$T/pyin-trim-$tag.txt" | wc -l)
  chains=$(awk '$1 == "pyinner" && $2 > 1 && $3 == 1' "$T/pyin-all-$tag.txt" | wc -l)
  ext=$(awk '$1 == "pyinner" && $2 > 1 && $3 == 0' "$T/pyin-trim-$tag.txt" | wc -l)
  if [ "$one" -ge 100 ] && [ "$more" = 0 ] && [ "$chains" -ge 100 ] && [ "$ext" -ge 1 ]; then
    t_pass "python_trim_keeps_one_interpreter_frame_under_python_$tag"
  else t_fail "python_trim_keeps_one_interpreter_frame_under_python_$tag" \
    "trim: $one traces with one, $more with more, $ext extension chains; all: $chains chains ($(head -c 200 "$T/pyin-trim-$tag.txt"))"; fi
  # The full stack (cut at 256 frames) has the same Python and extension
  # frames, in the same order, as the trimmed one's first ones (which has
  # more of them), and frames of the interpreter's besides.
  pick() { grep 'deep_user.py\|ext_call$\|ext_keep$'; }
  py_tb_frames "$T/tb-all-$tag.txt" "tests/shim/python/pyext.c:$l_keep:" >"$T/full-$tag.txt"
  pick <"$T/full-$tag.txt" >"$T/fullpy-$tag.txt"
  n=$(wc -l <"$T/fullpy-$tag.txt")
  if [ "$n" -ge 20 ] && pick <"$T/ext-$tag.txt" | head -n "$n" | cmp -s - "$T/fullpy-$tag.txt" &&
     [ "$(pick <"$T/ext-$tag.txt" | wc -l)" -gt "$n" ] &&
     [ "$(wc -l <"$T/full-$tag.txt")" -gt "$(awk '/deep_user.py/ { n++ } END { print n + 0 }' "$T/full-$tag.txt")" ]; then
    t_pass "python_trimmed_frames_match_full_stack_$tag"
  else t_fail "python_trimmed_frames_match_full_stack_$tag" \
    "$n frames; $(diff <(pick <"$T/ext-$tag.txt" | head -n "$n") "$T/fullpy-$tag.txt" | head -4 | tr '\n' '|')"; fi
done < <(py_interpreters)
for v in $(py_versions_missing); do echo "SKIP python_trim_$v: no CPython $v here"; done
