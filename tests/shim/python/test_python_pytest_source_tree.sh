# test_python_pytest_source_tree.sh - `pytest -p heapsnap.pytest_plugin
# --heapsnap` with the package on PYTHONPATH (a source tree: no
# heapsnap-pytest.pth).  pytest is imported before any code of ours runs,
# so the package's __init__ loads the shim's late copy
# (libheapsnap-attach.so) into the running interpreter, as `heapsnap
# attach` does (heapsnap__load: GOT entries rewritten, CPython's domains
# wrapped at the first recorded allocation), instead of running pytest
# again under LD_PRELOAD (which imported pytest twice).  Pinned: one
# process (strace: one execve, no socket bound), and pytest_user.py's
# answers as the run again gives them (a leaking test fails limit_leaks
# naming its line and holder, limit_memory names its line); the load
# beside a thread that allocates and frees all along, blocks from before
# the load freed after it (a -p plugin of the user's, imported first);
# the fallback: no libheapsnap-attach.so beside HEAPSNAP_SHIM says so
# once and runs pytest again under the shim, with the same answers; and
# the same answers on every other CPython found (pyenv's, with Debian's
# pure-Python pytest linked into a directory, as
# test_python_pytest_every_version does), where ctypes' `CDLL(None).malloc`
# is libc's own function, called through no GOT (got.c's dlsym gives the
# hook).  Debian's python3 and pytest (python3-pytest), strace.
. tests/shim/python/lib_py.sh
py=/usr/bin/python3
names="python_pytest_source_tree_runs_in_one_process python_pytest_source_tree_same_answers_as_run_again
python_pytest_source_tree_loads_beside_a_busy_thread python_pytest_source_tree_falls_back_to_run_again"
skip() { for n in $names; do t_skip "$n" "$1"; done; }
if ! command -v strace >/dev/null 2>&1 || ! strace -f -qq -o /dev/null true 2>/dev/null; then
  skip "no strace, or it cannot trace here (apt-get install strace)"
elif ! "$py" -c 'import pytest' 2>/dev/null; then
  skip "no pytest for $py (python3-pytest)"
elif [ ! -f "$(dirname "$HEAPSNAP")/libheapsnap-attach.so" ]; then
  skip "libheapsnap-attach.so is not built (make all)"
else
  mkdir -p "$T/src" "$T/lib"
  cp tests/shim/python/pytest_user.py "$T/src/test_user.py"
  big=$(py_line tests/shim/python/pytest_user.py MARK_BIG)
  leak=$(py_line tests/shim/python/pytest_user.py MARK_LEAK)
  cat >"$T/src/busy_plugin.py" <<'PY'
# A plugin of the user's, imported before heapsnap's: a thread that
# allocates and frees, Python objects and libc blocks, made before the
# shim is loaded and freed after, from before the load to the end.
import ctypes
import threading

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
_ring = [[str(i)] * 8 for i in range(512)]
_native = [libc.malloc(64) for _ in range(512)]
_stop = threading.Event()
_rounds = [0]
_started = threading.Event()


def _churn():
    i = 0
    while not _stop.is_set():
        k = i % 512
        _ring[k] = [str(i)] * 8
        libc.free(_native[k])
        _native[k] = libc.malloc(64 + i % 200)
        i += 1
        if i == 2000:
            _started.set()
    _rounds[0] = i


_t = threading.Thread(target=_churn, daemon=True)
_t.start()
_started.wait(10)


def pytest_unconfigure(config):
    _stop.set()
    _t.join()
    for p in _native:
        libc.free(p)
    print("busy thread: %s rounds" % ("many" if _rounds[0] > 2000 else _rounds[0]))
PY
  cp "$(dirname "$HEAPSNAP")/libheapsnap.so" "$T/lib/"
  # run NAME [ENV...]: pytest_user.py from the source tree, traced
  run() {
    local name=$1; shift
    (cd "$T/src" && env -u LD_PRELOAD -u HEAPSNAP_OUTPUT -u HEAPSNAP_SHIM -u PYTEST_ADDOPTS \
       HEAPSNAP="$HEAPSNAP" PYTHONPATH="$T/src:$OLDPWD/python${PP:+:$PP}" PYTHONDONTWRITEBYTECODE=1 "$@" \
       strace -f -qq -o "$T/src/$name.st" -e trace=execve,bind \
       "${PY:-$py}" -m pytest -q -s -p no:cacheprovider $PLUGINS -p heapsnap.pytest_plugin --heapsnap test_user.py) \
      >"$T/src/$name.out" 2>&1
    echo $? >"$T/src/$name.rc"
  }
  # the answers of pytest_user.py: 2 failed, 2 passed, each failure naming its line
  answers() {
    local o="$T/src/$1.out"
    [ "$(cat "$T/src/$1.rc")" = 1 ] && grep -q "2 failed, 2 passed" "$o" &&
      grep -q "peak memory .* exceeds the limit 24.0 MiB" "$o" && grep -q "test_user.py:$big: " "$o" &&
      grep -q "leaves 307[0-9] KiB allocated and live" "$o" && grep -q "test_user.py:$leak: 3072 KiB" "$o" &&
      grep -qF "  kept by module test_user, global _kept (list) -> [1] (list)" "$o" &&
      grep -q "^test_user.py::test_memory_big: peak [34][0-9].[0-9] MiB" "$o"
  }
  execs() { grep -c 'execve(' "$T/src/$1.st"; }
  # story NAME: the end of a run's output on one line, long enough to hold
  # a faulthandler C stack whole (the runner keeps one line per failure)
  story() { tail -c 3000 "$T/src/$1.out" | tr '\n' ' '; }
  PLUGINS= run here
  warned=$(grep "^heapsnap: " "$T/src/here.out" | grep -v "peak memory\|the test leaves")
  if [ "$(execs here)" = 1 ] && ! grep -q 'bind(' "$T/src/here.st" && [ -z "$warned" ]; then
    t_pass python_pytest_source_tree_runs_in_one_process
  else
    t_fail python_pytest_source_tree_runs_in_one_process "execve $(execs here), bind $(grep -c 'bind(' "$T/src/here.st"), warnings: $warned"
  fi
  answers here && t_pass python_pytest_source_tree_same_answers_as_run_again ||
    t_fail python_pytest_source_tree_same_answers_as_run_again "rc $(cat "$T/src/here.rc"): $(story here)"

  PLUGINS="-p busy_plugin" run busy
  # (the thread's blocks count in every test, the process's: the outcomes
  # and the leaking line are checked, not the exact sizes nor the holder)
  if [ "$(cat "$T/src/busy.rc")" = 1 ] && grep -q "2 failed, 2 passed" "$T/src/busy.out" &&
     grep -q "test_user.py:$leak: 3072 KiB" "$T/src/busy.out" && grep -q "test_user.py:$big: " "$T/src/busy.out" &&
     [ "$(execs busy)" = 1 ] && grep -q "^busy thread: many rounds" "$T/src/busy.out"; then
    t_pass python_pytest_source_tree_loads_beside_a_busy_thread
  else
    t_fail python_pytest_source_tree_loads_beside_a_busy_thread "rc $(cat "$T/src/busy.rc"), execve $(execs busy): $(story busy)"
  fi

  PLUGINS= run again HEAPSNAP_SHIM="$T/lib/libheapsnap.so"
  n=$(grep -c "^heapsnap: the shim could not be loaded into this process (there is no libheapsnap-attach.so beside $T/lib/libheapsnap.so): pytest runs again under it$" "$T/src/again.out")
  if answers again && [ "$(execs again)" = 2 ] && [ "$n" = 1 ] &&
     [ "$(grep -c "^heapsnap: " "$T/src/again.out")" = 3 ]; then
    t_pass python_pytest_source_tree_falls_back_to_run_again
  else
    t_fail python_pytest_source_tree_falls_back_to_run_again "rc $(cat "$T/src/again.rc"), execve $(execs again), said $n: $(head -c 300 "$T/src/again.out" | tr '\n' ' ') ... $(story again)"
  fi
  DIST=/usr/lib/python3/dist-packages
  mkdir -p "$T/pp"
  for m in pytest _pytest pluggy iniconfig packaging attr attrs py.py exceptiongroup tomli; do
    [ -e "$DIST/$m" ] && ln -s "$DIST/$m" "$T/pp/$m"
  done
  while read -r tag other; do
    [ "$tag" = debian ] && continue
    if [ "$tag" = pyenv-3.10 ] && [ ! -e "$T/pp/exceptiongroup" ]; then
      t_skip "python_pytest_source_tree_same_answers_$tag" "pytest 7 on 3.10 needs Debian's python3-exceptiongroup"
      continue
    fi
    PLUGINS="-W ignore" PY=$other PP=$T/pp run "v-$tag"
    n=$(execs "v-$tag")
    # a Debian root's wrapper execs its own tools first: its python's execs count
    [ -n "$(py_root "$other")" ] && n=$(grep -c 'execve("/usr/bin/python3' "$T/src/v-$tag.st")
    if answers "v-$tag" && [ "$n" = 1 ]; then
      t_pass "python_pytest_source_tree_same_answers_$tag"
    else
      t_fail "python_pytest_source_tree_same_answers_$tag" "rc $(cat "$T/src/v-$tag.rc"), execve $n: $(story "v-$tag")"
    fi
  done < <(py_interpreters)
fi
