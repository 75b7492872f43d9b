# test_python_tracemalloc.sh - tracemalloc's own snippets (tests/shim/python/tm/:
# the documentation's "Display the top", "Compute differences", "Get the
# traceback of a memory block" (top.py) and "Pretty top" (pretty.py))
# with only `import tracemalloc` changed to `import heapsnap as tracemalloc`,
# run under the shim, print the lines `python3 -X tracemalloc=25` prints for
# the unchanged script, in the same order, numbers within 10% (tm/same.py).
# Every CPython the shim gives Python frames for is tried (Debian's and
# pyenv's 3.10 to 3.13, sid's 3.14 and 3.15); one it does not know yet is
# a SKIP line.
. tests/shim/python/lib_py.sh

py_supported() { # PY TAG: the shim gives it Python frames
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/probe-$2.%p.hsnap" "$1" -c pass 2>"$T/probe-$2.err" &&
    ! grep -q "native frames only" "$T/probe-$2.err"
}

# Debian's python3, and pyenv's build of each other version (one each); a
# SKIP line names each supported version absent.
for v in $(py_versions_missing); do
  t_skip "python_tracemalloc_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
pys=/usr/bin/python3
deb=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
for v in 3.10 3.11 3.12 3.13; do
  [ "$v" = "$deb" ] && continue
  for p in "$HOME"/.pyenv/versions/$v*/bin/python$v; do [ -x "$p" ] && pys="$pys $p" && break; done
done
# sid's 3.14 and 3.15 (scripts/debian-root.sh), as the other lists have them
while read -r tag py; do
  case "$tag" in sid-*) pys="$pys $py" ;; esac
done < <(py_root_interpreters supported)
# tm_version PY: every case of one interpreter, its files under $T/TAG-*
tm_version() {
  local py=$1 ver tag s d x line
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 0
  tag=$(case "$py" in /usr/bin/*) echo debian$ver ;; */roots/*) echo sid$ver ;; *) echo pyenv$ver ;; esac)
  if ! py_supported "$py" "$tag"; then
    t_skip "python_tracemalloc_$tag" "the shim gives CPython $ver native frames only ($py)"
    return 0
  fi
  for s in top compare slots cache pretty; do
    d=$T/$tag-$s
    mkdir -p "$d/hs" "$d/tm"
    cp "tests/shim/python/tm/$s.py" "$d/tm/$s.py"
    sed 's/^import tracemalloc$/import heapsnap as tracemalloc/' "tests/shim/python/tm/$s.py" >"$d/hs/$s.py"
    # pretty.py's totals count what start() traces from its line on: not
    # -X tracemalloc's start-up memory
    x="-X tracemalloc=25"; [ "$s" = pretty ] && x="-X tracemalloc=0"
    # shellcheck disable=SC2086
    "$py" $x "$d/tm/$s.py" >"$d/tm.out" 2>"$d/tm.err"
    PYTHONPATH=$PWD/python HEAPSNAP=$HEAPSNAP LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/exit.%p.hsnap" \
      "$py" "$d/hs/$s.py" >"$d/hs.out" 2>"$d/hs.err"
    if [ ! -s "$d/tm.out" ]; then
      t_fail "python_tracemalloc_${s}_$tag" "tracemalloc printed nothing: $(tail -c 200 "$d/tm.err")"
    elif "$py" tests/shim/python/tm/same.py "$d/hs.out" "$d/hs" "$d/tm.out" "$d/tm" >"$d/why" 2>&1; then
      t_pass "python_tracemalloc_${s}_$tag"
    else
      t_fail "python_tracemalloc_${s}_$tag" "$(head -c 600 "$d/why") $(tail -c 300 "$d/hs.err")"
    fi
  done
  # Native memory tracemalloc cannot see is there, at its Python line.
  d=$T/$tag-native
  line=$(py_line tests/shim/python/tm/native.py MARK_NATIVE)
  PYTHONPATH=$PWD/python HEAPSNAP=$HEAPSNAP LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d.%p.hsnap" \
    "$py" tests/shim/python/tm/native.py >"$d.out" 2>"$d.err"
  # (3.15's list and ints of the line: a KiB more, rounded)
  if grep -Eq "tm/native.py:$line: size=614[45] KiB, count=" "$d.out"; then
    t_pass "python_tracemalloc_native_memory_$tag"
  else
    t_fail "python_tracemalloc_native_memory_$tag" "$(cat "$d.out") $(tail -c 300 "$d.err")"
  fi
  if grep -qx "start-up rows 0" "$d.out"; then
    t_pass "python_tracemalloc_since_start_$tag"
  else
    t_fail "python_tracemalloc_since_start_$tag" "$(cat "$d.out") $(tail -c 300 "$d.err")"
  fi
}
# Two interpreters at a time (each runs one process after another); the
# lines are printed in the order of $pys.
n=0
for py in $pys; do
  n=$((n + 1))
  tm_version "$py" >"$T/lines.$n" 2>"$T/lines.$n.err" &
  [ $((n % 2)) = 0 ] && wait
done
wait
for i in $(seq 1 "$n"); do cat "$T/lines.$i"; cat "$T/lines.$i.err" >&2; done
