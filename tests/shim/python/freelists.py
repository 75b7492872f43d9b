# freelists.py - garbage whose addresses CPython's free lists still name,
# for test_python_freelists.sh: with the collector off, 80 dicts are made
# and dropped (they fill the dicts' free list), made again (the free list
# hands them out: its slots past numfree keep their addresses) and made
# cycles that are dropped; a dict that holds itself; 5 trees of 40 nodes
# with parent pointers (their lists reuse the lists' free list).  A
# snapshot (argv[1]), then what gc.collect() frees: the garbage the
# snapshot must have found.  With argv[2] "self", the last dict alone
# (the slots its memory had stay as the start-up left them).
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)  # made before: its own cycles are not this garbage
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
gc.collect()
gc.disable()


class TreeNode:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def tree(depth, fan):
    level = [TreeNode()]
    for d in range(depth):
        level = [TreeNode(n) for n in level for i in range(fan)]


def self_dicts():
    keep = [{} for i in range(80)]
    del keep
    keep = [{} for i in range(80)]  # MARK_DICTS
    for i in range(80):
        keep[i]["me"] = keep[i]


if sys.argv[2:] != ["self"]:  # "self": the self-holding dict alone
    self_dicts()
    for i in range(5):
        tree(3, 3)
d = {}
d["me"] = d
del d
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(gc.collect())
