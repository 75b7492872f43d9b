# test_python_nframe_cap.sh - heapsnap.start(nframe) caps the Python frames
# the shim records (heapsnap_python_frames), as tracemalloc keeps nframe
# frames a traceback, so its tables stay as small.  nframe_cap.py
# allocates at one line from 4,096 call chains 53 frames deep: under
# start(64) each is a trace of its own, under start(1) all are one (before
# the cap, start(1) kept them all too): the exit snapshots' counts of
# traces differ by more than 4,000.  After stop() and start(40), the
# line's tracebacks are 40 frames deep again: the recent splices kept
# under the cap were forgotten.  Under start(1, native=False) a stack keeps
# no native frame under its Python one: nframe_cap.py's 12 kinds of object
# made at one line, each through native frames of its own, are one trace
# (12 or more under start(1)): on Debian's python3 the whole run has more
# than 20 traces fewer (72 here).  One interpreter per frame model (3.10,
# 3.11, 3.12 on).  (`import numpy, pandas` under start(): 147 -> 115 MiB
# before the snapshot; docs/python.md, Cost.)
. tests/shim/python/lib_py.sh
ran=0
while read -r tag py; do
  case "$tag" in debian|pyenv-3.10|pyenv-3.12) ;; *) continue ;; esac
  ran=$((ran + 1))
  modes="1 64"; [ "$tag" = debian ] && modes="1 64 bare"
  for n in $modes; do
    mkdir -p "$T/$tag.$n"
    LD_PRELOAD=$SHIM HEAPSNAP_BLOCKS=0 HEAPSNAP_OUTPUT="$T/$tag.$n/c.hsnap" PYTHONPATH=python \
      "$py" tests/shim/python/nframe_cap.py ${n/bare/1 bare} >"$T/$tag.$n.out" 2>"$T/$tag.$n.err"
    eval "t$n=\$(\"\$HEAPSNAP\" info \"\$T/\$tag.\$n/c.hsnap\" 2>/dev/null | sed -n 's/^traces: *//p')"
  done
  if [ -n "$t1" ] && [ -n "$t64" ] && [ $((t64 - t1)) -gt 4000 ] &&
     grep -q '^deepest 1$' "$T/$tag.1.out"; then
    t_pass "python_nframe_cap_keeps_one_stack_$tag"
  else
    t_fail "python_nframe_cap_keeps_one_stack_$tag" "traces: start(1) '$t1', start(64) '$t64'; $(head -c 200 "$T/$tag.1.out" "$T/$tag.1.err" | tr '\n' ' ')"
  fi
  if grep -q '^after start(40) deepest 40$' "$T/$tag.1.out"; then
    t_pass "python_nframe_cap_lifted_by_a_new_start_$tag"
  else
    t_fail "python_nframe_cap_lifted_by_a_new_start_$tag" "$(tr '\n' ' ' <"$T/$tag.1.out")"
  fi
  [ "$tag" = debian ] || continue
  if [ -n "$tbare" ] && [ -n "$t1" ] && [ $((t1 - tbare)) -gt 20 ] &&
     grep -q '^deepest 1$' "$T/$tag.bare.out"; then
    t_pass python_nframe_cap_native_false_keeps_python_frames_alone_debian
  else
    t_fail python_nframe_cap_native_false_keeps_python_frames_alone_debian "traces '$t1', bare '$tbare': $(tr '\n' ' ' <"$T/$tag.1.out") / $(tr '\n' ' ' <"$T/$tag.bare.out") $(head -c 200 "$T/$tag.bare.err")"
  fi
done < <(py_interpreters)
[ "$ran" = 0 ] && t_skip python_nframe_cap_keeps_one_stack "none of Debian's python3, pyenv's 3.10 or 3.12 here"
true
