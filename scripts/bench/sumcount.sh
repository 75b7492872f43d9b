#!/usr/bin/env bash
# scripts/bench/sumcount.sh - the instructions of `heapsnap run`'s summary
# (issue 47 item 6): callgrind of summary_print alone, replayed through run
# itself on one snapshot (a command that only appends the snapshot's path to
# run's manifest file, without the shim), so two builds can be compared on
# the same input.  Prints the total and the inclusive counts of the parts
# docs/performance-python.md quotes.
#
# usage: scripts/bench/sumcount.sh [-i SNAP] [HEAPSNAP] [PYTHON]
#   SNAP:     the snapshot to summarize (default: one written now by
#             `run -q -- PYTHON -c pass`)
#   HEAPSNAP: the CLI (default build/heapsnap; its libheapsnap.so beside it)
#   PYTHON:   the program whose snapshot is made (default ~/.pyenv/shims/python3,
#             pyenv's launcher, else python3)
set -eu
snap=""
if [ "${1:-}" = -i ]; then snap=$(readlink -f "$2"); shift 2; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
hs=$(readlink -f "${1:-$root/build/heapsnap}")
py=${2:-$HOME/.pyenv/shims/python3}
[ -x "$py" ] || py=python3
command -v valgrind >/dev/null || { echo "sumcount: no valgrind" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$snap" ]; then
  snap=$work/in.hsnap
  "$hs" run -q -o "$snap" -- "$py" -c pass
fi
cd "$work"
valgrind --tool=callgrind --callgrind-out-file="$work/cg" --toggle-collect=summary_print \
  "$hs" run -- env -u LD_PRELOAD sh -c 'printf "%s\n" "$0" >>"$HEAPSNAP_MANIFEST"' "$snap" \
  >/dev/null 2>"$work/err"
grep -q 'heapsnap: next:' "$work/err" || { echo "sumcount: no summary:" >&2; cat "$work/err" >&2; exit 2; }
echo "summary_print: $(sed -n 's/.*Collected : //p' "$work/err") instructions ($snap)"
callgrind_annotate --inclusive=yes "$work/cg" 2>/dev/null |
  grep -E ':(snap_load_skip|snap_traces_stream|stats_add_values|frames_get|word_get|stats_sort) \[' |
  awk '{ n = $NF; if (n ~ /^\[/) n = $(NF - 1); sub(/.*:/, "", n); if (!seen[n]++) printf "  %-20s %s\n", n, $1 }'
