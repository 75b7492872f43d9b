#!/usr/bin/env bash
# scripts/cpython-suite.sh - the heavy form of test_python_cpython_suite:
# CPython's own regression tests that touch what the shim touches (atexit,
# imports in threads, threading and _thread, signals, gc, weakrefs,
# finalization, tracemalloc, subprocess, os and its forks, sys, the C API's
# memory tests), each module whole, plain and under the shim's default,
# HEAPSNAP_SAMPLE=524288 and HEAPSNAP_LEAKS=1, compared test by test by
# scripts/cpysuite.py; then test_tracemalloc under -X tracemalloc.  Every
# CPython here that carries its test package (lib_py.sh's interpreters:
# Debian's python3 with libpython3.X-testsuite, pyenv's 3.10-3.13; the
# Debian roots' have none).  About half an hour on two idle cores; a
# minute or two of it is what `make check` runs.
# Usage: scripts/cpython-suite.sh [OUTDIR] [TEST...]   (TEST_PYTHONS=TAG picks
#        interpreters, as in the tests); build the shim first (make all).
# Prints cpysuite.py's lines, each prefixed with the interpreter's tag;
# exit 0 when nothing was lost, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
out=${1:-$BUILD/cpython-suite}
shift $(( $# > 0 ? 1 : 0 ))
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_atexit test_importlib.test_threaded_import test_threading
  test_thread test_signal test_gc test_weakref test_finalization test_tracemalloc test_subprocess
  test_os test_sys test_capi)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
. tests/shim/python/lib_py.sh
shim=$PWD/$BUILD/libheapsnap.so
[ -f "$shim" ] || { echo "cpython-suite: no $shim (make all)" >&2; exit 2; }
bad=0
while read -r tag py; do
  if ! "$py" -c 'import test.test_gc, test.test_atexit' >/dev/null 2>&1; then
    echo "$tag skipped: no test package"
    continue
  fi
  python3 scripts/cpysuite.py --python "$py" --shim "$shim" --out "$out/$tag" --timeout 1800 "${tests[@]}" |
    sed "s/^/$tag /"
  [ "${PIPESTATUS[0]}" = 0 ] || bad=1
  python3 scripts/cpysuite.py --python "$py" --shim "$shim" --out "$out/$tag-tmx" --xopt tracemalloc \
    test_tracemalloc | sed "s/^/$tag -X tracemalloc: /"
  [ "${PIPESTATUS[0]}" = 0 ] || bad=1
done < <(py_interpreters)
exit $bad
