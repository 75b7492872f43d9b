#!/usr/bin/env bash
# scripts/bench/pyenvrun.sh - what `heapsnap run` adds to a pyenv-launched
# Python (issue 47 item 6): `python3 -c pass` through pyenv's bash shim, plain
# and under run, then the pieces of the difference: run without its summary
# (-q), run on the interpreter directly (no launcher), the shim alone in the
# interpreter, and the shim without Python stacks (HEAPSNAP_PYTHON=off),
# without the state file (HEAPSNAP_STATE=0) and without the object graph
# (HEAPSNAP_PYTHON_OBJECTS=0).  Medians of N runs of CPU (user + sys of the
# whole process tree, GNU time) and wall seconds, and the CPU over plain, as
# one Markdown table.  docs/python.md ("Launchers") quotes its rows.
#
# usage: scripts/bench/pyenvrun.sh [-n N] [HEAPSNAP] [PYTHON3]
#   N:        runs per row (default 7)
#   HEAPSNAP: the CLI (default build/heapsnap; its libheapsnap.so beside it)
#   PYTHON3:  the launcher (default ~/.pyenv/shims/python3)
set -eu
n=7
if [ "${1:-}" = -n ]; then n=$2; shift 2; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
hs=$(readlink -f "${1:-$root/build/heapsnap}")
shim=$(dirname "$hs")/libheapsnap.so
py=${2:-$HOME/.pyenv/shims/python3}
[ -x "$py" ] || { echo "pyenvrun: no $py (pyenv's shim)" >&2; exit 2; }
export PATH=$(dirname "$py"):$PATH
real=$("$py" -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# median CPU and wall of n runs of "$@", as "CPU WALL"
med() {
  local i
  for i in $(seq "$n"); do
    /usr/bin/time -f '%U %S %e' -o "$work/t" "$@" >/dev/null 2>&1 || true
    awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$work/t"
  done >"$work/runs"
  printf '%s %s\n' "$(cut -d' ' -f1 "$work/runs" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
    "$(cut -d' ' -f2 "$work/runs" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
}

echo "| command ($(basename "$py") -> $real, $n runs) | CPU s | wall s | CPU over plain |"
echo "|---|--:|--:|--:|"
plain=""
row() {
  local what=$1; shift
  set -- $(med "$@")
  [ -n "$plain" ] || plain=$1
  printf '| %s | %s | %s | %+.3f |\n' "$what" "$1" "$2" "$(echo "$1 - $plain" | bc -l)"
}
row "plain \`python3 -c pass\`" "$py" -c pass
row "\`heapsnap run -o py.hsnap -- python3 -c pass\`" "$hs" run -o "$work/py.hsnap" -- "$py" -c pass
row "the same, \`-q\` (no summary)" "$hs" run -q -o "$work/q.hsnap" -- "$py" -c pass
row "\`run -q\` on the interpreter (no launcher)" "$hs" run -q -o "$work/d.hsnap" -- "$real" -c pass
row "plain interpreter" "$real" -c pass
row "the shim alone in the interpreter" env LD_PRELOAD="$shim" HEAPSNAP_OUTPUT="$work/s.%p.hsnap" "$real" -c pass
row "... HEAPSNAP_PYTHON=off" env LD_PRELOAD="$shim" HEAPSNAP_OUTPUT="$work/s.%p.hsnap" HEAPSNAP_PYTHON=off "$real" -c pass
row "... HEAPSNAP_STATE=0" env LD_PRELOAD="$shim" HEAPSNAP_OUTPUT="$work/s.%p.hsnap" HEAPSNAP_STATE=0 "$real" -c pass
row "... HEAPSNAP_PYTHON_OBJECTS=0" env LD_PRELOAD="$shim" HEAPSNAP_OUTPUT="$work/s.%p.hsnap" HEAPSNAP_PYTHON_OBJECTS=0 "$real" -c pass
