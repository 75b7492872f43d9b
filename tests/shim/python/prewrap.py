# prewrap.py - a module's list that the interpreter hands out from its free
# list, where a dead list made before the shim wrapped the allocator
# domains waits (a list comprehension's list: the first list made after
# start-up), holding more items (70000) than the roots name one step past
# a container no object of the graph (pyroot_container's 65536), for
# test_python_prewrap.sh.  Prints gc.get_referrers' path to an item (its
# index written [...]), the bytes of the list's item array, and takes a
# snapshot (argv[1]).
import ctypes
import gc
import sys

import refpath


class Item:
    def __init__(self, i):
        self.i = i


KEEP = [Item(i) for i in range(70000)]  # MARK_KEEP
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
path = refpath.path_of(KEEP[123], [], [])
refs = refpath.referrers(KEEP[123], [])  # frames aside, as path_of
assert len(refs) == 1 and refs[0] is KEEP, [type(r) for r in refs]
# the item array: getsizeof less the list object (its PyGC_Head with it)
items = sys.getsizeof(KEEP) - sys.getsizeof([])
print(path.replace("[123]", "[...]"))
print(items)
lib.heapsnap_take_snapshot(sys.argv[1].encode())
