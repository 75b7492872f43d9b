# test_state_fresh.sh - what a kill leaves of a program that went idle is
# its last state (state_beat_now): quietdoc's documents are costly (2^15
# traces), so the spacing paid for by CPU time brings the one after its
# last block seconds later; an idle beat (nothing moved, no CPU) brings it
# within a few beats.  The header says whether the document is behind
# (doc_fresh), and info says by how much.
. tests/shim/lib_kill.sh

t_build quietdoc tests/shim/quietdoc.c -O1 -fno-inline
mkfifo "$T/out" "$T/in"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/q.%p.hsnap" "$T/quietdoc" "$T/out" "$T/in" 2>"$T/q.err" &
pid=$!
st=$T/q.$pid.hsnap.state
kill_wait_fifo "$T/out" && kill_settle "$st" # a document holds the 2^15 traces
echo go >"$T/in" && kill_wait_fifo "$T/out"
b0=$(kill_beats "$st")
# 12 beats: 3 s; by the spacing on CPU time alone, not within them (3 runs of 3)
if kill_settle "$st" 12; then t_pass state_quiet_process_document_within_beats
else t_fail state_quiet_process_document_within_beats "beats $b0 -> $(kill_beats "$st"), not fresh"; fi
kill_now "$pid"
"$HEAPSNAP" info "$st" >"$T/q.info" 2>/dev/null
if grep -q "^total: *32769 allocations, 0 frees" "$T/q.info" && grep -q "^live blocks: *32769" "$T/q.info" &&
   ! grep -q "allocation totals" "$T/q.info"; then t_pass state_quiet_process_totals_are_its_last
else t_fail state_quiet_process_totals_are_its_last "$(grep -E '^(total|live blocks|state file)' "$T/q.info")"; fi

# The same file, its header saying the document is 3.2 s behind the last
# heartbeat: info says so, text and JSON; the live sums stay the cells'.
cp --sparse=always "$st" "$T/behind.state"
python3 - "$T/behind.state" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    h = bytearray(f.read(4096))
    beat = struct.unpack_from("<Q", h, 40)[0]
    slot = struct.unpack_from("<I", h, 152)[0]
    struct.pack_into("<Q", h, 104 + 24 * slot + 8, beat - 3200000000)  # doc[slot].t_ns
    struct.pack_into("<I", h, 196, 0)                                  # doc_fresh
    f.seek(0)
    f.write(h)
PY
"$HEAPSNAP" info "$T/behind.state" >"$T/b.info" 2>/dev/null
js=$("$HEAPSNAP" info --format json "$T/behind.state" 2>/dev/null | grep -o '"state_totals_behind_ms": *[0-9]*')
if grep -q "^state file: .*last update as of time above (allocation totals 3.2 s before it); " "$T/b.info" &&
   grep -q "^live blocks: *32769" "$T/b.info" && [ "$js" = '"state_totals_behind_ms": 3200' ]
then t_pass state_behind_document_said_by_info
else t_fail state_behind_document_said_by_info "$(grep '^state file' "$T/b.info") json '$js'"; fi
