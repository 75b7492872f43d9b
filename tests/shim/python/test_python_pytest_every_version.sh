# test_python_pytest_every_version.sh - the pytest plugin on every supported
# CPython found (issue 47's "a test on every version"): test_python_pytest
# runs it on Debian's python3 (3.11) with the package pip-installed; here
# each other interpreter (pyenv's 3.10-3.13) runs Debian's own pytest: its
# pure-Python packages (pytest, pluggy, iniconfig, packaging, attrs, and
# for 3.10 exceptiongroup and tomli) linked into one directory, not the
# whole dist-packages (its compiled modules are 3.11's).  A virtual
# environment without pip gets the source tree through a path .pth and the
# package's heapsnap-pytest.pth, so pytest runs again under the shim at
# the interpreter's start, as after `pip install` (pip cannot install here:
# pyenv's 3.12 and 3.13 have no setuptools): the first process opens no
# file of pytest's (strace).  Checked per version: each
# marker's failure naming the line, pytest-memray's sizes, the summary
# without pytest's frames, no heapsnap warning, no file left behind.  A
# SKIP line names each supported version absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_pytest_every_version_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
DIST=/usr/lib/python3/dist-packages
if [ ! -d "$DIST/_pytest" ] || [ ! -d "$DIST/pluggy" ]; then
  t_skip python_pytest_every_version "Debian's python3-pytest is not installed"
  exit 0
fi
mkdir -p "$T/pp"
for m in pytest _pytest pluggy iniconfig packaging attr attrs py.py exceptiongroup tomli; do
  [ -e "$DIST/$m" ] && ln -s "$DIST/$m" "$T/pp/$m"
done
strace_ok=0
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then strace_ok=1
else t_skip python_pytest_every_version_runs_again_at_start "strace is not installed or cannot trace here"; fi
big=$(py_line tests/shim/python/pytest_user.py MARK_BIG)
leak=$(py_line tests/shim/python/pytest_user.py MARK_LEAK)
ran=0
while read -r tag py; do
  [ "$tag" = debian ] && continue  # test_python_pytest's
  if [ -n "$(py_root "$py")" ]; then # its venv's python and strace's view are the root's
    t_skip "python_pytest_every_version_$tag" "a venv of a Debian root's interpreter runs only inside the root (test_python_versions covers that interpreter)"
    continue
  fi
  if [ "$tag" = pyenv-3.10 ] && [ ! -e "$T/pp/exceptiongroup" ]; then
    t_skip "python_pytest_every_version_$tag" "pytest 7 on 3.10 needs Debian's python3-exceptiongroup"
    continue
  fi
  ran=$((ran + 1))
  d=$T/$tag
  if ! "$py" -m venv --without-pip "$d/venv" >"$d.venv.err" 2>&1; then
    t_fail "python_pytest_every_version_venv_$tag" "$(tail -c 300 "$d.venv.err")"
    continue
  fi
  site=$("$d/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # read before heapsnap-pytest.pth (the names' order): the source and pytest on the path
  printf '%s\n%s\n' "$PWD/python" "$T/pp" >"$site/00heapsnap-src.pth"
  cp python/heapsnap-pytest.pth "$site/"
  mkdir -p "$d/run" "$d/tmp"
  cp tests/shim/python/pytest_user.py "$d/run/test_user.py"
  cp tests/shim/python/pytest_more.py "$d/run/test_more.py"
  trace=(); [ "$strace_ok" = 1 ] && trace=(strace -f -qq -e trace=execve,openat -o "$d/st")
  (cd "$d/run" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u PYTHONPATH HEAPSNAP="$HEAPSNAP" \
     TMPDIR="$d/tmp" "${trace[@]}" "$d/venv/bin/python" -m pytest -q -p no:cacheprovider \
     -p heapsnap.pytest_plugin --heapsnap test_user.py test_more.py) >"$d/out" 2>&1
  out=$d/out
  # run again by the .pth at the start: the first process opens no file of pytest's
  if [ "$strace_ok" = 1 ]; then
    first=$(awk '/execve\(/ { n++ } n == 1' "$d/st" | grep -c '_pytest/')
    [ "$(grep -c 'execve(' "$d/st")" = 2 ] && [ "$first" = 0 ] &&
      t_pass "python_pytest_every_version_runs_again_at_start_$tag" ||
      t_fail "python_pytest_every_version_runs_again_at_start_$tag" "$(grep -c 'execve(' "$d/st") execve, $first pytest files opened before"
  fi
  grep -q "3 failed, 7 passed" "$out" && grep -q "FAILED test_user.py::test_memory_big" "$out" &&
    grep -q "FAILED test_user.py::test_leaks_some" "$out" &&
    grep -q "FAILED test_more.py::test_limit_without_size" "$out" &&
    t_pass "python_pytest_every_version_three_fail_seven_pass_$tag" ||
    t_fail "python_pytest_every_version_three_fail_seven_pass_$tag" "$(tail -c 700 "$out")"
  grep -q "peak memory .* exceeds the limit 24.0 MiB" "$out" && grep -q "test_user.py:$big: " "$out" &&
    grep -q "test_user.py:$leak: 3072 KiB" "$out" &&
    grep -qF "  kept by module test_user, global _kept (list) -> [1] (list)" "$out" &&
    t_pass "python_pytest_every_version_failures_name_lines_$tag" ||
    t_fail "python_pytest_every_version_failures_name_lines_$tag" "$(grep -A8 'peak memory\|leaves' "$out" | head -c 900)"
  ! grep -q "FAILED test_more.py::test_ten_mb_is_mebibytes\|FAILED test_more.py::test_collection_not_recorded\|FAILED test_more.py::test_limit_keyword\|FAILED test_more.py::test_leak_filtered_out" "$out" &&
    t_pass "python_pytest_every_version_as_pytest_memray_$tag" ||
    t_fail "python_pytest_every_version_as_pytest_memray_$tag" "$(grep FAILED "$out")"
  grep -q "heapsnap memory summary" "$out" &&
    grep -q "test_user.py::test_memory_big: peak [34][0-9].[0-9] MiB" "$out" &&
    ! sed -n '/heapsnap memory summary/,$p' "$out" | grep -q "pluggy\|_pytest\|<frozen" &&
    t_pass "python_pytest_every_version_summary_without_pytest_frames_$tag" ||
    t_fail "python_pytest_every_version_summary_without_pytest_frames_$tag" "$(sed -n '/memory summary/,$p' "$out" | head -c 800)"
  # pytest 7.2's own DeprecationWarnings on 3.12 on are pytest's: none may be heapsnap's
  ! grep -h "^heapsnap: " "$out" | grep -qv "peak memory\|the test leaves\|needs a size" &&
    ! sed -n '/warnings summary/,/-- Docs/p' "$out" | grep -qi heapsnap &&
    t_pass "python_pytest_every_version_no_warning_$tag" ||
    t_fail "python_pytest_every_version_no_warning_$tag" "$(grep -i -m5 "heapsnap" "$out")"
  left=$(find "$d/run" "$d/tmp" -name '*.hsnap' -o -name '*.state' -o -name 'heapsnap-pytest*' | head -3)
  [ -z "$left" ] && t_pass "python_pytest_every_version_leaves_no_file_$tag" ||
    t_fail "python_pytest_every_version_leaves_no_file_$tag" "$left"
done < <(py_interpreters)
if [ "$ran" = 0 ]; then
  t_skip python_pytest_every_version "no CPython here beyond Debian's python3 (test_python_pytest's)"
fi
