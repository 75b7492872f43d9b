# test_python_versions.sh - the CPythons our users have today, from the
# Debian roots scripts/debian-root.sh makes (`make check` makes them):
# Debian 13's python3 (3.13.5, whose 4-aligned PyGC_Head moved the
# collector's generations; every python3 of Debian 13 died with SIGSEGV
# under the shim) runs unharmed under the shim in every way a user starts
# it, with Python lines; sid's 3.14 and 3.15, which heapsnap does not read
# yet, run unharmed with one note naming the version, and that version
# is said by `info`, refused by `top --key type` in words, and refused by
# the Python package's start() with a RuntimeError.
. tests/shim/python/lib_py.sh

roots=$(py_root_interpreters supported; py_root_interpreters unread)
if [ -z "$roots" ]; then
  t_skip python_debian_roots_tested "no Debian roots (scripts/debian-root.sh make trixie sid; make check makes them)"
fi

# Debian 13: the ways a user starts python3, each a normal run.
while read -r tag py; do
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
done <<<"$roots"

# 3.14, 3.15: not read yet, said everywhere, never harmful.
while read -r tag py; do
  [ -n "$tag" ] || continue
  case "$tag" in debian13-*) continue ;; esac
  v=${tag#*-}
  rm -f "$T"/u-$tag.*.hsnap
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/u-$tag.%p.hsnap" "$py" -c \
    'x = [str(i) * 10 for i in range(100000)]; print(len(x))' >"$T/u-$tag.out" 2>"$T/u-$tag.err"
  st=$?
  notes=$(grep -c "^heapsnap: CPython $v's _Py_DebugOffsets have a shape heapsnap does not read: native frames only$" "$T/u-$tag.err")
  others=$(grep -vc "^heapsnap: CPython $v's" "$T/u-$tag.err")
  if [ "$st" = 0 ] && [ "$(cat "$T/u-$tag.out")" = 100000 ] && [ "$notes" = 1 ] && [ "$others" = 0 ]; then
    t_pass "python_unread_${tag}_runs_unharmed_one_note"
  else t_fail "python_unread_${tag}_runs_unharmed_one_note" \
    "exit $st, notes $notes, other stderr $others: $(head -c 200 "$T/u-$tag.err")"; fi
  set -- "$T"/u-$tag.*.hsnap
  if "$HEAPSNAP" info "$1" 2>/dev/null | grep -q "^python: *CPython $v was not read (its _Py_DebugOffsets have a shape"; then
    t_pass "python_unread_${tag}_info_names_it"
  else t_fail "python_unread_${tag}_info_names_it" "$("$HEAPSNAP" info "$1" 2>&1 | grep -i python | tr '\n' ' ')"; fi
  "$HEAPSNAP" top "$1" --key type >/dev/null 2>"$T/kt-$tag.err"
  st=$?
  if [ "$st" = 2 ] && [ "$(wc -l <"$T/kt-$tag.err")" -le 3 ] &&
     grep -q -- "--key type: CPython $v was not read" "$T/kt-$tag.err"; then
    t_pass "python_unread_${tag}_key_type_says_the_version"
  else t_fail "python_unread_${tag}_key_type_says_the_version" "exit $st: $(head -c 300 "$T/kt-$tag.err")"; fi
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/api-$tag.%p.hsnap" PYTHONPATH="$PWD/python" "$py" -c '
import heapsnap as tracemalloc
try:
    tracemalloc.start()
    print("started")
except RuntimeError as e:
    print("RuntimeError:", e)' >"$T/api-$tag.out" 2>/dev/null
  if grep -q "^RuntimeError: heapsnap: CPython $v's _Py_DebugOffsets have a shape" "$T/api-$tag.out"; then
    t_pass "python_unread_${tag}_api_start_raises"
  else t_fail "python_unread_${tag}_api_start_raises" "$(head -c 300 "$T/api-$tag.out")"; fi
done <<<"$roots"
