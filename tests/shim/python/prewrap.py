# prewrap.py - lists the interpreter hands out from its free list, where
# dead lists made before the shim wrapped the allocator domains wait: a
# module's list KEEP of 100 lists of 1000 items each, made by
# comprehensions (each takes a list from the free list, which holds at
# most 80: every one there is handed out, those made before the wrap
# among them), for test_python_prewrap.sh.  Prints gc.get_referrers' path
# to an item (its indices written [...]), the bytes of the lists' item
# arrays, and takes a snapshot (argv[1]).
import ctypes
import sys

import refpath


class Item:
    def __init__(self, i):
        self.i = i


KEEP = [[Item(i) for i in range(1000)] for _ in range(100)]  # MARK_KEEP
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
path = refpath.path_of(KEEP[7][123], [], [])
refs = refpath.referrers(KEEP[7][123], [])  # frames aside, as path_of
assert len(refs) == 1 and refs[0] is KEEP[7], [type(r) for r in refs]
del refs
# the item arrays: getsizeof less the list object (its PyGC_Head with it)
arrays = sum(sys.getsizeof(x) - sys.getsizeof([]) for x in KEEP + [KEEP])
print(path.replace("[7]", "[...]").replace("[123]", "[...]"))
print(arrays)
lib.heapsnap_take_snapshot(sys.argv[1].encode())
