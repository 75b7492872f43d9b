# test_python_layout.sh - the version table (shim/python/layout/layout.c) against
# CPython's own headers (layout_check.c, with each interpreter's include
# directory), 3.13's layout as the interpreter publishes it in
# _Py_DebugOffsets (3.14 and 3.15: their frames from there only, their
# object rows' fields it has the same), and the versions heapsnap does not know: HEAPSNAP_PYTHON=X.Y
# claims another version, which gets native frames only, one note, and a
# normal run; CPythons older than 3.10 get one note of their own;
# HEAPSNAP_PYTHON=off leaves CPython alone, silently.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_version_${v}_tested" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  inc=$(py_include "$py")
  if [ ! -f "$inc/Python.h" ] || [ ! -d "$inc/internal" ]; then
    t_fail "python_layout_matches_headers_$tag" "no internal headers in $inc (python3-dev)"; continue
  fi
  if ! gcc -std=gnu11 -D_GNU_SOURCE $ROOM_INC -I"$inc" $(py_incafter "$py") tests/shim/python/layout_check.c shim/python/layout/layout.c \
       -o "$T/layout-$tag" 2>"$T/layout-$tag.err"; then
    t_fail "python_layout_matches_headers_$tag" "$(head -c 300 "$T/layout-$tag.err")"; continue
  fi
  if "$T/layout-$tag" >"$T/layout-$tag.out" && grep -q '^ok 3\.1[0-5]\.' "$T/layout-$tag.out"; then
    t_pass "python_layout_matches_headers_$tag"
  else t_fail "python_layout_matches_headers_$tag" "$(tr '\n' ' ' <"$T/layout-$tag.out")"; fi

  # 3.13 on: the layout the interpreter publishes is the row's, and used
  # (3.14 on: the only one, no row).
  case "$tag" in *-3.1[0-2]|debian) ;; *)
    HEAPSNAP_VERBOSE=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" -c 'x = [0] * 10' \
      >/dev/null 2>"$T/pub-$tag.err"
    same='the same as the row' objects='python: allocator'
    case "$tag" in *-3.1[45]) same='a version with no row'
      objects='python: object layout from _Py_DebugOffsets, the same as the row' ;; esac
    if grep -q "python: layout from _Py_DebugOffsets, $same" "$T/pub-$tag.err" &&
       grep -q "$objects" "$T/pub-$tag.err" &&
       grep -q 'python: allocator domains wrapped' "$T/pub-$tag.err"; then
      t_pass "python_published_offsets_match_row_$tag"
    else t_fail "python_published_offsets_match_row_$tag" "$(grep python "$T/pub-$tag.err" | tr '\n' ' ')"; fi ;;
  esac

  # An unknown version: native frames only, one note, the program unharmed.
  HEAPSNAP_PYTHON=3.99 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" tests/shim/python/lines.py \
    "$T/u-$tag.hsnap" >"$T/u-$tag.out" 2>"$T/u-$tag.err"
  st=$?
  notes=$(grep -c 'CPython 3.99 is not one heapsnap knows: native frames only' "$T/u-$tag.err")
  others=$(grep -vc 'CPython 3.99 is not one heapsnap knows' "$T/u-$tag.err")
  pyframes=$("$HEAPSNAP" top "$T/u-$tag.hsnap" -n 0 --key traceback 2>/dev/null | grep -c 'lines.py')
  sites=$("$HEAPSNAP" top "$T/u-$tag.hsnap" -n 0 2>/dev/null | grep -c 'size=')
  if [ "$st" = 0 ] && [ "$notes" = 1 ] && [ "$others" = 0 ] && [ "$pyframes" = 0 ] && [ "$sites" -gt 0 ]; then
    t_pass "python_unknown_version_native_frames_one_note_$tag"
  else t_fail "python_unknown_version_native_frames_one_note_$tag" \
    "exit $st, notes $notes, other stderr $others, python frames $pyframes, sites $sites"; fi

  # off: no note, no Python frames.
  HEAPSNAP_PYTHON=off LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" tests/shim/python/lines.py \
    "$T/o-$tag.hsnap" >"$T/o-$tag.out" 2>"$T/o-$tag.err"
  st=$?
  pyframes=$("$HEAPSNAP" top "$T/o-$tag.hsnap" -n 0 --key traceback 2>/dev/null | grep -c 'lines.py')
  if [ "$st" = 0 ] && [ ! -s "$T/o-$tag.err" ] && [ "$pyframes" = 0 ]; then
    t_pass "python_off_leaves_cpython_alone_$tag"
  else t_fail "python_off_leaves_cpython_alone_$tag" "exit $st, python frames $pyframes, stderr $(head -c 200 "$T/o-$tag.err")"; fi
done < <(py_interpreters)

# Older than 3.10: one note naming the version, native frames, a normal run.
while read -r v py; do
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/old-$v.%p.hsnap" "$py" -c 'x = [[0] * 10 for i in range(1000)]' \
    >"$T/old-$v.out" 2>"$T/old-$v.err"
  st=$?
  notes=$(grep -c "CPython $v is older than 3.10: native frames only" "$T/old-$v.err")
  others=$(grep -vc "is older than 3.10" "$T/old-$v.err")
  set -- "$T"/old-$v.*.hsnap
  if [ "$st" = 0 ] && [ "$notes" = 1 ] && [ "$others" = 0 ] && [ -s "$1" ]; then
    t_pass "python_old_version_native_frames_one_note_$v"
  else t_fail "python_old_version_native_frames_one_note_$v" \
    "exit $st, notes $notes, other stderr $(head -c 200 "$T/old-$v.err")"; fi
done < <(py_old_interpreters)
