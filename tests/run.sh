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
# The files that took longest are named before the last line.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export HEAPSNAP=$PWD/$BUILD/heapsnap SHIM=$PWD/$BUILD/libheapsnap.so
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
log=$(mktemp); trap 'rm -f "$log" "$log.times"' EXIT
mkdir -p "$BUILD/tests"

run_one() { # name cmd...: run with a time limit, keep only the verdict lines
  local name=$1; shift
  local t0=$SECONDS
  timeout "${TEST_TIMEOUT:-600}" "$@" >"$log.out" 2>"$log.err"; local rc=$?
  echo "$((SECONDS - t0)) $name" >>"$log.times"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log.out"; then
    [ "$rc" = 124 ] && rc="$rc (over ${TEST_TIMEOUT:-600} s)"
    echo "FAIL exit: $name exited $rc: $(tail -c 300 "$log.err" | tr '\n' ' ')" >>"$log.out"
  fi
  grep -E '^(PASS|FAIL|SKIP) |^    ' "$log.out" | tee -a "$log"
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

nfiles=0; nran=0
for src in $units; do
  [ -e "$src" ] || continue
  wanted "$src" || continue
  nfiles=$((nfiles + 1)); in_tier "$src" || continue; nran=$((nran + 1))
  name=$(basename "$src" .c); bin=$BUILD/tests/$name
  objs=""; for f in $(link_srcs "$src"); do objs="$objs $BUILD/obj/${f%.c}.o"; done
  if ! ${CC:-gcc} -O1 -g -std=gnu11 -D_GNU_SOURCE $ROOM_INC -Itests "$src" $objs \
       -o "$bin" -ldw -lelf -lz -lzstd -lm -lunwind -ldl -pthread 2>"$log.err"; then
    echo "FAIL $name: does not build: $(head -c 400 "$log.err" | tr '\n' ' ')" | tee -a "$log"; continue
  fi
  run_one "$name" "$bin"
done

# info_all NAME DIR: every snapshot the script left in DIR is one `heapsnap
# info` reads (the writer never writes what the reader refuses); a case of
# its own, NAME_snapshots_read, when there is any.  For the folders whose
# tests damage no snapshot on purpose.
info_all() {
  local f bad="" n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    "$HEAPSNAP" info "$f" >/dev/null 2>"$log.info" || bad="$bad ${f##*/}: $(head -c 160 "$log.info")"
  done < <(find "$2" -name '*.hsnap' -print0)
  [ "$n" -eq 0 ] && return
  if [ -z "$bad" ]; then echo "PASS $1: ${1}_snapshots_read" | tee -a "$log"
  else echo "FAIL $1: ${1}_snapshots_read:$bad" | tee -a "$log"; fi
  rm -f "$log.info"
}

for sh in $scripts; do
  [ -e "$sh" ] || continue
  wanted "$sh" || continue
  nfiles=$((nfiles + 1)); in_tier "$sh" || continue; nran=$((nran + 1))
  name=$(basename "$sh" .sh); scratch=$(mktemp -d)
  run_one "$name" env T="$scratch" bash -c ". tests/lib.sh; . $sh"
  case "$sh" in tests/shim/leak/*) info_all "$name" "$scratch" ;; esac
  rm -rf "$scratch"
done
rm -f "$log.out" "$log.err"

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
