# test_python_state_default.sh - `import numpy, pandas` from Debian
# (python3-numpy, python3-pandas) fits the default state file (64 MiB):
# 372,000 traces and 1.68M frame-tree nodes, where the nodes' region held
# 1.38M and the run printed "the state file is full (HEAPSNAP_STATE)", a
# warning its user could do nothing about.  Now nothing is printed and the
# snapshot's `info` says the state file never filled.  (A default bound
# that does fill stays quiet too: test_state_bounds.sh.)
if ! /usr/bin/python3 -c 'import numpy, pandas' 2>/dev/null; then
  t_skip python_state_default_bound_fits_numpy_pandas "Debian's python3 cannot import numpy and pandas (python3-numpy, python3-pandas)"
else
  mkdir -p "$T/np"
  LD_PRELOAD=$SHIM HEAPSNAP_BLOCKS=0 HEAPSNAP_OUTPUT="$T/np/n.%p.hsnap" /usr/bin/python3 -c 'import numpy, pandas' 2>"$T/np.err"
  s=$(grep -l 'import numpy' "$T"/np/n.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" info "$s" >"$T/np.info" 2>/dev/null
  if [ -n "$s" ] && ! grep -q "state file" "$T/np.err" && grep -q "^state file: .* of 65536 KiB (HEAPSNAP_STATE)$" "$T/np.info"; then
    t_pass python_state_default_bound_fits_numpy_pandas
  else t_fail python_state_default_bound_fits_numpy_pandas "$(head -c 300 "$T/np.err"); $(grep '^state file' "$T/np.info")"; fi
fi
