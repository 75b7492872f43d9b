# load_user.py - heapsnap.Snapshot.load reads a .hsnap back (through
# `heapsnap export --format tracemalloc-binary`): the program's line with its
# blocks; a Python trace's native frames only with native=True (by default
# the CLI neither symbolizes nor sends them), the same statistics either
# way, the same traces as the plain lines' once a stack's are summed, and
# one trace per live block as tracemalloc has them (test_python_inproc.sh).
# argv 1: the .hsnap to write.
import collections
import ctypes
import os
import sys

import heapsnap

heapsnap.start()
data = [bytes(3000) for _ in range(500)]  # MARK_DATA
buf = ctypes.create_string_buffer(100000)  # an extension's (native) frame under the line
heapsnap.write_snapshot(sys.argv[1])
snap = heapsnap.Snapshot.load(sys.argv[1])
for st in snap.statistics("lineno"):
    frame = st.traceback[0]
    if frame.filename == os.path.abspath(__file__) and st.count >= 500:
        print("line %d: 500 blocks or more, 1.5 MB or more: %s" % (frame.lineno, st.size >= 1500000))


def native_in_python_traces(s):
    return any(f[3] != "<python>" for t in s.traces
               if any(g[3] == "<python>" for g in t.native) for f in t.native)


full = heapsnap.Snapshot.load(sys.argv[1], native=True)
print("native frames in Python traces:", native_in_python_traces(snap))
print("native frames in Python traces, native=True:", native_in_python_traces(full))
print("same statistics:", [str(s) for s in snap.statistics("lineno")]
      == [str(s) for s in full.statistics("lineno")])


def rows(s):
    """Bytes and blocks per (domain, frames, total_nframe, native)."""
    size, count = collections.Counter(), collections.Counter()
    for t in s.traces:
        k = (t.domain, t._trace[2], t._trace[3], t.native)
        size[k] += t.size
        count[k] += t.count
    return size, count


# the binary export read (tracemalloc-binary) is the plain lines' read, a
# stack's blocks summed (the plain lines have a line per stack)
lines = heapsnap._snapshot.cli_out(["export", "--format", "tracemalloc", "--python-only",
                                    os.path.abspath(sys.argv[1])])
plain = heapsnap.Snapshot(heapsnap._snapshot.traces_from_lines(lines, None), 1)
print("same traces as the plain lines:", rows(snap) == rows(plain) and len(rows(snap)[0]) > 0)
# tracemalloc's one trace a live block: as many traces as the lines' blocks,
# each of one block, and the line's 500 bytes objects 500 traces of 3000 B+
mine = [t for t in snap.traces if t.traceback[0].filename == os.path.abspath(__file__)
        and t.size >= 3000]
print("one trace per live block:", len(snap.traces) == sum(t.count for t in plain.traces)
      and all(t.count == 1 for t in snap.traces) and len(mine) >= 500)
