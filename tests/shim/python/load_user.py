# load_user.py - heapsnap.Snapshot.load reads a .hsnap back (through
# `heapsnap export --format tracemalloc`): the program's line with its
# blocks, and the traces' native frames (test_python_inproc.sh).  argv 1:
# the .hsnap to write.
import os
import sys

import heapsnap

heapsnap.start()
data = [bytes(3000) for _ in range(500)]  # MARK_DATA
heapsnap.write_snapshot(sys.argv[1])
snap = heapsnap.Snapshot.load(sys.argv[1])
for st in snap.statistics("lineno"):
    frame = st.traceback[0]
    if frame.filename == os.path.abspath(__file__) and st.count >= 500:
        print("line %d: 500 blocks or more, 1.5 MB or more: %s" % (frame.lineno, st.size >= 1500000))
print("native frames kept:", any(f[3] != "<python>" for t in snap.traces for f in t.native))
