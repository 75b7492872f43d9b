# retained.py - a module-level dict keeps 50 MiB alive through three
# levels of containers (list -> Holder -> list -> 50 bytes of 1 MiB); a
# snapshot is taken (argv[1]), then the dict is dropped and the bytes that
# freed, as tracemalloc measures them, are printed: what `top --retained`
# must charge to the dict's line, and (less the dict and the list) to the
# Holder instance, whose attribute lives in a __dict__ (3.10), a values
# array (3.11, 3.12) or the object itself (3.13).
import ctypes, gc, sys, tracemalloc

tracemalloc.start()
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]

# The interpreter recycles list and dict objects (and dicts' keys) from
# free lists: a recycled one keeps the line it was first allocated at, in
# tracemalloc as here.  Drain them, so the containers below are new blocks.
# (A class statement frees its namespace dict: CACHE comes first.)
_drain = [([], {}, {"k": 1}) for _ in range(200)]
CACHE = {}  # MARK_CACHE: the dict that retains them


class Holder:
    def __init__(self):
        self.blobs = []


def fill():
    level1 = []
    CACHE["rows"] = level1
    level2 = Holder()
    level1.append(level2)
    for i in range(50):
        level2.blobs.append(b"%d" % i + bytes((1 << 20) - 8))  # MARK_BLOBS


fill()
gc.collect()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
before = tracemalloc.get_traced_memory()[0]
del CACHE
gc.collect()
print(before - tracemalloc.get_traced_memory()[0])
