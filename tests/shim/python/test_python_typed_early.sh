# test_python_typed_early.sh - at exit a leak check on a fork leaves the
# parent's thread free while the child scans: the objects' types and graph
# are made then (snap_pytypes_early), and kept only when their blocks are
# BLOCKS' own.  typed_early.py's exit snapshot (PYTHONHASHSEED=0,
# setarch -R, -I -S -B: the same heap each run) with the check on a fork
# (HEAPSNAP_LEAK_FORK=1) says it kept them, and its Python sections read
# by hsnap_dump --python are those of the check in place
# (HEAPSNAP_LEAK_FORK=0, typed after the answer), as its leaks are; where
# a native thread frees 20,000 blocks of BLOCKS as soon as the fork is
# made (churnthread.c), the blocks moved: they are typed again after the
# answer, and the snapshot reads whole with its graph.  Debian's python3.
. tests/shim/python/lib_py.sh
. tests/shim/lib_shim.sh
s_dump_build

py=/usr/bin/python3
[ -x "$py" ] || { t_skip python_typed_early "no /usr/bin/python3"; exit 0; }
command -v setarch >/dev/null || { t_skip python_typed_early "no setarch"; exit 0; }
prog=tests/shim/python/typed_early.py

# snap NAME FORK [ARGS...]: the exit snapshot $T/NAME.hsnap, stderr in $T/NAME.err.
snap() {
  local name=$1 fork=$2
  shift 2
  rm -f "$T/$name.hsnap"
  env PYTHONHASHSEED=0 HEAPSNAP_LEAKS=1 HEAPSNAP_LEAK_FORK="$fork" HEAPSNAP_VERBOSE=1 \
    LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/$name.hsnap" \
    setarch "$(uname -m)" -R "$py" -I -S -B $prog "$@" >"$T/$name.out" 2>"$T/$name.err"
}

# pysecs NAME: hsnap_dump --python's lines but the meta line (pid, time).
pysecs() { "$T/hsnap_dump" --python "$T/$1.hsnap" 2>&1 | grep -v '^meta '; }

snap forked 1
snap inplace 0
if grep -q "objects typed while the leak check's fork ran" "$T/forked.err" &&
   ! grep -q "objects typed while" "$T/inplace.err"; then
  t_pass python_typed_early_while_the_fork_runs
else t_fail python_typed_early_while_the_fork_runs "$(grep -i 'leak check\|objects typed' "$T/forked.err" | head -5 | tr '\n' ' ')"; fi
pysecs forked >"$T/forked.py.txt"
pysecs inplace >"$T/inplace.py.txt"
if [ -s "$T/forked.py.txt" ] && grep -q . "$T/forked.py.txt" && cmp -s "$T/forked.py.txt" "$T/inplace.py.txt" &&
   "$HEAPSNAP" info "$T/forked.hsnap" | grep -Eq '^python objects: +[0-9]+, .*1 with leaked references'; then
  t_pass python_typed_early_sections_as_in_place
else t_fail python_typed_early_sections_as_in_place "$(diff "$T/forked.py.txt" "$T/inplace.py.txt" | head -5 | tr '\n' ' ')"; fi
# leaks' report but its still-reachable count (a check in place holds one
# block of its own more than a fork's)
"$HEAPSNAP" leaks "$T/forked.hsnap" 2>&1 | grep -v 'still reachable:' >"$T/forked.leaks"
"$HEAPSNAP" leaks "$T/inplace.hsnap" 2>&1 | grep -v 'still reachable:' >"$T/inplace.leaks"
if cmp -s "$T/forked.leaks" "$T/inplace.leaks" && grep -q "garbage awaiting the collector" "$T/forked.leaks"; then
  t_pass python_typed_early_leaks_as_in_place
else t_fail python_typed_early_leaks_as_in_place "$(diff "$T/forked.leaks" "$T/inplace.leaks" | head -5 | tr '\n' ' ')"; fi

if ! t_build "$T/churnthread.so" tests/shim/python/churnthread.c -shared -fPIC -pthread 2>"$T/cc.err"; then
  t_fail python_typed_again_when_blocks_move "build: $(head -c 200 "$T/cc.err")"
  exit 0
fi
# the thread frees its blocks within ~0.1 ms of the fork, the pass over
# 100,000 dicts more takes tens of ms: three tries against a descheduled thread
for try in 1 2 3; do
  snap moved 1 "$T/churnthread.so" 100000
  grep -q "objects typed again" "$T/moved.err" && break
done
if grep -q "objects typed again: the blocks moved during the leak check" "$T/moved.err" &&
   "$T/hsnap_dump" --python "$T/moved.hsnap" >/dev/null 2>"$T/moved.dump.err" &&
   "$HEAPSNAP" info "$T/moved.hsnap" | grep -Eq '^python objects: +[0-9]+, .*1 with leaked references'; then
  t_pass python_typed_again_when_blocks_move
else t_fail python_typed_again_when_blocks_move "$(grep -i 'leak check\|objects typed' "$T/moved.err" | head -5 | tr '\n' ' ') $(head -c 200 "$T/moved.dump.err")"; fi
