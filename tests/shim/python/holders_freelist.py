# holders_freelist.py - a module's list of Items that the interpreter may
# hand out from its free list (a dead list made before the shim's wrap: no
# traced block, so the shim names its items as roots one step further,
# pyroot_container), for test_python_holders_grouped.sh; takes a snapshot
# (argv[1]).  Nothing drains the free list first (holders_many.py does).
import ctypes
import sys


class Item:
    def __init__(self, i):
        self.i = i


KEEP = [Item(i) for i in range(40)]  # MARK_KEEP
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
lib.heapsnap_take_snapshot(sys.argv[1].encode())
