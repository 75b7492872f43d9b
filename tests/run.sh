#!/usr/bin/env bash
# tests/run.sh - runs every test and ends with "N passed, N failed, N skipped".
# Tests live in the folder of the room they test (tests/shim/record/ for
# shim/record/, tests/report/load/ for report/load/, ...) or in a shared place
# (fixtures, golden, fuzz, services, layout, scripts):
#   tests/**/test_*.c     unit tests, built (with the report/ or shim/ objects
#                         they name in a "// link: ..." comment) and run
#   tests/**/test_*.sh    sourced-harness shell tests (see tests/lib.sh)
# and checks the names: no two test scripts share a base name, no two cases
# (PASS/FAIL/SKIP lines) share a name.
# Usage: tests/run.sh [--quick] [PATTERN...]   runs only the tests whose path contains one of them.
#   --quick          the edit-test loop's tier (make check-fast): the unit tests and the
#                    offline tests of fixtures, leaving out services/, scripts/, fuzz/,
#                    the shell tests of shim/python/ (each Python there is) and every file
#                    that says "tier: full" in its opening (a service, a browser, a
#                    registry, or long work)
#   TEST_TIMEOUT=S   a test file's time limit (default 600 s; raise it on a loaded machine)
#   TEST_TIMES=FILE  keeps every file's time there ("SECONDS NAME" lines)
#   TEST_JOBS=N      test files run at once (default: the CPUs, nproc)
# Files run longest first, by tests/durations (what TEST_TIMES wrote; a file not
# listed there counts as short), TEST_JOBS at a time; a file whose opening says
# "serial: WHY" (it reads what every process does, or measures time) runs alone,
# after the others.  Each file's verdict lines are printed whole when it ends.
# The files that took longest are named before the last line.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export HEAPSNAP=$PWD/$BUILD/heapsnap SHIM=$PWD/$BUILD/libheapsnap.so
# The CLI's copies of compressed debug files (report/symbols/debugcache.c) go to
# the build's folder, not the home of whoever runs the tests.
export HEAPSNAP_DEBUG_CACHE=${HEAPSNAP_DEBUG_CACHE:-$PWD/$BUILD/tests/debug-cache}
# Whether path $1 is asked for: no pattern, or one it contains.
wanted() {
  [ ${#patterns[@]} -eq 0 ] && return 0
  local p; for p in "${patterns[@]}"; do case "$1" in *"$p"*) return 0 ;; esac; done
  return 1
}
quick=0
[ "${1:-}" = --quick ] && { quick=1; shift; }
patterns=("$@")
# Whether file $1 is in the tier asked for: every file, or under --quick one
# outside the heavy folders whose opening does not say "tier: full".
in_tier() {
  [ "$quick" = 0 ] && return 0
  case "$1" in tests/services/* | tests/scripts/* | tests/fuzz/* | tests/shim/python/test_*.sh) return 1 ;; esac
  ! head -n 25 "$1" | grep -qE '^(#|//| \*) tier: full'
}
# Whether file $1 runs alone: its opening says "serial: WHY".
is_serial() { head -n 25 "$1" | grep -qE '^(#|//| \*) serial: '; }
log=$(mktemp); jobdir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$log" "$log.times" "$log.lock" "$jobdir"' EXIT
mkdir -p "$BUILD/tests"

# run_one name cmd...: run with a time limit (output in $o.out, $o.err: the
# job's own files), print only the verdict lines
run_one() {
  local name=$1; shift
  local t0=$SECONDS
  timeout "${TEST_TIMEOUT:-600}" "$@" >"$o.out" 2>"$o.err"; local rc=$?
  echo "$((SECONDS - t0)) $name" >>"$log.times"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$o.out"; then
    [ "$rc" = 124 ] && rc="$rc (over ${TEST_TIMEOUT:-600} s)"
    echo "FAIL exit: $name exited $rc: $(tail -c 300 "$o.err" | tr '\n' ' ')" >>"$o.out"
  fi
  grep -E '^(PASS|FAIL|SKIP) |^    ' "$o.out"
}

# Every room (folder) of both trees is on the include path, so headers are
# named bare, as the Makefile builds them.
ROOM_INC=$(find shim report -type d | sort | sed 's/^/-I/' | tr '\n' ' ')
export ROOM_INC

# link_srcs SRC: the sources a unit test's "// link:" line names.  One that
# is not where the line says (a file moved to another room) is found by its
# name in the same tree, when exactly one file there has it.
link_srcs() {
  local f found
  for f in $(sed -n 's|^// link: *||p' "$1" | head -1); do
    if [ ! -e "$f" ]; then
      found=$(find "${f%%/*}" -name "${f##*/}")
      [ "$(echo "$found" | wc -w)" -eq 1 ] && f=$found
    fi
    echo "$f"
  done
}
export -f link_srcs

units=$(find tests -name 'test_*.c' | sort)
scripts=$(find tests -name 'test_*.sh' | sort)

# run_unit SRC: a unit test built (with the objects its "// link:" names) and run
run_unit() {
  local src=$1 name bin objs f
  name=$(basename "$src" .c); bin=$BUILD/tests/$name
  objs=""; for f in $(link_srcs "$src"); do objs="$objs $BUILD/obj/${f%.c}.o"; done
  if ! ${CC:-gcc} -O1 -g -std=gnu11 -D_GNU_SOURCE $ROOM_INC -Itests "$src" $objs \
       -o "$bin" -liberty -ldw -lelf -lz -lzstd -lm -lunwind -ldl -pthread 2>"$o.err"; then
    echo "FAIL $name: does not build: $(head -c 400 "$o.err" | tr '\n' ' ')"; return
  fi
  run_one "$name" "$bin"
}

# info_all NAME DIR: every snapshot the script left in DIR is one `heapsnap
# info` reads (the writer never writes what the reader refuses); a case of
# its own, NAME_snapshots_read, when there is any.  For the folders whose
# tests damage no snapshot on purpose.
info_all() {
  local f bad="" n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    "$HEAPSNAP" info "$f" >/dev/null 2>"$o.info" || bad="$bad ${f##*/}: $(head -c 160 "$o.info")"
  done < <(find "$2" -name '*.hsnap' -print0)
  [ "$n" -eq 0 ] && return
  if [ -z "$bad" ]; then echo "PASS $1: ${1}_snapshots_read"
  else echo "FAIL $1: ${1}_snapshots_read:$bad"; fi
}

# run_script SH: a shell test in a scratch directory of its own
run_script() {
  local sh=$1 name scratch
  name=$(basename "$sh" .sh); scratch=$(mktemp -d)
  run_one "$name" env T="$scratch" bash -c ". tests/lib.sh; . $sh"
  case "$sh" in tests/shim/leak/*) info_all "$name" "$scratch" ;; esac
  rm -rf "$scratch"
}

# run_file N FILE: one test file as job N; its verdict lines are printed
# and logged whole, under a lock, when it ends
run_file() {
  local o=$jobdir/$1
  case "$2" in *.c) run_unit "$2" ;; *) run_script "$2" ;; esac >"$o.v"
  { flock 9; cat "$o.v" >>"$log"; cat "$o.v"; } 9>"$log.lock"
  rm -f "$o".*
}

# The files asked for, longest first (tests/durations; ties in path order),
# then those that run alone.
declare -A took=()
while read -r sec what; do
  case "$sec" in [0-9]*) took[$what]=$sec ;; esac
done < <(cat tests/durations 2>/dev/null)
nfiles=0; nran=0; order=""; alone=""
for f in $units $scripts; do
  [ -e "$f" ] || continue
  wanted "$f" || continue
  nfiles=$((nfiles + 1)); in_tier "$f" || continue; nran=$((nran + 1))
  b=$(basename "${f%.*}")
  if is_serial "$f"; then alone="$alone $f"; else order="$order
${took[$b]:-0} $nran $f"; fi
done
order=$(echo "$order" | sed '/^$/d' | sort -k1,1nr -k2,2n | awk '{ print $3 }')
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
n=0; running=0
for f in $order; do
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  n=$((n + 1)); run_file "$n" "$f" &
  running=$((running + 1))
done
wait
for f in $alone; do n=$((n + 1)); run_file "$n" "$f"; done

# unique_names CASE WHAT: PASS CASE when no name on stdin comes twice, else FAIL
# CASE naming the names that do.
unique_names() {
  local dups; dups=$(sort | uniq -d | tr '\n' ' ')
  if [ -z "$dups" ]; then echo "PASS $1" | tee -a "$log"
  else echo "FAIL $1: $2 share a name: $dups" | tee -a "$log"; fi
}
for f in $units $scripts; do basename "${f%.*}"; done |
  unique_names unique_test_script_names "test scripts"
# s_build (tests/shim/lib_shim.sh) finds a fixture by its name: two of one
# name under tests/shim would build the wrong program.
find tests/shim -name '*.c' ! -name 'test_*' -exec basename {} \; |
  unique_names unique_shim_fixture_names "fixtures under tests/shim"
grep -E '^(PASS|FAIL|SKIP) ' "$log" | grep -v '^FAIL exit: ' | sed -E 's/^[A-Z]+ ([^ :]+).*/\1/' |
  unique_names unique_test_case_names "test cases"

[ "$quick" = 1 ] && echo "quick: $nran of $nfiles test files (the rest run in make check)"
[ -n "${TEST_TIMES:-}" ] && [ -s "$log.times" ] && cp "$log.times" "$TEST_TIMES"
[ -s "$log.times" ] && echo "slowest: $(sort -rn "$log.times" | head -5 | awk '{print $2 " " $1 " s"}' | paste -sd, | sed 's/,/, /g')"
rm -f "$log.times"
p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
