# test_python_pytest_source_tree.sh - `pytest -p heapsnap.pytest_plugin
# --heapsnap` with the package on PYTHONPATH (a source tree: no
# heapsnap-pytest.pth) runs pytest again under the shim from the package's
# __init__, before the rest of the package is imported: the first process
# opens heapsnap's __init__.py and _early.py and no other file of the
# package (it imported _snapshot, _inproc, pytest_plugin and ctypes), so
# the package is imported once, under the shim.  strace counts the opens;
# Debian's python3 and pytest (python3-pytest).
. tests/lib.sh
py=/usr/bin/python3
if ! command -v strace >/dev/null 2>&1; then
  t_skip python_pytest_source_tree_imports_the_package_once "no strace (apt-get install strace)"
elif ! "$py" -c 'import pytest' 2>/dev/null; then
  t_skip python_pytest_source_tree_imports_the_package_once "no pytest for $py (python3-pytest)"
else
  mkdir -p "$T/src"
  printf 'def test_a():\n    assert 1\n\n\ndef test_b():\n    assert 2\n' >"$T/src/test_two.py"
  (cd "$T/src" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u PYTEST_ADDOPTS HEAPSNAP="$HEAPSNAP" \
     PYTHONPATH="$OLDPWD/python" PYTHONDONTWRITEBYTECODE=1 \
     strace -f -qq -o "$T/src/st" -e trace=execve,openat \
     "$py" -m pytest -q -s -p no:cacheprovider -p heapsnap.pytest_plugin --heapsnap test_two.py) \
    >"$T/src/out" 2>&1
  first=$(awk '/execve\(/ { n++ } n == 1' "$T/src/st" | grep -oE 'heapsnap/[a-z_]+\.py|/ctypes/' | sort -u | tr '\n' ' ')
  if [ "$(grep -c 'execve(' "$T/src/st")" = 2 ] && [ "$first" = "heapsnap/__init__.py heapsnap/_early.py " ] &&
     grep -q "2 passed" "$T/src/out" && grep -q "heapsnap memory summary" "$T/src/out"; then
    t_pass python_pytest_source_tree_imports_the_package_once
  else
    t_fail python_pytest_source_tree_imports_the_package_once "execve: $(grep -c 'execve(' "$T/src/st"); first process opened: $first; $(tail -c 300 "$T/src/out")"
  fi
fi
