#!/usr/bin/env bash
# scripts/bench/reportscale.sh - what the reports cost on a snapshot of
# many distinct stacks: `top`, `top --key traceback`, `diff --key
# traceback`, `leaks --kinds all`, `gate`, and the folded and pprof exports,
# each timed by GNU time (user+sys CPU, peak RSS), medians of ROUNDS runs.
# With -o OLD, OLD's CLI runs each command beside this one, in turn, and the
# ratio new/old is printed.  The snapshot is `kept N STACKS` (the bench's
# program: N blocks kept from STACKS distinct stacks) under `run --leaks`.
#
# usage: scripts/bench/reportscale.sh [-r ROUNDS] [-o OLD_HEAPSNAP] [-i SNAP] [N STACKS]
#   defaults: 3 rounds, N 1000000, STACKS 100000; -i: a snapshot of your own
set -eu
rounds=3 old="" snap=""
while [ $# -gt 0 ]; do
  case "$1" in
    -r) rounds=$2; shift 2 ;;
    -o) old=$(readlink -f "$2"); shift 2 ;;
    -i) snap=$(readlink -f "$2"); shift 2 ;;
    *) break ;;
  esac
done
n=${1:-1000000} stacks=${2:-100000}
root=$(cd "$(dirname "$0")/../.." && pwd)
hs=$root/build/heapsnap
[ -x "$hs" ] && [ -x "$root/build/bench/kept" ] || { echo "reportscale: run make bench first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$snap" ]; then
  snap=$work/k.hsnap
  "$hs" run -q --leaks -o "$snap" -- "$root/build/bench/kept" "$n" "$stacks" >/dev/null
fi
# one: CLI ARGS... -> "CPU_SECONDS PEAK_KB" (the output to a file, then dropped)
one() {
  local cli=$1; shift
  /usr/bin/time -f '%U %S %M' -o "$work/t" "$cli" "$@" >"$work/out" 2>/dev/null || true
  awk '{ printf "%.2f %d\n", $1 + $2, $3 }' "$work/t"
  rm -f "$work/out" "$work/x"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cmds=(
  "top SNAP"
  "top SNAP --key traceback"
  "diff SNAP SNAP --key traceback"
  "leaks SNAP --kinds all"
  "gate SNAP"
  "export --format folded -o @OUT@ SNAP"
  "export --format pprof -o @OUT@ SNAP"
)
echo "snapshot: $snap ($(stat -c %s "$snap") bytes), $rounds round(s)"
printf '%-36s %10s %10s' command "CPU s" "peak MB"
[ -n "$old" ] && printf ' %10s %10s %8s' "old CPU" "old MB" "new/old"
echo
for c in "${cmds[@]}"; do
  args=${c//SNAP/$snap}
  args=${args//@OUT@/$work\/x}
  : >"$work/new" >"$work/old"
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    one "$hs" $args >>"$work/new"
    # shellcheck disable=SC2086
    [ -z "$old" ] || one "$old" $args >>"$work/old"
  done
  cpu=$(cut -d' ' -f1 "$work/new" | median) mb=$(($(cut -d' ' -f2 "$work/new" | median) / 1024))
  printf '%-36s %10s %10s' "$c" "$cpu" "$mb"
  if [ -n "$old" ]; then
    ocpu=$(cut -d' ' -f1 "$work/old" | median) omb=$(($(cut -d' ' -f2 "$work/old" | median) / 1024))
    printf ' %10s %10s %8s' "$ocpu" "$omb" "$(awk -v a="$cpu" -v b="$ocpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  fi
  echo
done
