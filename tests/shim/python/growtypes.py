# growtypes.py - a growing heap of known types for test_python_types_views.sh:
# three steps, each adds 100 Node instances (a class of the script) and
# 100 lists of 100 ints, then a snapshot (argv[1] + ".N").  Prints what
# gc.get_objects() counts of Node, and sys.getsizeof's total over the
# lists (their headers and item arrays), at the last step.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Node:
    def __init__(self, i):
        self.i = i


nodes, lists = [], []
for step in range(3):
    nodes += [Node(i) for i in range(100)]
    lists += [list(range(100)) for i in range(100)]  # MARK_LISTS
    lib.heapsnap_take_snapshot(("%s.%d" % (sys.argv[1], step)).encode())
n = sum(1 for o in gc.get_objects() if type(o) is Node)
print("Node=%d lists=%d" % (n, sum(sys.getsizeof(x) for x in lists)))
