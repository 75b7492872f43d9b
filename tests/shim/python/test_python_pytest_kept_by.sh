# test_python_pytest_kept_by.sh - limit_leaks' "kept by" path goes down to
# what the test left, as gc.get_referrers names it, when the holder is a
# container the collector did not track before the test (`CACHE = {}`: an
# empty dict is untracked, so it read as made by the test and the path
# stopped at it: "global CACHE (dict)" without "-> ['k'] (list)").  From
# the source tree (-p heapsnap.pytest_plugin, the shim loaded in the
# process) on every CPython found: Debian's python3 with its pytest, and
# pyenv's with Debian's pure-Python pytest linked into a directory (as
# test_python_pytest_every_version does); a SKIP line names each absent one.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_pytest_kept_by_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
DIST=/usr/lib/python3/dist-packages
if [ ! -d "$DIST/_pytest" ] || [ ! -d "$DIST/pluggy" ]; then
  t_skip python_pytest_kept_by "Debian's python3-pytest is not installed"
  exit 0
fi
mkdir -p "$T/pp" "$T/run"
for m in pytest _pytest pluggy iniconfig packaging attr attrs py.py exceptiongroup tomli; do
  [ -e "$DIST/$m" ] && ln -s "$DIST/$m" "$T/pp/$m"
done
cp tests/shim/python/pytest_cache.py "$T/run/test_cache.py"
while read -r tag py; do
  if [ "$tag" = pyenv-3.10 ] && [ ! -e "$T/pp/exceptiongroup" ]; then
    t_skip "python_pytest_kept_by_$tag" "pytest 7 on 3.10 needs Debian's python3-exceptiongroup"
    continue
  fi
  pp=$PWD/python; [ "$tag" = debian ] || pp=$pp:$T/pp
  out=$T/$tag.out
  (cd "$T/run" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u PYTEST_ADDOPTS HEAPSNAP="$HEAPSNAP" \
     PYTHONPATH="$pp" PYTHONDONTWRITEBYTECODE=1 "$py" -m pytest -q -p no:cacheprovider \
     -p heapsnap.pytest_plugin --heapsnap test_cache.py) >"$out" 2>&1
  st=$? # 1: tests failed, as planted; a crash or a kill says otherwise
  grep -q "3 failed" "$out" &&
    grep -qxF "  kept by module test_cache, global CACHE (dict) -> ['k'] (list)" "$out" &&
    grep -qxF "  kept by module test_cache, global NESTED (dict) -> ['users'] (dict) -> ['u42'] (list)" "$out" &&
    grep -qxF "  kept by module test_cache, global _kept (list) -> [0] (tuple) -> [0] (list)" "$out" &&
    ! grep -qx "  kept by module test_cache, global CACHE (dict)" "$out" &&
    t_pass "python_pytest_kept_by_names_what_an_untracked_dict_holds_$tag" ||
    t_fail "python_pytest_kept_by_names_what_an_untracked_dict_holds_$tag" "exit $st: $( (grep -B1 'kept by\|passed\|failed' "$out" || tail -c 600 "$out") | head -c 900)"
done < <(py_interpreters)
