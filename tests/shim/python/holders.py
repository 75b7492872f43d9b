# holders.py - objects held by a module's list and, through a dict and an
# instance, by a module's dict, for test_python_holders.sh; prints the
# types gc.get_referrers() names for REGISTRY[3] and for the Item in
# Result.data, then takes a snapshot (argv[1]).
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# The interpreter hands out up to 80 dead lists again, made before the
# shim's wrap (not traced); these take them, so the lists below are new.
_drain = [[] for _ in range(100)]


class Item:
    def __init__(self, i):
        self.i = i


class Result:
    def __init__(self):
        self.data = []


REGISTRY = []
CACHE = {}


def fill():
    for i in range(5):
        REGISTRY.append(Item(i))  # MARK_ITEM
    r = Result()
    r.data.append(Item(99))  # MARK_DATA
    CACHE["user42"] = r


def referrers(o):
    names = sorted(type(r).__name__ for r in gc.get_referrers(o))
    print(" ".join(n for n in names if n != "frame"))  # the caller's own


fill()
referrers(REGISTRY[3])
referrers(CACHE["user42"].data[0])
lib.heapsnap_take_snapshot(sys.argv[1].encode())
