# tests/lib.sh - the shell half of the test harness, sourced by every tests/**/test_*.sh.
# A test script reports each case as one line, "PASS name", "FAIL name: why" or
# "SKIP name: why"; tests/run.sh counts them.  Scripts run from the repository root
# with $BUILD (default build), $HEAPSNAP (the CLI) and $SHIM (the .so) set, and a
# private scratch directory in $T.
BUILD=${BUILD:-build}
HEAPSNAP=${HEAPSNAP:-$PWD/$BUILD/heapsnap}
SHIM=${SHIM:-$PWD/$BUILD/libheapsnap.so}
T=${T:-$(mktemp -d)}

# t_build OUT SRC [FLAGS...]: the one way a test compiles a program of its own:
# gcc (g++ for .cc) from the repository root with -g -O0 -fno-omit-frame-pointer
# -Ishim -fdebug-prefix-map=$PWD=. (DWARF names read "tests/DIR/NAME.c" wherever the
# checkout is), then FLAGS (a later -O or -shared wins).  OUT may be relative to $T.
# Programs with known answers shared by several tests: tests/fixtures/build.sh.
t_build() {
  local out=$1 src=$2 cc=${CC:-gcc}; shift 2
  case "$src" in *.cc) cc=${CXX:-g++} ;; esac
  case "$out" in /*) ;; *) out=$T/$out ;; esac
  "$cc" -g -O0 -fno-omit-frame-pointer -Ishim -fdebug-prefix-map="$PWD"=. "$src" -o "$out" "$@"
}

# t_debug_opens STRACE_LOG: the debug files an `strace -e trace=openat` log shows
# opened: those under /usr/lib/debug/, and the CLI's decompressed copies of them
# (report/symbols/debugcache.c) in $HEAPSNAP_DEBUG_CACHE, which it opens instead.
t_debug_opens() {
  local c=${HEAPSNAP_DEBUG_CACHE:-}
  { grep '/usr/lib/debug/' "$1"
    case "$c" in /*) grep -F "$c/" "$1" | grep '\.debug"' ;; esac; } | grep -vc ENOENT
}

# t_snap_pids FILE...: "PID PPID" for each snapshot (heapsnap info), so that a
# test tells a process's parent from the snapshots themselves: pids wrap
# (pid_max 32768 here), so their order says nothing.
t_snap_pids() {
  local f
  for f in "$@"; do "$HEAPSNAP" info "$f" 2>/dev/null; done |
    sed -n 's/^pid: *\([0-9]*\) (parent \([0-9]*\)).*/\1 \2/p'
}

t_pass() { echo "PASS $1"; }
t_fail() { echo "FAIL $1: ${2:-}"; }
t_skip() { echo "SKIP $1: ${2:-}"; }

# t_check NAME CMD...: passes when CMD exits 0.
t_check() {
  local name=$1; shift
  if "$@" >"$T/check.out" 2>&1; then t_pass "$name"
  else t_fail "$name" "exit $?: $(head -c 300 "$T/check.out" | tr '\n' ' ')"; fi
}

# t_status NAME WANT CMD...: passes when CMD exits with status WANT.
t_status() {
  local name=$1 want=$2; shift 2
  "$@" >"$T/status.out" 2>&1; local got=$?
  if [ "$got" -eq "$want" ]; then t_pass "$name"
  else t_fail "$name" "exit $got, want $want: $(head -c 300 "$T/status.out" | tr '\n' ' ')"; fi
}

# t_golden NAME GOLDEN_FILE ACTUAL_FILE: passes when the two are identical;
# prints the diff otherwise.  UPDATE_GOLDEN=1 rewrites the golden file instead.
t_golden() {
  local name=$1 golden=$2 actual=$3
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$actual" "$golden"; t_pass "$name (updated)"; return; fi
  if diff -u "$golden" "$actual" >"$T/golden.diff" 2>&1; then t_pass "$name"
  else t_fail "$name" "output differs from $golden"; sed 's/^/    /' "$T/golden.diff" | head -40; fi
}
