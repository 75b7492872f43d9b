# snapblocks.py - a snapshot holds its traces as arrays, not an object per
# live block, and Snapshot.load of the .hsnap written at the same moment
# has the process's traces and statistics (test_python_snapshot_blocks.sh).
# argv 1: the .hsnap to write.
import sys

import heapsnap

heapsnap.start(int(sys.argv[2]) if sys.argv[2:] else 1)
import snapblocks_made  # noqa: E402,F401  (its blocks are since start())

before = sys.getallocatedblocks()
snap = heapsnap.take_snapshot(sys.argv[1])
objects = sys.getallocatedblocks() - before
mine = heapsnap.Filter(True, "*/snapblocks_made.py", all_frames=True)
made = snap.filter_traces([mine])
# the snapshot's Python objects: a few per traceback, none per block
print("objects per block under 1/8: %s (%d objects, %d traces, %d mine)" % (
    objects * 8 < len(snap.traces) and len(made.traces) > 30000, objects, len(snap.traces),
    len(made.traces)))
heapsnap.stop()
loaded = heapsnap.Snapshot.load(sys.argv[1]).filter_traces([mine])
same = all(made.statistics(k) == loaded.statistics(k) for k in ("lineno", "traceback",
                                                                 "filename"))
same = same and made.statistics("lineno", True) == loaded.statistics("lineno", True)
print("loaded statistics equal the process's: %s" % same)
traces = sorted((t.size, t.count, t.traceback) for t in made.traces)
print("loaded traces equal the process's, one per block: %s" % (
    traces == sorted((t.size, t.count, t.traceback) for t in loaded.traces)
    and all(t.count == 1 for t in loaded.traces)))
