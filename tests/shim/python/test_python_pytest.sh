# test_python_pytest.sh - the pytest plugin (python/heapsnap/pytest_plugin.py)
# in a real pytest run: the package pip-installed (offline, over Debian's
# setuptools) into a virtual environment that sees Debian's python3-pytest;
# `pytest --heapsnap` found through the pytest11 entry point, pytest run
# again under the shim by the plugin itself; each marker's passing and
# failing test, the failure naming the Python line (and native frame),
# pytest's progress line whole, and the memory summary; sizes as
# pytest-memray reads them ("10 MB" = 10 MiB),
# a marker without a size a clear failure, no warning and no file left
# behind (recording stopped outside the tests: HEAPSNAP_PAUSED, no exit
# snapshot), pytest's own frames out of the summary, --most-allocations,
# HEAPSNAP_BLOCKS=0 exported changing nothing, and what keeps a trivial test
# cheap (counted: one run again, before pytest's import and the package's,
# one dump a test, the maps read once, no file; a leak's holder in few scans).
. tests/shim/python/lib_py.sh

if ! /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
  t_skip python_pytest_plugin "Debian's python3-pytest is not installed"
elif ! /usr/bin/python3 -m venv --system-site-packages "$T/venv" >"$T/venv.err" 2>&1 ||
   ! "$T/venv/bin/pip" install -q --no-index "$(py_pkg_src)" >"$T/pip.err" 2>&1; then
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
    grep -q "peak memory .* exceeds the limit 24.0 MiB" "$T/out" &&
    grep -q "test_user.py:$big: " "$T/out" && t_pass python_pytest_limit_memory_fails_naming_line ||
    t_fail python_pytest_limit_memory_fails_naming_line "$(grep -A8 'peak memory' "$T/out" | head -c 600)"
  grep -q "FAILED test_user.py::test_leaks_some" "$T/out" &&
    grep -q "leaves 307[0-9] KiB allocated and live" "$T/out" &&
    grep -q "test_user.py:$leak: 3072 KiB" "$T/out" &&
    t_pass python_pytest_limit_leaks_fails_naming_line ||
    t_fail python_pytest_limit_leaks_fails_naming_line "$(grep -A8 'leaves' "$T/out" | head -c 600)"
  # ... and who keeps it: the test module's global (the warm-up's list is [0])
  grep -qF "  kept by module test_user, global _kept (list) -> [1] (list)" "$T/out" &&
    t_pass python_pytest_limit_leaks_names_holder ||
    t_fail python_pytest_limit_leaks_names_holder "$(grep -A12 'leaves' "$T/out" | head -c 900)"
  # a limit fails the call's report (pytest_runtest_makereport): each test's
  # status on the progress line, none swallowed into a captured section
  grep -Eqx '[.F]{4} +\[100%\]' "$T/out" && ! grep -q "Captured stdout" "$T/out" &&
    t_pass python_pytest_limit_failure_keeps_pytests_output ||
    t_fail python_pytest_limit_failure_keeps_pytests_output "$(grep -B2 -A2 '\[100%\]\|Captured' "$T/out" | head -c 600)"
  ! grep -q "FAILED test_user.py::test_memory_small\|FAILED test_user.py::test_leaks_none" "$T/out" &&
    t_pass python_pytest_within_limits_pass || t_fail python_pytest_within_limits_pass "$(grep FAILED "$T/out")"
  grep -q "heapsnap memory summary" "$T/out" &&
    grep -q "test_user.py::test_memory_big: peak [34][0-9].[0-9] MiB" "$T/out" &&
    t_pass python_pytest_summary || t_fail python_pytest_summary "$(grep -A12 'memory summary' "$T/out" | head -c 800)"
  grep -q "heapsnap memory summary" "$T/out" && ! sed -n '/heapsnap memory summary/,$p' "$T/out" |
    grep -q "pluggy\|_pytest\|<frozen" && t_pass python_pytest_summary_without_pytest_frames ||
    t_fail python_pytest_summary_without_pytest_frames "$(sed -n '/memory summary/,$p' "$T/out" | head -c 800)"
  # The second file: no HEAPSNAP_OUTPUT (nothing asked for at exit), its own
  # TMPDIR and directory, HEAPSNAP_BLOCKS=0 exported.
  mkdir -p "$T/run" "$T/tmp"
  cp tests/shim/python/pytest_more.py "$T/run/test_more.py"
  (cd "$T/run" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT HEAPSNAP="$HEAPSNAP" HEAPSNAP_BLOCKS=0 \
     TMPDIR="$T/tmp" "$T/venv/bin/python" -m pytest -q -p no:cacheprovider --heapsnap \
     --most-allocations 1 test_more.py) >"$T/more" 2>&1
  bigger=$(py_line tests/shim/python/pytest_more.py MARK_BIGGER)
  grep -q "1 failed, 5 passed" "$T/more" && grep -q "FAILED test_more.py::test_limit_without_size" "$T/more" &&
    t_pass python_pytest_blocks_off_passes_passing_tests ||
    t_fail python_pytest_blocks_off_passes_passing_tests "$(tail -c 900 "$T/more")"
  ! grep -q "FAILED test_more.py::test_ten_mb_is_mebibytes" "$T/more" &&
    t_pass python_pytest_sizes_as_pytest_memray || t_fail python_pytest_sizes_as_pytest_memray "$(grep -A3 ten_mb "$T/more" | head -c 600)"
  ! grep -q "FAILED test_more.py::test_limit_keyword\|FAILED test_more.py::test_leak_filtered_out" "$T/more" &&
    t_pass python_pytest_memray_keywords_and_filter_fn ||
    t_fail python_pytest_memray_keywords_and_filter_fn "$(grep -A8 'test_limit_keyword\|test_leak_filtered_out' "$T/more" | head -c 700)"
  grep -q 'limit_memory needs a size: limit_memory("24 MB")' "$T/more" && ! grep -q KeyError "$T/more" &&
    t_pass python_pytest_marker_without_size_says_so || t_fail python_pytest_marker_without_size_says_so "$(grep -B2 -A6 without_size "$T/more" | head -c 600)"
  ! grep -q "FAILED test_more.py::test_collection_not_recorded" "$T/more" &&
    t_pass python_pytest_records_only_the_tests || t_fail python_pytest_records_only_the_tests "$(grep -A6 collection_not "$T/more" | head -c 600)"
  [ "$(sed -n '/heapsnap memory summary/,$p' "$T/more" | grep -c '^test_more.py::')" = 1 ] &&
    grep -q "^test_more.py::test_ten_mb_is_mebibytes: peak" "$T/more" &&
    t_pass python_pytest_most_allocations || t_fail python_pytest_most_allocations "$(sed -n '/memory summary/,$p' "$T/more" | head -c 600)"
  ! grep -h "^heapsnap: " "$T/out" "$T/more" | grep -qv "peak memory\|the test leaves\|needs a size" &&
    t_pass python_pytest_no_warning || t_fail python_pytest_no_warning "$(grep -h "heapsnap" "$T/out" "$T/more" | head -5)"
  left=$(find "$T/run" "$T/tmp" -name '*.hsnap' -o -name '*.state' -o -name 'heapsnap-pytest*' | head -3)
  [ -z "$left" ] && t_pass python_pytest_leaves_no_file || t_fail python_pytest_leaves_no_file "$left"
  # What keeps --heapsnap cheap (issue 47: 20 trivial tests within 1.5x of
  # plain; scripts/bench/pytestcost.py times it), counted, not timed: pytest
  # is run again once (2 execve) and never forks; one heapsnap_dump a trivial
  # test (a conftest counts the calls); /proc/self/maps read as often for 20
  # tests as for 2 (the plugin names native frames from one read a run); no
  # file opened for writing that the plain run does not open too.
  if ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null true 2>/dev/null; then
    t_skip python_pytest_cheap_per_test "strace is not installed or cannot trace here"
  else
    mkdir -p "$T/cheap"
    cat >"$T/cheap/conftest.py" <<'PY'
import gc
import heapsnap
_calls = [0]
_scans = [0]
_get_referrers = gc.get_referrers
def _counted_referrers(*objs):
    _scans[0] += 1
    return _get_referrers(*objs)
gc.get_referrers = _counted_referrers
def pytest_configure(config):
    lib = heapsnap._lib
    if lib is not None and hasattr(lib, "heapsnap_dump"):
        real = lib.heapsnap_dump
        def counted(*a):
            _calls[0] += 1
            return real(*a)
        lib.heapsnap_dump = counted
def pytest_unconfigure(config):
    if heapsnap._lib is not None:
        print("heapsnap_dump calls: %d" % _calls[0])
        print("gc.get_referrers calls: %d" % _scans[0])
PY
    cat >"$T/cheap/test_leak.py" <<'PY'
import pytest
_kept = []
@pytest.mark.limit_leaks("1 MB")
def test_leaks():
    _kept.append([bytearray(2 << 20)])
PY
    for n in 2 20; do
      for i in $(seq $n); do printf 'def test_%d():\n    assert %d == %d\n\n' $i $i $i; done >"$T/cheap/test_t$n.py"
    done
    for run in plain.20 heapsnap.2 heapsnap.20 addopts.2; do
      n=${run#*.}; flag=; [ "${run%.*}" = heapsnap ] && flag=--heapsnap
      opts=; [ "${run%.*}" = addopts ] && opts="-p no:cacheprovider --heapsnap"
      (cd "$T/cheap" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT HEAPSNAP="$HEAPSNAP" PYTHONDONTWRITEBYTECODE=1 \
         PYTEST_ADDOPTS="$opts" \
         strace -f -qq -o "$T/cheap/$run.st" -e trace=execve,fork,vfork,clone,clone3,openat,creat \
         "$T/venv/bin/python" -m pytest -q -s -p no:cacheprovider $flag "test_t$n.py") >"$T/cheap/$run.out" 2>&1
    done
    st=$T/cheap/heapsnap.20.st
    # the syscall's name after strace's pid, not a path's text (a checkout in ./clone)
    forks() { grep -cE '^[0-9]+ +(v?fork|clone3?)\(' "$1"; }
    [ "$(grep -c 'execve(' "$st")" = 2 ] && [ "$(forks "$st")" = 0 ] &&
      grep -q "20 passed" "$T/cheap/heapsnap.20.out" &&
      t_pass python_pytest_runs_again_once_never_forks ||
      t_fail python_pytest_runs_again_once_never_forks "$(grep -c 'execve(' "$st") execve, $(forks "$st") forks: $(tail -c 300 "$T/cheap/heapsnap.20.out")"
    # the first process (before the second execve): neither pytest nor the package's
    # __init__ (ctypes, subprocess, ...): heapsnap-pytest.pth loads heapsnap._early alone
    # (--heapsnap in PYTEST_ADDOPTS alike)
    first=$(for f in "$st" "$T/cheap/addopts.2.st"; do
              awk '/execve\(/ { n++ } n == 1' "$f" | grep -E '_pytest/|heapsnap/(__pycache__/)?__init__'
            done | head -2)
    [ -z "$first" ] && grep -q "20 passed" "$T/cheap/heapsnap.20.out" &&
      grep -q "2 passed" "$T/cheap/addopts.2.out" && grep -q "heapsnap memory summary" "$T/cheap/addopts.2.out" &&
      t_pass python_pytest_runs_again_before_importing_pytest_or_the_package ||
      t_fail python_pytest_runs_again_before_importing_pytest_or_the_package "$first"
    grep -q "^heapsnap_dump calls: 20$" "$T/cheap/heapsnap.20.out" &&
      t_pass python_pytest_one_dump_a_trivial_test ||
      t_fail python_pytest_one_dump_a_trivial_test "$(grep 'dump calls' "$T/cheap/heapsnap.20.out")"
    # a failing limit_leaks names the holder from one pass over the objects: each
    # gc.get_referrers scans them all (thousands of calls, seconds, before)
    (cd "$T/cheap" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT HEAPSNAP="$HEAPSNAP" \
       "$T/venv/bin/python" -m pytest -q -s -p no:cacheprovider --heapsnap test_leak.py) >"$T/cheap/leak.out" 2>&1
    scans=$(sed -n 's/^gc.get_referrers calls: //p' "$T/cheap/leak.out")
    grep -qF "kept by module test_leak, global _kept (list) -> [0] (list)" "$T/cheap/leak.out" &&
      [ -n "$scans" ] && [ "$scans" -le 10 ] && t_pass python_pytest_leak_holder_found_in_few_scans ||
      t_fail python_pytest_leak_holder_found_in_few_scans "$scans gc.get_referrers calls: $(grep -A6 'leaves' "$T/cheap/leak.out" | head -c 500)"
    maps2=$(grep -c '"/proc/self/maps"' "$T/cheap/heapsnap.2.st")
    maps20=$(grep -c '"/proc/self/maps"' "$st")
    [ "$maps2" = "$maps20" ] && t_pass python_pytest_maps_read_once_a_run ||
      t_fail python_pytest_maps_read_once_a_run "/proc/self/maps opened $maps2 times for 2 tests, $maps20 for 20"
    written() { grep -E 'O_WRONLY|O_RDWR|O_CREAT|creat\(' "$1" | grep -v '= -1' |
                sed -E 's/^[0-9]+ +//; s/"[^"]*\/tmp[^"]*"/TMP/; s/\) = [0-9]+$//' | sort -u; }
    extra=$(comm -23 <(written "$st") <(written "$T/cheap/plain.20.st"))
    [ -z "$extra" ] && t_pass python_pytest_trivial_tests_open_no_file ||
      t_fail python_pytest_trivial_tests_open_no_file "$(echo "$extra" | head -3)"
  fi
  # HEAPSNAP naming something that is not the CLI: the error names it
  (cd "$T" && env -u LD_PRELOAD -u HEAPSNAP_SHIM HEAPSNAP=/bin/false \
     "$T/venv/bin/python" -m pytest -q -p no:cacheprovider --heapsnap test_user.py) >"$T/false" 2>&1
  grep -q 'HEAPSNAP=/bin/false has no libheapsnap.so beside it' "$T/false" &&
    ! grep -q 'libheapsnap.so is not found' "$T/false" &&
    t_pass python_pytest_bad_heapsnap_named || t_fail python_pytest_bad_heapsnap_named "$(tail -c 400 "$T/false")"
fi
