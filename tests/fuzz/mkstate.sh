#!/usr/bin/env bash
# tests/fuzz/mkstate.sh - makes the fuzzer's state file seeds: real state
# files (shim/state/state.c) of tests/fuzz/stateseed.c killed by SIGKILL under a
# plain preload, laid out small by tests/fuzz/statemin.py:
#   killed.state          the kill after the last sites' document (cells too)
#   killed_later.state    the same file with the document of before the last
#                         two sites (the reader adds their stacks and sums)
#   killed_nocells.state  no chunk of cells (every site reads as holding 0)
#   killed_zstd.state     killed_later with its sections compressed (format 3), as
#                         the shim stores a document of many traces
# The committed seeds came from it; run it again (after `make`) when the
# state format changes.  Usage: tests/fuzz/mkstate.sh [OUTDIR]
set -eu
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/shim/lib_kill.sh
out=${1:-tests/fuzz/corpus}
t_build stateseed tests/fuzz/stateseed.c
mkfifo "$T/fifo"
HEAPSNAP_STATE=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/s.%p.hsnap" "$T/stateseed" "$T/fifo" &
pid=$!
st=$T/s.$pid.hsnap.state
# covered: waits (15 s at most) till the document counts every stack (an
# idle program's comes within a thousand times a document's CPU time)
covered() {
  kill_settle "$st"
  for i in $(seq 300); do python3 tests/fuzz/statemin.py --covers "$st" && return; sleep 0.05; done
}
kill_wait_fifo "$T/fifo" && covered
cp "$st" "$T/early.state"
echo go >"$T/fifo"
kill_wait_fifo "$T/fifo" && covered
kill_now "$pid" || true
python3 tests/fuzz/statemin.py "$st" "$out/killed.state"
python3 tests/fuzz/statemin.py --doc-from "$T/early.state" "$st" "$out/killed_later.state"
python3 tests/fuzz/statemin.py --no-cells "$st" "$out/killed_nocells.state"
python3 tests/fuzz/statemin.py --zstd --doc-from "$T/early.state" "$st" "$out/killed_zstd.state"
for f in killed killed_later killed_nocells killed_zstd; do
  "$HEAPSNAP" top "$out/$f.state" >/dev/null || { echo "mkstate: $f.state does not load" >&2; exit 1; }
done
rm -rf "$T"
ls -l "$out"/killed*.state
