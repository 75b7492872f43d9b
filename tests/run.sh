#!/usr/bin/env bash
# tests/run.sh - runs every test and ends with "N passed, N failed, N skipped".
#   tests/unit/*.c        built (with the report/ or shim/ objects they name in a
#                         "// link: ..." comment) and run
#   tests/*/test_*.sh     sourced-harness shell tests (see tests/lib.sh)
# Usage: tests/run.sh [PATTERN]   runs only the tests whose path contains PATTERN.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export HEAPSNAP=$PWD/$BUILD/heapsnap SHIM=$PWD/$BUILD/libheapsnap.so
pattern=${1:-}
log=$(mktemp); trap 'rm -f "$log"' EXIT
mkdir -p "$BUILD/tests"

run_one() { # name cmd...: run with a time limit, keep only the verdict lines
  local name=$1; shift
  timeout 300 "$@" >"$log.out" 2>"$log.err"; local rc=$?
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log.out"; then
    echo "FAIL exit: exited $rc: $(tail -c 300 "$log.err" | tr '\n' ' ')" >>"$log.out"
  fi
  grep -E '^(PASS|FAIL|SKIP) |^    ' "$log.out" | sed "s|^\(PASS\|FAIL\|SKIP\) |\1 $name: |" | tee -a "$log"
}

for src in tests/unit/*.c; do
  [ -e "$src" ] || continue
  case "$src" in *"$pattern"*) ;; *) continue ;; esac
  name=$(basename "$src" .c); bin=$BUILD/tests/$name
  link=$(sed -n 's|^// link: *||p' "$src" | head -1)
  objs=""; for f in $link; do objs="$objs $BUILD/obj/${f%.c}.o"; done
  if ! ${CC:-gcc} -O1 -g -std=gnu11 -D_GNU_SOURCE -Ishim -Ireport -Ireport/gate -Itests/unit "$src" $objs \
       -o "$bin" -ldw -lelf -lz -lm -lunwind -ldl -pthread 2>"$log.err"; then
    echo "FAIL $name: does not build: $(head -c 400 "$log.err" | tr '\n' ' ')" | tee -a "$log"; continue
  fi
  run_one "$name" "$bin"
done

for sh in tests/*/test_*.sh; do
  [ -e "$sh" ] || continue
  case "$sh" in *"$pattern"*) ;; *) continue ;; esac
  name=$(basename "$sh" .sh); scratch=$(mktemp -d)
  run_one "$name" env T="$scratch" bash -c ". tests/lib.sh; . $sh"
  rm -rf "$scratch"
done
rm -f "$log.out" "$log.err"

p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
