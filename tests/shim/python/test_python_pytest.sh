# test_python_pytest.sh - the pytest plugin (python/heapsnap/pytest_plugin.py)
# in a real pytest run: the package pip-installed (offline, over Debian's
# setuptools) into a virtual environment that sees Debian's python3-pytest;
# `pytest --heapsnap` found through the pytest11 entry point, pytest run
# again under the shim by the plugin itself; each marker's passing and
# failing test, the failure naming the Python line (and native frame), and
# the memory summary.
. tests/shim/python/lib_py.sh

if ! /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
  t_skip python_pytest_plugin "Debian's python3-pytest is not installed"
elif ! /usr/bin/python3 -m venv --system-site-packages "$T/venv" >"$T/venv.err" 2>&1 ||
   ! "$T/venv/bin/pip" install -q --no-index ./python >"$T/pip.err" 2>&1; then
  t_fail python_pytest_plugin_installs "$(tail -c 300 "$T/venv.err" "$T/pip.err" | tr '\n' ' ')"
else
  cp tests/shim/python/pytest_user.py "$T/test_user.py"
  (cd "$T" && env -u LD_PRELOAD HEAPSNAP="$HEAPSNAP" HEAPSNAP_OUTPUT="$T/exit.%p.hsnap" \
     "$T/venv/bin/python" -m pytest -q -p no:cacheprovider --heapsnap test_user.py) \
    >"$T/out" 2>&1
  rc=$?
  res() { grep -E "^(PASSED|FAILED|ERROR)? ?test_user.py::$1|test_user.py::$1 (PASSED|FAILED)" "$T/out" >/dev/null; }
  big=$(py_line tests/shim/python/pytest_user.py MARK_BIG)
  leak=$(py_line tests/shim/python/pytest_user.py MARK_LEAK)
  [ $rc = 1 ] && t_pass python_pytest_exit_status || t_fail python_pytest_exit_status "rc $rc: $(tail -c 400 "$T/out")"
  grep -q "2 failed, 2 passed" "$T/out" && t_pass python_pytest_two_fail_two_pass ||
    t_fail python_pytest_two_fail_two_pass "$(tail -c 600 "$T/out")"
  grep -q "FAILED test_user.py::test_memory_big" "$T/out" &&
    grep -q "peak memory .* exceeds the limit 22.9 MiB" "$T/out" &&
    grep -q "test_user.py:$big: " "$T/out" && t_pass python_pytest_limit_memory_fails_naming_line ||
    t_fail python_pytest_limit_memory_fails_naming_line "$(grep -A8 'peak memory' "$T/out" | head -c 600)"
  grep -q "FAILED test_user.py::test_leaks_some" "$T/out" &&
    grep -q "leaves 307[0-9] KiB allocated and live" "$T/out" &&
    grep -q "test_user.py:$leak: 3072 KiB" "$T/out" &&
    t_pass python_pytest_limit_leaks_fails_naming_line ||
    t_fail python_pytest_limit_leaks_fails_naming_line "$(grep -A8 'leaves' "$T/out" | head -c 600)"
  ! grep -q "FAILED test_user.py::test_memory_small\|FAILED test_user.py::test_leaks_none" "$T/out" &&
    t_pass python_pytest_within_limits_pass || t_fail python_pytest_within_limits_pass "$(grep FAILED "$T/out")"
  grep -q "heapsnap memory summary" "$T/out" &&
    grep -q "test_user.py::test_memory_big: peak [34][0-9].[0-9] MiB" "$T/out" &&
    t_pass python_pytest_summary || t_fail python_pytest_summary "$(grep -A12 'memory summary' "$T/out" | head -c 800)"
fi
