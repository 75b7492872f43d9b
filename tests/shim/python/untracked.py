# untracked.py - objects the gc does not track (str, bytes, bytearray),
# held by a module's dict, a module's list and an instance's attribute,
# made in a function, for test_python_holders_untracked.sh; prints
# whether gc tracks them (it must not), then takes a snapshot (argv[1]).
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
_drain = [[] for _ in range(100)]  # dead lists made before the wrap


class Conn:
    def __init__(self):
        self.buf = None


CACHE = {}
BLOBS = []
CONN = Conn()


def fill():
    for i in range(3):
        CACHE["s%d" % i] = ("row %d," % i) * 200  # MARK_STR
        BLOBS.append(bytes(1000 + i))  # MARK_BYTES
    CONN.buf = bytearray(3000)  # MARK_BYTEARRAY


fill()
print(gc.is_tracked(CACHE["s0"]), gc.is_tracked(BLOBS[0]), gc.is_tracked(CONN.buf))
lib.heapsnap_take_snapshot(sys.argv[1].encode())
