# typesgrow.py - 500 Order objects more between two snapshots, for
# test_python_types_diff.sh: snapshots argv[1].0 and argv[1].1; prints how
# many Order objects the gc tracks at each.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Order:
    def __init__(self, i):
        self.i = i


keep = []
for k in range(2):
    keep += [Order(i) for i in range(500)]  # MARK_ORDER
    lib.heapsnap_take_snapshot(("%s.%d" % (sys.argv[1], k)).encode())
    print(sum(1 for o in gc.get_objects() if type(o) is Order))
