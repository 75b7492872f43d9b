# test_python_versions.sh - the CPythons our users have today, from the
# Debian roots scripts/debian-root.sh makes (`make check` makes them):
# Debian 13's python3 (3.13.5, whose 4-aligned PyGC_Head moved the
# collector's generations; every python3 of Debian 13 died with SIGSEGV
# under the shim) runs unharmed under the shim in every way a user starts
# it, with Python lines; sid's 3.14 and 3.15 run unharmed with no note,
# their lines and objects read; a version heapsnap does not read is said
# by `info` and refused by the Python package's start() with a
# RuntimeError.
. tests/shim/python/lib_py.sh

roots=$(py_root_interpreters supported; py_root_interpreters unread)
if [ -z "$roots" ]; then
  t_skip python_debian_roots_tested "no Debian roots (scripts/debian-root.sh make trixie sid; make check makes them)"
fi

# Debian 13: the ways a user starts python3, each a normal run.
while read -r tag py <&3; do
  case "$tag" in debian13-*) ;; *) continue ;; esac
  for how in plain S I malloc heapsnap_import; do
    code='x = [str(i) * 10 for i in range(100000)]; print(len(x))'
    malloc=pymalloc flag=-u
    case "$how" in
      S) flag=-S ;;
      I) flag=-I ;;
      malloc) malloc=malloc ;;
      heapsnap_import) code="import heapsnap; $code" ;;
    esac
    rm -f "$T"/d13-$how.*.hsnap
    PYTHONMALLOC=$malloc PYTHONPATH="$PWD/python" LD_PRELOAD=$SHIM \
      HEAPSNAP_OUTPUT="$T/d13-$how.%p.hsnap" "$py" "$flag" -c "$code" \
      >"$T/d13-$how.out" 2>"$T/d13-$how.err"
    st=$?
    set -- "$T"/d13-$how.*.hsnap
    reason=$("$HEAPSNAP" info "$1" 2>/dev/null | sed -n 's/^reason: *//p')
    if [ "$st" = 0 ] && [ "$(cat "$T/d13-$how.out")" = 100000 ] && [ "$reason" = exit ]; then
      t_pass "python_debian13_${how}_runs_unharmed_$tag"
    else t_fail "python_debian13_${how}_runs_unharmed_$tag" \
      "exit $st, output '$(head -c 50 "$T/d13-$how.out")', reason '$reason', $(head -c 200 "$T/d13-$how.err")"; fi
  done
  # and its lines are the script's
  if "$HEAPSNAP" top "$T"/d13-plain.*.hsnap -n 1 2>/dev/null | grep -q '^<string>:1: size='; then
    t_pass "python_debian13_lines_read_$tag"
  else t_fail "python_debian13_lines_read_$tag" "$("$HEAPSNAP" top "$T"/d13-plain.*.hsnap -n 2 2>&1 | tr '\n' ' ')"; fi
done 3<<<"$roots"

# 3.14, 3.15: Python lines read from the interpreter's _Py_DebugOffsets
# (Debian's build splits the evaluation loop off its function: found by
# py_find_eval_split), as tracemalloc counts them; their objects too, as
# `info` and `top --key type` say, with no note.
cat >"$T/lines.py" <<'PY'
import sys
def build():
    return [str(i) * 10 for i in range(100000)]  # THE LINE
x = build()
if len(sys.argv) > 1:
    import tracemalloc
    for st in tracemalloc.take_snapshot().statistics("lineno"):
        if st.traceback[0].lineno == 3 and st.traceback[0].filename == __file__:
            print(st.count)
PY
while read -r tag py <&3; do
  [ -n "$tag" ] || continue
  case "$tag" in debian13-*) continue ;; esac
  v=${tag#*-}
  rm -f "$T"/u-$tag.*.hsnap
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/u-$tag.%p.hsnap" "$py" "$T/lines.py" >"$T/u-$tag.out" 2>"$T/u-$tag.err"
  st=$?
  if [ "$st" = 0 ] && [ ! -s "$T/u-$tag.err" ]; then
    t_pass "python_${tag}_runs_unharmed_no_note"
  else t_fail "python_${tag}_runs_unharmed_no_note" "exit $st: $(head -c 200 "$T/u-$tag.err")"; fi
  set -- "$T"/u-$tag.*.hsnap
  # the line's count against tracemalloc's own, in a run without the shim
  want=$(PYTHONTRACEMALLOC=1 "$py" "$T/lines.py" tm 2>/dev/null | head -1)
  got=$("$HEAPSNAP" top "$1" -n 0 2>/dev/null | sed -n "s|^$T/lines.py:3: size=.*count=\([0-9]*\),.*|\1|p")
  case "$want$got" in *[!0-9]*) want="" ;; esac
  if [ -n "$want" ] && [ -n "$got" ] && [ $((got > want ? got - want : want - got)) -le $((want / 100 + 3)) ]; then
    t_pass "python_${tag}_lines_as_tracemalloc"
  else t_fail "python_${tag}_lines_as_tracemalloc" "tracemalloc $want, heapsnap '$got': $("$HEAPSNAP" top "$1" -n 3 2>&1 | tr '\n' '|')"; fi
  if "$HEAPSNAP" info "$1" 2>/dev/null | grep -q "^python: *CPython $v, [0-9]* code objects" &&
     "$HEAPSNAP" info "$1" 2>/dev/null | grep -q "^python objects: *[0-9]*, 0 garbage" &&
     ! "$HEAPSNAP" info "$1" 2>/dev/null | grep -q "objects were not read"; then
    t_pass "python_${tag}_info_says_objects_read"
  else t_fail "python_${tag}_info_says_objects_read" "$("$HEAPSNAP" info "$1" 2>&1 | grep -iA1 python | tr '\n' ' ')"; fi
  # the 100000 str the line made, by their type
  strs=$("$HEAPSNAP" top "$1" --key type -n 0 2>"$T/kt-$tag.err" | sed -n 's/^str: size=.*, count=\([0-9]*\),.*/\1/p')
  if [ "${strs:-0}" -ge 100000 ] && [ "${strs:-0}" -le 101000 ]; then
    t_pass "python_${tag}_key_type_counts_the_strs"
  else t_fail "python_${tag}_key_type_counts_the_strs" "str count '${strs:-}': $(head -c 300 "$T/kt-$tag.err")"; fi
  # the tracemalloc API, its lines
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/api-$tag.%p.hsnap" PYTHONPATH="$PWD/python" "$py" -c '
import heapsnap as tracemalloc
tracemalloc.start()
x = [str(i) * 10 for i in range(10000)]
print(tracemalloc.take_snapshot().statistics("lineno")[0])' >"$T/api-$tag.out" 2>/dev/null
  if grep -q "^<string>:4: size=[0-9.]* KiB, count=1000[0-9], average=" "$T/api-$tag.out"; then
    t_pass "python_${tag}_api_statistics_lines"
  else t_fail "python_${tag}_api_statistics_lines" "$(head -c 300 "$T/api-$tag.out")"; fi
done 3<<<"$roots"

# A CPython whose frames are not read (here one claimed to be another
# version): the API's start() refuses with the shim's note.
while read -r tag py <&3; do
  case "$tag" in debian13-*) ;; *) continue ;; esac
  HEAPSNAP_PYTHON=3.99 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/claim.%p.hsnap" PYTHONPATH="$PWD/python" "$py" -c '
import heapsnap as tracemalloc
try:
    tracemalloc.start()
    print("started")
except RuntimeError as e:
    print("RuntimeError:", e)' >"$T/claim.out" 2>/dev/null
  if grep -q "^RuntimeError: heapsnap: CPython 3.99 is not one heapsnap knows: native frames only" "$T/claim.out"; then
    t_pass "python_not_read_api_start_raises_$tag"
  else t_fail "python_not_read_api_start_raises_$tag" "$(head -c 300 "$T/claim.out")"; fi
  set -- "$T"/claim.*.hsnap
  if "$HEAPSNAP" info "$1" 2>/dev/null | grep -q "^python: *CPython 3.99 was not read (HEAPSNAP_PYTHON named another version)"; then
    t_pass "python_not_read_info_names_it_$tag"
  else t_fail "python_not_read_info_names_it_$tag" "$("$HEAPSNAP" info "$1" 2>&1 | grep -i python | tr '\n' ' ')"; fi
done 3<<<"$roots"
