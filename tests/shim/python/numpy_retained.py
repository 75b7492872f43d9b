# numpy_retained.py - numpy arrays' buffers under `top --retained`, for
# test_python_numpy_retained.sh: 10 arrays of 100000 float64 in a
# module-level list (each retains its 800000-byte buffer), 10 views of
# them (they retain no buffer: NPY_ARRAY_OWNDATA clear), and a
# module-level dict that keeps 8 arrays of 200000 float64 alive through
# three levels of containers (list -> Holder -> list); a module-level
# list of 6 views whose bases (50000 float64 each) only the views hold.
# Snapshot to argv[1]; prints the bytes the arrays' and the cache's
# buffers hold, what dropping the dict frees as tracemalloc measures it
# (numpy traces its buffers there), and the viewed bases' bytes.
import ctypes, gc, sys, tracemalloc

tracemalloc.start()
import numpy as np

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]

# Lists and dicts come from free lists that keep the line of their first
# life (tracemalloc's way too): drained, so the containers below are new.
_drain = [([], {}, {"k": 1}) for _ in range(200)]
CACHE = {}  # MARK_CACHE: the dict that retains its arrays


class Holder:
    def __init__(self):
        self.arrays = []


def fill():
    level1 = []
    CACHE["rows"] = level1
    level2 = Holder()
    level1.append(level2)
    for _ in range(8):
        level2.arrays.append(np.arange(200000.0))  # MARK_CACHED


def viewed():
    out = []  # MARK_VIEWED: views whose bases only they hold
    for _ in range(6):
        base = np.arange(50000.0)
        out.append(base[::2])
    return out


VIEWED = viewed()
arrs = [np.arange(100000.0) for _ in range(10)]  # MARK_ARRAYS
views = [a[:] for a in arrs]  # MARK_VIEWS
fill()
gc.collect()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
before = tracemalloc.get_traced_memory()[0]
cached = sum(a.nbytes for a in CACHE["rows"][0].arrays)
del CACHE
gc.collect()
print(sum(a.nbytes for a in arrs), cached, before - tracemalloc.get_traced_memory()[0],
      sum(v.base.nbytes for v in VIEWED))
