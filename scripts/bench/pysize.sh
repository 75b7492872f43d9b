#!/usr/bin/env bash
# scripts/bench/pysize.sh - what a Python run's snapshot weighs (issue 32,
# item 7): `heapsnap run -- python3 -m pytest` over a project of two tiny
# tests (written to a scratch directory), then the snapshot's size on disk
# and expanded, its traces and the shim's memory (`heapsnap info`), and the
# wall time and max RSS (GNU time) of `top`, `diff` (the snapshot against
# itself), `html` and `export --format folded` over it.  Prints one
# Markdown row.
#
# usage: scripts/bench/pysize.sh [HEAPSNAP] [PYTHON]
#   HEAPSNAP: the CLI (default build/heapsnap; its libheapsnap.so beside it)
#   PYTHON:   an interpreter with pytest (default /usr/bin/python3)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
hs=$(readlink -f "${1:-$root/build/heapsnap}")
py=${2:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/test_two.py" <<'PY'
def test_one():
    assert sum(range(10)) == 45


def test_two():
    assert "a" + "b" == "ab"
PY
cd "$work"
"$hs" run -o run.%p.hsnap -- "$py" -m pytest -q -p no:cacheprovider >/dev/null
snap=$(ls run.*.hsnap | head -1)
info=$("$hs" info "$snap" 2>/dev/null)
traces=$(echo "$info" | sed -n 's/^traces: *//p')
shim=$(echo "$info" | sed -n 's/^shim memory: *\([0-9.]* [KMG]iB\).*/\1/p')
disk=$(stat -c %s "$snap")
expanded=$(echo "$info" | sed -n 's/.*compressed (zstd) from \(.*\)$/\1/p')
timed() { # wall s / max RSS MB of the CLI on its arguments
  /usr/bin/time -f '%e %M' -o time.txt "$hs" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%.1f s, %.0f MB", $1, $2 / 1024 }' time.txt
}
echo "| $(printf '%.1f' "$(echo "$disk / 1048576" | bc -l)") MB (${expanded:-not compressed}) | $traces | $shim | $(timed top "$snap") | $(timed diff "$snap" "$snap") | $(timed html "$snap" -o page.html) | $(timed export --format folded "$snap" -o folded.txt) |"
