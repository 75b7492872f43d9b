# test_python_tracemalloc_plain.sh - tracemalloc's documentation snippets
# (tests/shim/python/tm/, as test_python_tracemalloc.sh runs them under
# the shim) with only `import tracemalloc` changed to `import heapsnap as
# tracemalloc`, run by a plain `python3 prog.py`: no `heapsnap run`, no
# LD_PRELOAD.  start() loads the shim into the running interpreter
# (heapsnap.load) and the lines printed are tracemalloc's (the unchanged
# script run the same way; tm/same.py judges, numbers within 10%).  The guest rule: a program that starts, allocates and stops
# prints the same output and exit code as under tracemalloc, nothing on
# stderr and no file left behind.  Every CPython found (Debian's, pyenv's
# 3.10-3.13); a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_tracemalloc_plain_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# plain_version TAG PY: every case of one interpreter, its files under $T/TAG-*
plain_version() {
  local tag=$1 py=$2 s d x
  for s in top compare slots cache pretty; do
    d=$T/$tag-$s
    mkdir -p "$d/hs" "$d/tm"
    cp "tests/shim/python/tm/$s.py" "$d/tm/$s.py"
    sed 's/^import tracemalloc$/import heapsnap as tracemalloc/' "tests/shim/python/tm/$s.py" >"$d/hs/$s.py"
    # The reference is the unchanged script run as it is: tracemalloc
    # traces from its start() on, as heapsnap does (-X tracemalloc would
    # add the start-up's imports: pyenv's 3.11 has 2.4 MiB of them).
    (cd "$d/tm" && "$py" "$s.py" >"$d/tm.out" 2>"$d/tm.err")
    (cd "$d/hs" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u HEAPSNAP_SHIM PYTHONPATH="$OLDPWD/python" \
      HEAPSNAP="$HEAPSNAP" "$py" "$s.py" >"$d/hs.out" 2>"$d/hs.err")
    if [ ! -s "$d/tm.out" ]; then
      t_fail "python_tracemalloc_plain_${s}_$tag" "tracemalloc printed nothing: $(tail -c 200 "$d/tm.err")"
    elif "$py" tests/shim/python/tm/same.py "$d/hs.out" "$d/hs" "$d/tm.out" "$d/tm" >"$d/why" 2>&1; then
      t_pass "python_tracemalloc_plain_${s}_$tag"
    else
      t_fail "python_tracemalloc_plain_${s}_$tag" "$(head -c 600 "$d/why") $(tail -c 300 "$d/hs.err")"
    fi
  done
  # The guest rule: the load changes nothing the program does or leaves.
  d=$T/$tag-guest
  mkdir -p "$d/hs" "$d/tm"
  cp tests/shim/python/tm_guest.py "$d/tm/guest.py"
  sed 's/^import tracemalloc$/import heapsnap as tracemalloc/' tests/shim/python/tm_guest.py >"$d/hs/guest.py"
  (cd "$d/tm" && "$py" guest.py >"$d/tm.out" 2>"$d/tm.err"; echo "rc=$?" >>"$d/tm.out")
  (cd "$d/hs" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u HEAPSNAP_SHIM PYTHONPATH="$OLDPWD/python" \
    HEAPSNAP="$HEAPSNAP" "$py" guest.py >"$d/hs.out" 2>"$d/hs.err"; echo "rc=$?" >>"$d/hs.out")
  if ! grep -q "^loaded True$" "$d/hs.out"; then
    t_fail "python_tracemalloc_plain_guest_unchanged_$tag" "the shim was not loaded: $(head -c 300 "$d/hs.out") $(tail -c 300 "$d/hs.err")"
  elif ! diff <(grep -v "^loaded " "$d/tm.out") <(grep -v "^loaded " "$d/hs.out") >"$d/diff"; then
    t_fail "python_tracemalloc_plain_guest_unchanged_$tag" "output differs: $(head -c 600 "$d/diff")"
  elif [ -s "$d/hs.err" ] || [ "$(ls -A "$d/hs")" != guest.py ]; then
    t_fail "python_tracemalloc_plain_guest_unchanged_$tag" "left: $(ls -A "$d/hs" | tr '\n' ' ') $(tail -c 300 "$d/hs.err")"
  else
    t_pass "python_tracemalloc_plain_guest_unchanged_$tag"
  fi
}

# Without a shim to load, start() says why, as before.
d=$T/none
mkdir -p "$d"
printf 'import heapsnap as tracemalloc\ntracemalloc.start()\n' >"$d/none.py"
(cd "$d" && env -u LD_PRELOAD -u HEAPSNAP_SHIM PYTHONPATH="$OLDPWD/python" HEAPSNAP=/nonexistent/heapsnap \
  PATH=/usr/bin:/bin /usr/bin/python3 none.py >"$d/out" 2>"$d/err")
if grep -q "RuntimeError: heapsnap: the shim is not loaded in this process.*could not be loaded into it: no libheapsnap.so found" "$d/err"; then
  t_pass python_tracemalloc_plain_no_shim_says_why
else
  t_fail python_tracemalloc_plain_no_shim_says_why "$(tail -c 400 "$d/err")"
fi

# Two interpreters at a time; the lines are printed in the order found.
n=0
while read -r tag py; do
  n=$((n + 1))
  plain_version "$tag" "$py" >"$T/lines.$n" 2>"$T/lines.$n.err" &
  [ $((n % 2)) = 0 ] && wait
done < <(py_interpreters)
wait
for i in $(seq 1 "$n"); do cat "$T/lines.$i"; cat "$T/lines.$i.err" >&2; done
