# test_python_caller.sh - HEAPSNAP_PYTHON_NATIVE=caller (docs/python.md, the
# native frames stored): where a thread runs Python code its stacks are the
# allocator's caller and the Python frames, with no native walk.  On every
# CPython 3.10-3.15 found:
#   - lines.py's lines carry the same blocks and bytes as under trim (the
#     default), to the byte: the mode moves no block from its line;
#   - every stack with a Python frame has one native frame under its
#     innermost Python frame, or frames in an allocator wrapper's module
#     (libc, GLib) and then one outside them, and none past it
#     (hsnap_dump --python), where trim keeps the extension's and libc's
#     frames out there; a ctypes call of libc's strdup keeps strdup's frame,
#     then libffi's that called it, under the Python line;
#   - deep_user.py's stack 200 Python frames deep reaches <module> within
#     HEAPSNAP_DEPTH=256, and the extension's malloc under it is charged
#     to pyext.c's line (the C that allocated) with the Python frames out
#     to <module> and nothing between them (ext_call's frames not kept);
#   - a thread with no Python code (pthread_create through ctypes,
#     straight into malloc) keeps its native stack, with no Python frame;
#   - under HEAPSNAP_LEAKS the shim says once that suppressions naming
#     deeper native frames do not match such stacks.
# (A caller is followed past a wrapper's module only where the loader has
# _dl_find_object, glibc 2.35 on: every interpreter tested here.)
. tests/shim/python/lib_py.sh
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd

l_keep=$(py_line tests/shim/python/pyext.c MARK_KEEP)

# A block of 54,321 bytes (53.0 KiB) made by a thread that runs no Python
# code: libc's pthread_create starts the thread in malloc itself, and the
# join returns the block (kept).
cat >"$T/native_thread.py" <<'EOF'
import ctypes, sys
libc = ctypes.CDLL(None)
t, ret = ctypes.c_ulong(), ctypes.c_void_p()
start = ctypes.cast(libc.malloc, ctypes.c_void_p)
assert libc.pthread_create(ctypes.byref(t), None, start, ctypes.c_void_p(54321)) == 0
assert libc.pthread_join(t, ctypes.byref(ret)) == 0
keep = [bytearray(10007) for i in range(3)]
libc.heapsnap_take_snapshot(sys.argv[1].encode())
EOF

# A block of 43,211 bytes from libc's strdup, called by ctypes (libffi).
cat >"$T/wrapped.py" <<'EOF'
import ctypes, sys
libc = ctypes.CDLL(None)
libc.strdup.restype = ctypes.c_void_p
keep = libc.strdup(b"w" * 43210)  # MARK_STRDUP
EOF

while read -r tag py; do
  # lines.py: the same lines, blocks and bytes as trim's
  for mode in trim caller; do
    PYTHONHASHSEED=0 HEAPSNAP_PYTHON_NATIVE=$mode LD_PRELOAD=$SHIM \
      HEAPSNAP_OUTPUT="$T/x-$tag.%p.hsnap" "$py" tests/shim/python/lines.py "$T/l-$mode-$tag.hsnap" \
      >"$T/l-$mode-$tag.out" 2>&1
    "$HEAPSNAP" top "$T/l-$mode-$tag.hsnap" -n 0 --include '*/tests/shim/python/lines.py' 2>/dev/null |
      awk '/KiB|MiB/' >"$T/lines-$mode-$tag.txt"
  done
  if [ "$(wc -l <"$T/lines-caller-$tag.txt")" -ge 6 ] &&
     cmp -s "$T/lines-trim-$tag.txt" "$T/lines-caller-$tag.txt"; then
    t_pass "python_caller_lines_as_trim_$tag"
  else t_fail "python_caller_lines_as_trim_$tag" \
    "$(diff "$T/lines-trim-$tag.txt" "$T/lines-caller-$tag.txt" | head -4 | tr '\n' '|')"; fi

  if ! dir=$(py_ext_build "$py"); then
    t_fail "python_caller_ext_builds_$tag" "cannot build pyext for $py (python3-dev)"; continue
  fi
  for mode in trim caller; do
    py_deep_run $mode "$py" "$dir" "$T/d-$mode-$tag.hsnap"
    "$T/hsnap_dump" --python "$T/d-$mode-$tag.hsnap" >"$T/pyin-$mode-$tag.txt" 2>&1
  done
  # one native frame under the innermost Python frame, none past it
  inner=$(grep -c '^pyinner ' "$T/pyin-caller-$tag.txt")
  # pyinner K INTERP W LIVE: K native frames, the first W in a wrapper's module
  bad=$(awk '/^pyouter / && $2 != 0 { n++ }
             /^pyinner / && !($2 == 1 || ($2 <= 4 && $4 >= $2 - 1)) { n++ }
             END { print n + 0 }' "$T/pyin-caller-$tag.txt")
  wrapped=$(grep -c '^pyinner [234] ' "$T/pyin-caller-$tag.txt")
  outer=$(grep -c '^pyouter [1-9]' "$T/pyin-trim-$tag.txt")
  if [ "$inner" -ge 100 ] && [ "$bad" = 0 ] && [ "$outer" -ge 1 ] && [ "$wrapped" -ge 1 ]; then
    t_pass "python_caller_keeps_one_native_frame_$tag"
  else t_fail "python_caller_keeps_one_native_frame_$tag" \
    "$inner stacks with Python frames, $bad with other native frames, $wrapped past a wrapper; trim: $outer with frames past them"; fi

  # strdup's caller followed: the 43,211-byte block's stack has two native
  # frames under its Python line, the first in libc (strdup), the second
  # outside it and the interpreter (libffi's, that called it): hsnap_dump's
  # "pyinner 2 0 1 43211" for its trace
  HEAPSNAP_PYTHON_NATIVE=caller LD_PRELOAD=$SHIM \
    HEAPSNAP_OUTPUT="$T/wr-$tag.hsnap" "$py" "$T/wrapped.py" >"$T/wr-$tag.out" 2>&1
  "$T/hsnap_dump" --python "$T/wr-$tag.hsnap" >"$T/wr-$tag.txt" 2>&1
  got=$(awk '$1 == "pyinner" && $5 == 43211' "$T/wr-$tag.txt")
  if [ "$got" = "pyinner 2 0 1 43211" ]; then
    t_pass "python_caller_follows_a_wrappers_caller_$tag"
  else t_fail "python_caller_follows_a_wrappers_caller_$tag" \
    "the strdup block's trace: '$got'; $(head -c 200 "$T/wr-$tag.out")"; fi
  "$HEAPSNAP" top "$T/d-caller-$tag.hsnap" -n 0 --key traceback --native --interpreter-frames \
    >"$T/tb-$tag.txt" 2>"$T/tb-$tag.err"
  py_deep_check "python_caller_deep_stack_reaches_module_$tag" "$T/tb-$tag.txt"
  # the extension's malloc: its own line, then Python frames alone
  py_tb_frames "$T/tb-$tag.txt" "tests/shim/python/pyext.c:$l_keep:" >"$T/ext-$tag.txt"
  others=$(tail -n +2 "$T/ext-$tag.txt" | grep -vc 'deep_user.py')
  if head -1 "$T/ext-$tag.txt" | grep -q 'ext_keep$' && [ "$others" = 0 ] &&
     [ "$(wc -l <"$T/ext-$tag.txt")" -ge 100 ] && tail -1 "$T/ext-$tag.txt" | grep -q "in <module>$"; then
    t_pass "python_caller_extension_malloc_on_its_lines_$tag"
  else t_fail "python_caller_extension_malloc_on_its_lines_$tag" \
    "$others frames not Python's past the first; $(head -2 "$T/ext-$tag.txt" | tr '\n' '|')"; fi

  # a thread that runs no Python code: its native stack, walked
  HEAPSNAP_PYTHON_NATIVE=caller LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x-$tag.%p.hsnap" \
    "$py" "$T/native_thread.py" "$T/n-$tag.hsnap" >"$T/n-$tag.out" 2>&1
  "$HEAPSNAP" top "$T/n-$tag.hsnap" -n 0 --key traceback --native >"$T/ntb-$tag.txt" 2>/dev/null
  # libc's frames (start_thread, clone: named, or by address without
  # libc's symbols), none of Python's
  nat=$(awk '/^[^ ]/ { on = / size=53.0 KiB, count=1,/; next } on' "$T/ntb-$tag.txt")
  if printf '%s\n' "$nat" | grep -q 'in __clone\|libc\.so' &&
     ! printf '%s\n' "$nat" | grep -q '\.py\|<frozen'; then
    t_pass "python_caller_native_thread_walked_$tag"
  else t_fail "python_caller_native_thread_walked_$tag" \
    "$(printf '%s' "$nat" | head -3 | tr '\n' '|') $(head -c 200 "$T/n-$tag.out")"; fi

  # the leak check's note, once
  HEAPSNAP_PYTHON_NATIVE=caller HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x-$tag.%p.hsnap" \
    "$py" -c 'import json' >"$T/w-$tag.out" 2>&1
  if [ "$(grep -c 'HEAPSNAP_PYTHON_NATIVE=caller keeps the allocator.s caller alone' "$T/w-$tag.out")" = 1 ]; then
    t_pass "python_caller_leak_check_says_what_it_keeps_$tag"
  else t_fail "python_caller_leak_check_says_what_it_keeps_$tag" "$(head -c 300 "$T/w-$tag.out")"; fi
done < <(py_interpreters)
for v in $(py_versions_missing); do echo "SKIP python_caller_$v: no CPython $v here"; done
