# test_python_clean_extensions.sh - a C extension's initialisation keeps
# objects with no pointer to them (a Cython module's constants whose
# write-only static variables the C compiler removed: Debian's pandas
# left 878 such blocks "definitely lost"): the leak check classes them the
# runtime's ("ignored" in `info`), never a leak, while a reference the same
# extension leaks at run time stays a direct leak.  initconst.c (built
# with gcc against each interpreter's headers) keeps a bytes and a code
# object from its exec slot and drops a bytes per leak() call, and
# initsingle.c, a single-phase module, keeps a bytes from its PyInit_ and
# counts a str once more than it points to it (nothing in `leaks` at
# PyInit_initsingle: before, its bytes was definitely lost); on Debian's
# python3 and pyenv's 3.10 and 3.11, `info` must read the run-time bytes
# lost, 3 (or 2: a stale pointer, in a dead frame say, may hide one: the
# scan is conservative), none indirect (the code object's names would be),
# and the runtime's own counted apart.  The object the extension holds in
# a C global, initconst_kept, is held by "static data of initconst...so
# (initconst_kept)" in `top --retainers` (before: "outside (C code or the
# interpreter)"), and the one a blocked thread holds in a C local alone
# by "C stack of thread TID in initconst_block_holding (initconst.c:L)".  The constants the check classed the
# runtime's are no leaked references either (`leaks` lists the run-time
# bytes at initconst_leak, nothing at initconst_exec or
# PyInit_initsingle; before, both), nor is initconst's constant nested in
# a constant (("initconst_day",), 2) whose inner tuple the free list
# handed out (its stack a Python line: before, "refcount 2, 1 reference
# found"), nor, from 3.11 on, the names tuple (co_varnames) of a code
# object it makes as Cython 0.29 does there (code.replace copies the
# names), a block from the free list a stale data-stack slot reaches
# (before: "refcount 1, 0 references found" at initconst_user.py's
# MARK_NAMES line).  And `import numpy, pandas` from Debian (python3-numpy,
# python3-pandas) loses nothing and no object reads as a leaked reference
# (907 three sessions ago: code objects the check on a fork classed; then
# 9: pandas' tslibs.parsing's nested constant tuples from the free list;
# then 1-2 names tuples from the free list a stale word reached, below);
# `import numpy` alone has none (15 before: numpy's initumath counts
# 2-tuples and a float once more than it points to them, an
# initialisation's own count).
. tests/shim/python/lib_py.sh

ran=0
while read -r tag py; do
  case "$tag" in debian|pyenv-3.10|pyenv-3.11) ;; *) continue ;; esac
  inc=$(py_include "$py")
  suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
  if [ ! -f "$inc/Python.h" ]; then
    t_skip "python_clean_extension_init_$tag" "no Python.h for $py (python3-dev, or a pyenv build)"; continue
  fi
  ran=$((ran + 1))
  mkdir -p "$T/ic-$tag"
  if ! t_build "$T/ic-$tag/initconst$suffix" tests/shim/python/initconst.c -shared -fPIC -I"$inc" $(py_incafter "$py") 2>"$T/cc-$tag.err" ||
     ! t_build "$T/ic-$tag/initsingle$suffix" tests/shim/python/initsingle.c -shared -fPIC -I"$inc" $(py_incafter "$py") 2>>"$T/cc-$tag.err"; then
    t_fail "python_clean_extension_init_build_$tag" "$(head -c 300 "$T/cc-$tag.err")"; continue
  fi
  rm -f "$T"/exit.*.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" tests/shim/python/initconst_user.py "$T/ic-$tag"; then
    t_fail "python_clean_extension_init_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  set -- "$T"/exit.*.hsnap
  "$HEAPSNAP" info "$1" >"$T/$tag.info" 2>/dev/null
  if [ "$#" = 1 ] && grep -Eq 'leak check: *yes, ([23]) blocks lost \([0-9]+ B: \1 direct, 0 indirect, 0 in cycles\)' "$T/$tag.info" &&
     grep -q '^ignored: .*C extensions. initialisation constants' "$T/$tag.info"; then
    t_pass "python_clean_extension_init_constants_not_leaks_$tag"
  else t_fail "python_clean_extension_init_constants_not_leaks_$tag" "$# snapshots; $(grep -E '^(leak check|ignored)' "$T/$tag.info")"; fi
  "$HEAPSNAP" leaks "$1" >"$T/$tag.leaks" 2>/dev/null
  if grep -q 'definitely lost' "$T/$tag.leaks" && ! grep -q PyInit_initsingle "$T/$tag.leaks"; then
    t_pass "python_clean_single_phase_init_constants_not_leaks_$tag"
  else t_fail "python_clean_single_phase_init_constants_not_leaks_$tag" "$(grep -B1 PyInit_initsingle "$T/$tag.leaks" | head -4)"; fi
  sed -n '/leaked references/,$p' "$T/$tag.leaks" >"$T/$tag.refs"
  if grep -Eq '^  [23] bytes .*: refcount 1, 0 references found' "$T/$tag.refs" &&
     grep -q '#0 initconst_leak' "$T/$tag.refs" && ! grep -Eq 'initconst_exec|PyInit_initsingle' "$T/$tag.refs"; then
    t_pass "python_leakref_init_constants_not_leaked_refs_$tag"
  else t_fail "python_leakref_init_constants_not_leaked_refs_$tag" "$(grep -E '^  [0-9]|#0' "$T/$tag.refs" | head -6)"; fi
  fl=$(py_line tests/shim/python/initconst_user.py MARK_FREELIST)
  if grep -q 'definitely lost\|leaked references' "$T/$tag.leaks" &&
     ! grep -Eq "^  [0-9]+ tuple .* at [^ ]*initconst_user.py:$fl: " "$T/$tag.refs"; then
    t_pass "python_leakref_nested_init_constant_from_free_list_not_leaked_$tag"
  else t_fail "python_leakref_nested_init_constant_from_free_list_not_leaked_$tag" "$(grep -E "^  [0-9]+ tuple" "$T/$tag.refs" | head -3)"; fi
  nl=$(py_line tests/shim/python/initconst_user.py MARK_NAMES)
  if grep -q 'definitely lost\|leaked references' "$T/$tag.leaks" &&
     ! grep -Eq "^  [0-9]+ tuple .* at [^ ]*initconst_user.py:$nl: " "$T/$tag.refs"; then
    t_pass "python_leakref_init_code_names_from_free_list_not_leaked_$tag"
  else t_fail "python_leakref_init_code_names_from_free_list_not_leaked_$tag" "$(grep -E "^  [0-9]+ tuple" "$T/$tag.refs" | head -3)"; fi
  "$HEAPSNAP" top "$1" --retainers --key type -n 0 >"$T/$tag.ret" 2>/dev/null
  if grep -Eq "^    1 object: static data of initconst[^ ]*\.so \(initconst_kept\) \(__main__\.InitconstHeld\)$" "$T/$tag.ret"; then
    t_pass "python_retainers_c_global_named_static_data_$tag"
  else t_fail "python_retainers_c_global_named_static_data_$tag" "$(grep -A3 InitconstHeld "$T/$tag.ret" | head -4)"; fi
  if grep -Eq "^    1 object: C stack of thread [0-9]+ in initconst_block_holding \([^ ]*initconst\.c:[0-9]+\) \(__main__\.InitconstBlocked\)$" "$T/$tag.ret"; then
    t_pass "python_retainers_c_local_named_thread_stack_$tag"
  else t_fail "python_retainers_c_local_named_thread_stack_$tag" "$(grep -A3 InitconstBlocked "$T/$tag.ret" | head -4)"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_clean_extension_init "none of Debian's python3, pyenv's 3.10 or 3.11 here"; fi

if ! /usr/bin/python3 -c 'import numpy, pandas' 2>/dev/null; then
  t_skip python_clean_numpy_pandas_import_debian "Debian's python3 cannot import numpy and pandas (python3-numpy, python3-pandas)"
else
  mkdir -p "$T/np"
  HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/np/n.%p.hsnap" /usr/bin/python3 -c 'import numpy, pandas' \
    >"$T/np.out" 2>"$T/np.err"
  s=$(grep -l python3 "$T"/np/n.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" info "$s" >"$T/np.info" 2>/dev/null
  if grep -q 'leak check: *yes, 0 blocks lost (0 B: 0 direct, 0 indirect, 0 in cycles)' "$T/np.info"; then
    t_pass python_clean_numpy_pandas_import_nothing_lost_debian
  else t_fail python_clean_numpy_pandas_import_nothing_lost_debian "$(grep 'leak check' "$T/np.info")"; fi
  "$HEAPSNAP" leaks "$s" 2>/dev/null | sed -n '/leaked references/,$p' >"$T/np.refs"
  # Before, one or two 2-tuples read as leaked (refcount 1, no pointer
  # left: a whole scan of /proc/PID/mem agrees), such as ('arr', 'copy'):
  # the names (co_varnames) of pandas' Cython functions, which 3.11's
  # code.replace copies, so the tuple's write-only static was all that
  # held it; its block from the tuple free list (its site the re parser's)
  # and a stale word in a dead data-stack slot reaching it, no lost block.
  n=$(sed -n 's/^python objects: .*, \([0-9]*\) with leaked references$/\1/p' "$T/np.info")
  if [ "$n" = 0 ]; then
    t_pass python_leakref_numpy_pandas_init_constants_not_leaked_refs_debian
  else t_fail python_leakref_numpy_pandas_init_constants_not_leaked_refs_debian "${n:-no} leaked references: $(grep -E '^  [0-9]' "$T/np.refs" | head -3 | tr '\n' '|')"; fi
  mkdir -p "$T/n1"
  HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/n1/n.%p.hsnap" /usr/bin/python3 -c 'import numpy' \
    >"$T/n1.out" 2>"$T/n1.err"
  s=$(grep -l python3 "$T"/n1/n.*.hsnap 2>/dev/null | head -1)
  if "$HEAPSNAP" info "$s" 2>/dev/null | grep -q '^python objects: .*, 0 with leaked references$'; then
    t_pass python_leakref_numpy_import_no_leaked_refs_debian
  else t_fail python_leakref_numpy_import_no_leaked_refs_debian "$("$HEAPSNAP" info "$s" 2>&1 | grep -E '^python objects|error')"; fi
fi
