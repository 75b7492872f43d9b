# test_python_api.sh - the tracemalloc-shaped package (python/), installed
# with pip into a virtual environment of Debian's python3 (offline, plain
# `pip install --no-index`: no pyproject.toml, the system's setuptools): without
# the shim every call is a no-op with a clear result; under it each one
# reaches the shim's C API (shim/heapsnap.h).
. tests/shim/python/lib_py.sh

if ! /usr/bin/python3 -m venv --system-site-packages "$T/venv" >"$T/venv.err" 2>&1 ||
   ! "$T/venv/bin/pip" install -q --no-index "$(py_pkg_src)" >"$T/pip.err" 2>&1; then
  t_fail python_package_installs "$(tail -c 300 "$T/venv.err" "$T/pip.err" | tr '\n' ' ')"
else
  t_pass python_package_installs
  py=$T/venv/bin/python
  mkdir -p "$T/plain" "$T/shim"
  "$py" tests/shim/python/api_user.py "$T/plain" >"$T/plain.out" 2>&1
  cat >"$T/plain.want" <<'WANT'
loaded False tracing False
current >= 1000000 False peak >= current True
shrank False peak reset False
snapshot False
collect None
memory False
WANT
  t_golden python_package_without_shim_is_noop "$T/plain.want" "$T/plain.out"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/shim/x.%p.hsnap" "$py" tests/shim/python/api_user.py "$T/shim" \
    >"$T/shim.out" 2>&1
  cat >"$T/shim.want" <<'WANT'
loaded True tracing True
current >= 1000000 True peak >= current True
shrank True peak reset True
snapshot True
collect int
memory True
WANT
  t_golden python_package_reaches_the_shim "$T/shim.want" "$T/shim.out"
  # The snapshot it wrote holds the program's Python lines.
  if "$HEAPSNAP" leaks "$T/shim/collect.hsnap" >/dev/null 2>&1 &&
     "$HEAPSNAP" top "$T/shim/api.hsnap" -n 0 --key traceback 2>/dev/null | grep -q 'api_user.py", line'; then
    t_pass python_package_snapshots_have_python_lines
  else t_fail python_package_snapshots_have_python_lines "$(ls "$T/shim")"; fi
fi
