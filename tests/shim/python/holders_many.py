# holders_many.py - many objects held the same way (the items of a module
# dict's lists) and one held alone, for test_python_holders_grouped.sh;
# takes a snapshot (argv[1]).
import ctypes
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# The interpreter hands out dead lists again, made before the shim's wrap
# (not traced); these take them, so the lists below are new.
_drain = [[] for _ in range(100)]


class Item:
    def __init__(self, i):
        self.i = i


CACHE = {}
ONE = None


def fill():
    global ONE
    for u in range(4):
        CACHE["user%d" % u] = [Item(i) for i in range(10)]  # MARK_MANY
    ONE = Item(-1)  # MARK_ONE


fill()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
