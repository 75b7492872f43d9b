# edges_numpy.py - a numpy view's base as an edge, for
# test_python_edges_numpy.sh (issue 67): a module-level list of 10
# one-item views of one array of 10000000 float64 (80 MB) that only the
# views hold.  Snapshot to argv[1]; prints the bytes tracemalloc sees
# freed when the list is dropped (numpy traces its buffers there), and 1
# when every view's .base is that array (Python's own word for the edge).
import ctypes, gc, sys, tracemalloc

tracemalloc.start()
import numpy as np

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# Lists come from a free list that keeps the line of their first life
# (tracemalloc's way too): drained, so KEEP is new.
_drain = [[] for _ in range(200)]


def make():
    base = np.ones(10_000_000)  # MARK_BASE
    views = []  # MARK_KEEP
    for i in range(10):
        views.append(base[i:i + 1])
    return views


KEEP = make()
del _drain
gc.collect()
same = all(v.base is KEEP[0].base for v in KEEP) and KEEP[0].base.nbytes == 80_000_000
lib.heapsnap_take_snapshot(sys.argv[1].encode())
before = tracemalloc.get_traced_memory()[0]
KEEP = None
gc.collect()
print(before - tracemalloc.get_traced_memory()[0], int(same))
