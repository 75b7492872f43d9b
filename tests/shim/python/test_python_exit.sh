# test_python_exit.sh - a Python program's exit snapshot is taken when the
# interpreter's finalization begins (an atexit callback the shim registers,
# pyexit.c), so `top` at exit shows what the program held at its end: the
# README's one-liner its 10 MiB list at <string>:1, a script its module's
# dict and what its own atexit handler kept (the shim's runs after it);
# one snapshot per process, compressed by its size (the one-liner's under
# 1 MB, Python objects and all); nothing is written past it (a signal in
# the teardown); a program that leaves through os._exit still writes its own, and
# so do multiprocessing's fork workers (they ran Python code).  The
# registration imports nothing: the program's sys.modules is the same as
# unhooked, atexit's list one callback longer (an import run by the pending
# call between two bytecodes was nested in the program's own import, and
# 3.10/3.11's importlib died of it: KeyError in _ModuleLock.acquire).  A SKIP
# line names each supported version absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_exit_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

data=$(py_line tests/shim/python/atexit_user.py MARK_DATA)
atx=$(py_line tests/shim/python/atexit_user.py MARK_ATEXIT)
py_interpreters | while read -r tag py; do
  d=$T/$tag
  mkdir -p "$d/one" "$d/script" "$d/quick"
  # the size pins the compression rule, with the defaults: the objects'
  # types, graph and retained sizes (PYTYPES, PYRETAIN) and BLOCKS in byte
  # planes (hsnap_planes.h; pyenv 3.11.7: 1.66 MB before, 0.89 MB now)
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/one/x.%p.hsnap" "$py" -c 'x = [str(i) * 10 for i in range(100000)]' \
    2>"$d/one.err"
  set -- "$d"/one/*.hsnap
  top=$("$HEAPSNAP" top "$1" -n 1 2>/dev/null)
  size=$(stat -c %s "$1" 2>/dev/null || echo 0)
  if [ $# = 1 ] && echo "$top" | grep -qE '^<string>:1: size=(9[0-9]{3} KiB|1[01]\.[0-9] MiB), count=1000[0-9][0-9]' &&
     [ "$size" -lt 1000000 ]; then
    t_pass "python_exit_one_liner_holds_its_list_$tag"
  else
    t_fail "python_exit_one_liner_holds_its_list_$tag" "$# files, $size bytes: $top $(head -c 200 "$d/one.err")"
  fi
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/script/x.%p.hsnap" "$py" tests/shim/python/atexit_user.py 2>"$d/script.err"
  set -- "$d"/script/*.hsnap
  "$HEAPSNAP" top "$1" -n 0 >"$d/script.top" 2>/dev/null
  if [ $# = 1 ] && grep -q "atexit_user.py:$atx: size=5120 KiB" "$d/script.top" &&
     grep -qE "atexit_user.py:$data: size=[0-9.]+ MiB" "$d/script.top"; then
    t_pass "python_exit_after_the_programs_atexit_$tag"
  else
    t_fail "python_exit_after_the_programs_atexit_$tag" "$# files: $(grep atexit_user "$d/script.top" | head -3)"
  fi
  # sys.modules printed once the registration has surely run (the wrap
  # comes with the first allocations, the pending call at the next safe
  # point: a loop's many), then atexit's count of callbacks
  mods='import sys
x = [str(i) for i in range(200000)]
print(sorted(sys.modules))
import atexit
print(atexit._ncallbacks())'
  mkdir -p "$d/mods"
  "$py" -c "$mods" >"$d/mods.plain" 2>&1
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/mods/x.%p.hsnap" "$py" -c "$mods" >"$d/mods.shim" 2>&1
  if [ "$(head -n 1 "$d/mods.plain")" = "$(head -n 1 "$d/mods.shim")" ] &&
     [ "$(sed -n 2p "$d/mods.shim")" = "$(($(sed -n 2p "$d/mods.plain") + 1))" ]; then
    t_pass "python_exit_registration_imports_nothing_$tag"
  else
    t_fail "python_exit_registration_imports_nothing_$tag" "$(diff <(head -n 1 "$d/mods.plain" | tr ',' '\n') \
      <(head -n 1 "$d/mods.shim" | tr ',' '\n') | grep '^[<>]' | head -3 | tr '\n' ' ') callbacks: $(sed -n 2p "$d/mods.plain") plain, $(sed -n 2p "$d/mods.shim" | head -c 200)"
  fi
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/quick/x.%p.hsnap" "$py" -c \
    'import os; x = [bytearray(1000) for i in range(3000)]; os._exit(0)' 2>"$d/quick.err"
  set -- "$d"/quick/*.hsnap
  if [ $# = 1 ] && "$HEAPSNAP" top "$1" -n 1 2>/dev/null | grep -q '^<string>:1: size='; then
    t_pass "python_exit_os_exit_still_writes_$tag"
  else
    t_fail "python_exit_os_exit_still_writes_$tag" "$# files: $(head -c 300 "$d/quick.err")"
  fi
  # past the exit snapshot the hooks forward and nothing more is written:
  # a HEAPSNAP_SIGNAL sent in the teardown (a global's __del__) is
  # answered by nothing, and the process ends as it would unhooked
  mkdir -p "$d/late"
  LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$d/late/x.%p.hsnap" "$py" -c '
import os, signal, time
class Late:
    def __del__(self):
        self.junk = [bytearray(1000) for i in range(2000)]
        os.kill(os.getpid(), signal.SIGUSR2)
        time.sleep(0.1)
late = Late()' 2>"$d/late.err"
  rc=$?
  set -- "$d"/late/*.hsnap
  if [ $rc = 0 ] && [ $# = 1 ] && "$HEAPSNAP" info "$1" 2>/dev/null | grep -q '^reason: *exit'; then
    t_pass "python_exit_teardown_writes_nothing_more_$tag"
  else
    t_fail "python_exit_teardown_writes_nothing_more_$tag" "rc $rc, $# files: $(head -c 300 "$d/late.err")"
  fi
done

# multiprocessing's fork workers leave through os._exit: having run Python
# code, each writes its snapshot by default (HEAPSNAP_CHILDREN=exit), its
# peak's top line the worker's (its size is the capture's: within a step).
work=$(py_line tests/shim/python/workers.py MARK_WORK)
mkdir -p "$T/workers"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/workers/w.%p.hsnap" /usr/bin/python3 tests/shim/python/workers.py \
  2>"$T/workers.err"
n=0
for f in "$T"/workers/*.hsnap; do
  "$HEAPSNAP" top "$f" --peak -n 1 2>/dev/null | grep -q "workers.py:$work: size=" &&
    n=$((n + 1))
done
[ "$n" = 2 ] && [ "$(ls "$T"/workers/*.hsnap | wc -l)" = 3 ] && t_pass python_exit_fork_workers_write ||
  t_fail python_exit_fork_workers_write "$n of 2 workers at their line; $(ls "$T/workers" | tr '\n' ' ')$(head -c 300 "$T/workers.err") $(for f in "$T"/workers/*.hsnap; do "$HEAPSNAP" top "$f" --peak -n 1 2>&1; done | head -c 300)"
